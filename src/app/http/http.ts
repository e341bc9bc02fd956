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

const METHODS = ['GET', 'POST', 'HEAD', 'PUT', 'DELETE', 'OPTIONS', 'CONNECT', 'PATCH', 'TRACE', 'PROPFIND'];
/** Request heads larger than this are not waited for (servers commonly refuse beyond 8 KiB). */
export const MAX_HTTP_HEAD = 8192;
const MAX_HEADERS = 100;

/** Cheap first-bytes check: an upper-case method and a space (found by content, on any port). */
export function looksLikeHttpRequest(b: Uint8Array, off: number, end: number): boolean {
  if (end - off < 4) return false;
  const c = b[off];
  // G P H D O C T: the first letters of the methods above.
  if (c !== 0x47 && c !== 0x50 && c !== 0x48 && c !== 0x44 && c !== 0x4f && c !== 0x43 && c !== 0x54) return false;
  for (const m of METHODS) {
    if (end - off < m.length + 1) continue;
    let ok = b[off + m.length] === 0x20;
    for (let i = 0; ok && i < m.length; i++) ok = b[off + i] === m.charCodeAt(i);
    if (ok) return true;
  }
  return false;
}

/**
 * Searches in this file stop at the end they are given. b is usually the whole read window, packets after this
 * one included: Buffer's indexOf would run on through them (~400 µs a head of 99 lines without a ':').
 */
function indexOfCrlf(b: Uint8Array, from: number, end: number): number {
  for (let i = from; i + 1 < end; i++) if (b[i] === 0x0d && b[i + 1] === 0x0a) return i;
  return -1;
}

function indexOfByte(b: Uint8Array, c: number, from: number, end: number): number {
  for (let i = from; i < end; i++) if (b[i] === c) return i;
  return -1;
}

function latin1(b: Uint8Array, from: number, to: number): string {
  return Buffer.from(b.buffer, b.byteOffset + from, to - from).toString('latin1');
}

/**
 * Parses the request line and headers at b[off, end). need-more while the head is incomplete and shorter than
 * MAX_HTTP_HEAD; not-http when the bytes are not an HTTP/1.x request. A head cut at MAX_HTTP_HEAD is reported with
 * what it has (the Host header is nearly always early). Never throws.
 */
export function parseHttpRequest(b: Uint8Array, off: number, end: number): HttpResult {
  if (!looksLikeHttpRequest(b, off, end)) return { kind: 'not-http' };
  const limit = Math.min(end, off + MAX_HTTP_HEAD);
  const lineEnd = indexOfCrlf(b, off, limit);
  if (lineEnd < 0) return limit - off >= MAX_HTTP_HEAD ? { kind: 'not-http' } : { kind: 'need-more' };
  const line = latin1(b, off, lineEnd);
  const m = /^([A-Z]+) (\S+) (HTTP\/\d\.\d)$/.exec(line);
  if (m === null) return { kind: 'not-http' };
  const req: HttpRequest = { method: m[1], path: m[2], version: m[3], host: '', hostPort: -1, userAgent: '' };
  let p = lineEnd + 2;
  for (let n = 0; n < MAX_HEADERS; n++) {
    const e = indexOfCrlf(b, p, limit);
    if (e < 0) {
      if (limit - off >= MAX_HTTP_HEAD) return { kind: 'request', request: req, consumed: limit - off };
      return { kind: 'need-more' };
    }
    if (e === p) return { kind: 'request', request: req, consumed: e + 2 - off };
    const colon = indexOfByte(b, 0x3a, p, e);
    if (colon > p) {
      const name = latin1(b, p, colon).toLowerCase();
      if (name === 'host' || name === 'user-agent') {
        const value = latin1(b, colon + 1, e).trim();
        if (name === 'host') setHost(req, value);
        else req.userAgent = value;
      }
    }
    p = e + 2;
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
