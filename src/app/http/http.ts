import { latin1 } from '../../capture/bytes';

/** The facts of an HTTP/1.x request head that picket reports; strings are built only for requests. */
export interface HttpRequest {
  method: string;
  path: string;
  version: string;
  /** Host header without port, lower-cased; IP literals kept as written (IPv6 without brackets); '' when absent. */
  host: string;
  hostPort: number; // -1 when the Host header has no port
  userAgent: string; // '' when absent
}

export type HttpResult =
  | { kind: 'request'; request: HttpRequest; consumed: number }
  | { kind: 'need-more' }
  | { kind: 'not-http' };

/** Request heads larger than this are not waited for (servers commonly refuse beyond 8 KiB). */
export const MAX_HTTP_HEAD = 8192;
const MAX_HEADERS = 100;
/**
 * The longest method the probe accepts. RFC 9110 9.1 allows any token; the longest in IANA's method registry is
 * UPDATEREDIRECTREF (17, RFC 4437). A bound keeps the probe cheap on every TCP flow's first bytes.
 */
export const MAX_METHOD = 17;

/** RFC 9110 5.6.2 tchar: "!#$%&'*+-.^_`|~", digits and letters; one table lookup per byte. */
const TCHAR = (() => {
  const t = new Uint8Array(256);
  for (const c of "!#$%&'*+-.^_`|~") t[c.charCodeAt(0)] = 1;
  for (let c = 0x30; c <= 0x39; c++) t[c] = 1;
  for (let c = 0x41; c <= 0x5a; c++) t[c] = 1;
  for (let c = 0x61; c <= 0x7a; c++) t[c] = 1;
  return t;
})();

/**
 * Cheap first-bytes check (found by content, on any port): a method token of 1 to MAX_METHOD tchars and a space
 * (RFC 9112 3: method SP request-target SP HTTP-version). Any token, not a fixed list: servers accept extension
 * methods (WebDAV's, PURGE, custom ones), and so do the tools that send them. At most MAX_METHOD + 1 bytes read.
 */
export function looksLikeHttpRequest(b: Uint8Array, off: number, end: number): boolean {
  const stop = Math.min(end, off + MAX_METHOD + 1);
  for (let i = off; i < stop; i++) {
    const c = b[i];
    if (c === 0x20) return i > off;
    if (TCHAR[c] === 0) return false;
  }
  return false;
}

/**
 * Searches in this file stop at the end they are given. b is usually the whole read window, packets after this
 * one included: Buffer's indexOf would run on through them (~400 µs a head of 99 lines without a ':').
 */
function indexOfLf(b: Uint8Array, from: number, end: number): number {
  for (let i = from; i < end; i++) if (b[i] === 0x0a) return i;
  return -1;
}

/** The end of the line whose LF is at lf, without a CR before it (never before from). */
function lineEnd(b: Uint8Array, from: number, lf: number): number {
  return lf > from && b[lf - 1] === 0x0d ? lf - 1 : lf;
}

function indexOfByte(b: Uint8Array, c: number, from: number, end: number): number {
  for (let i = from; i < end; i++) if (b[i] === c) return i;
  return -1;
}

/** Whether b[from, to) is `lower` (lower-case ASCII) in any ASCII case, as toLowerCase() would compare it. */
function nameIs(b: Uint8Array, from: number, to: number, lower: string): boolean {
  if (to - from !== lower.length) return false;
  for (let i = 0; i < lower.length; i++) {
    let c = b[from + i];
    if (c >= 0x41 && c <= 0x5a) c |= 0x20;
    if (c !== lower.charCodeAt(i)) return false;
  }
  return true;
}

/** Bytes that are white space once read as latin1 (what a regular expression's \\s matches in that range). */
function isLatin1Space(c: number): boolean {
  return c === 0x20 || (c >= 0x09 && c <= 0x0d) || c === 0xa0;
}

/**
 * RFC 9112 3: method (a token of 1 to MAX_METHOD tchars, as the probe bounds it) SP request-target (no white space)
 * SP HTTP-version ("HTTP/" DIGIT "." DIGIT), the whole line b[from, to). Strings only for a line that is one.
 */
function parseRequestLine(b: Uint8Array, from: number, to: number): { method: string; path: string; version: string } | null {
  let i = from;
  while (i < to && i - from <= MAX_METHOD && TCHAR[b[i]] === 1) i++;
  if (i === from || i - from > MAX_METHOD || i >= to || b[i] !== 0x20) return null;
  const pathAt = ++i;
  while (i < to && !isLatin1Space(b[i])) i++;
  if (i === pathAt || i >= to || b[i] !== 0x20) return null;
  const v = i + 1;
  // "HTTP/" exactly (upper case, as the grammar has it), a digit, ".", a digit, and the end of the line.
  if (to - v !== 8 || b[v] !== 0x48 || b[v + 1] !== 0x54 || b[v + 2] !== 0x54 || b[v + 3] !== 0x50 || b[v + 4] !== 0x2f) return null;
  if (!isDigit(b[v + 5]) || b[v + 6] !== 0x2e || !isDigit(b[v + 7])) return null;
  return { method: latin1(b, from, pathAt - 1), path: latin1(b, pathAt, i), version: latin1(b, v, to) };
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/**
 * Parses the request line and headers at b[off, end). need-more while the head is incomplete and shorter than
 * MAX_HTTP_HEAD; not-http when the bytes are not an HTTP/1.x request. A head cut at MAX_HTTP_HEAD is reported with
 * what it has (the Host header is nearly always early). Lines end in CRLF or in a bare LF: RFC 9112 2.2 lets a
 * recipient accept a lone LF, and nginx, Apache and Python's http.server do, so requests written that way (printf
 * into nc, hand-made scanners) reach the server and must be read. Never throws.
 */
export function parseHttpRequest(b: Uint8Array, off: number, end: number): HttpResult {
  if (!looksLikeHttpRequest(b, off, end)) return { kind: 'not-http' };
  const limit = Math.min(end, off + MAX_HTTP_HEAD);
  const lf = indexOfLf(b, off, limit);
  if (lf < 0) return limit - off >= MAX_HTTP_HEAD ? { kind: 'not-http' } : { kind: 'need-more' };
  const m = parseRequestLine(b, off, lineEnd(b, off, lf));
  if (m === null) return { kind: 'not-http' };
  const req: HttpRequest = { method: m.method, path: m.path, version: m.version, host: '', hostPort: -1, userAgent: '' };
  let p = lf + 1;
  for (let n = 0; n < MAX_HEADERS; n++) {
    const nl = indexOfLf(b, p, limit);
    if (nl < 0) {
      if (limit - off >= MAX_HTTP_HEAD) return { kind: 'request', request: req, consumed: limit - off };
      return { kind: 'need-more' };
    }
    const e = lineEnd(b, p, nl);
    if (e === p) return { kind: 'request', request: req, consumed: nl + 1 - off };
    // Bounded by the line: the ':' of a later line must not be taken for this one's.
    const colon = indexOfByte(b, 0x3a, p, e);
    if (colon > p) {
      // Names are compared in place: making a string of each (99 of them) cost ~20 µs a head.
      const host = nameIs(b, p, colon, 'host');
      if (host || nameIs(b, p, colon, 'user-agent')) {
        const value = latin1(b, colon + 1, e).trim();
        if (host) setHost(req, value);
        else req.userAgent = value;
      }
    }
    p = nl + 1;
  }
  return { kind: 'request', request: req, consumed: p - off };
}

/** "Example.COM:8080" -> example.com and 8080; "[2001:db8::1]:80" -> 2001:db8::1 and 80; a trailing dot dropped. */
function setHost(req: HttpRequest, value: string): void {
  let host = value;
  let port = -1;
  if (host.startsWith('[')) {
    const close = host.indexOf(']');
    if (close > 0) {
      if (host[close + 1] === ':') port = Number(host.slice(close + 2));
      host = host.slice(1, close);
    }
  } else {
    const colon = host.lastIndexOf(':');
    if (colon >= 0 && host.indexOf(':') === colon) {
      port = Number(host.slice(colon + 1));
      host = host.slice(0, colon);
    }
  }
  host = host.toLowerCase();
  if (host.endsWith('.')) host = host.slice(0, -1);
  req.host = host;
  req.hostPort = Number.isInteger(port) && port >= 0 && port <= 65535 ? port : -1;
}
