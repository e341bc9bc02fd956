import { createHash } from 'node:crypto';
import { u16be } from '../../capture/bytes';

/**
 * TLS ClientHello parsing and the JA4 client fingerprint.
 *
 * JA4 is FoxIO's (BSD 3-Clause; https://github.com/FoxIO-LLC/ja4, technical_details/JA4.md). Where the written
 * spec and FoxIO's implementations differ, the choice made here is said where it is made.
 */
export interface ClientHello {
  /** Highest of supported_versions (GREASE ignored), else legacy_version; e.g. 0x0304 */
  version: number;
  legacyVersion: number;
  /** First host_name of server_name, lower-cased, no trailing dot; null when absent. */
  sni: string | null;
  /** Protocol names in order (latin1: one character per byte, as the names are opaque bytes). */
  alpn: string[];
  /** GREASE removed. */
  supportedVersions: number[];
  /** In wire order, GREASE removed. */
  ciphers: number[];
  /** Types in wire order, GREASE removed. */
  extensions: number[];
  /** Wire order, GREASE removed (FoxIO's implementations drop GREASE here too: their sigalg-grease test capture). */
  signatureAlgorithms: number[];
  /** An encrypted_client_hello extension is offered (the SNI is then the public outer name). */
  ech: boolean;
  /** FoxIO JA4 (TLS client), computed with the given transport (t TCP, q QUIC, d DTLS), on first read. */
  ja4: string;
  /** JA4_r raw (unhashed) form. */
  ja4_r: string;
}

export type HelloResult =
  | { kind: 'hello'; hello: ClientHello; consumed: number }
  | { kind: 'need-more'; need: number }
  | { kind: 'not-tls' };

/** Largest ClientHello body accepted (64 KiB); real ones are a few hundred bytes, post-quantum ones under 2 KiB. */
export const MAX_CLIENT_HELLO = 65536;
/**
 * Most stream bytes parseTlsClientStream will ask for: the largest hello plus as much again for record headers.
 * That leaves room for a hello cut into one-byte records (a known trick against SNI filters) without letting a
 * stream make the caller buffer without bound.
 */
export const MAX_TLS_STREAM = 2 * MAX_CLIENT_HELLO;

const CT_HANDSHAKE = 22;
const HS_CLIENT_HELLO = 1;
const TLS_RECORD_HEADER = 5;
const DTLS_RECORD_HEADER = 13;
const HS_HEADER = 4;
const DTLS_HS_HEADER = 12;
/** RFC 8446 5.1 / RFC 5246 6.2.1: a plaintext record carries at most 2^14 bytes. */
const MAX_RECORD = 16384;
/** version(2) + random(32) + session id length(1) after the 4-byte handshake header: what a prefix is checked on. */
const PREFIX = HS_HEADER + 35;

/** encrypted_client_hello (draft-ietf-tls-esni): the SNI beside it is the public outer name. */
const TLS_EXT_ECH = 0xfe0d;
const EXT_SERVER_NAME = 0x0000;
const EXT_SIGNATURE_ALGORITHMS = 0x000d;
const EXT_ALPN = 0x0010;
const EXT_SUPPORTED_VERSIONS = 0x002b;

const NOT_TLS: HelloResult = { kind: 'not-tls' };

/** RFC 8701 GREASE: 0x0a0a, 0x1a1a, ... 0xfafa. */
function isGrease(v: number): boolean {
  return (v & 0x0f0f) === 0x0a0a && v >> 8 === (v & 0xff);
}

function u24be(b: Uint8Array, p: number): number {
  return (b[p] << 16) | (b[p + 1] << 8) | b[p + 2];
}

/**
 * Cheap first-bytes check for the hot path: may this TCP payload start a TLS handshake? Content type 22, record
 * version 0x0300..0x0304, and, when visible, a record length a handshake record can have and handshake type 1.
 */
export function looksLikeTlsClientHello(b: Uint8Array, off: number, end: number): boolean {
  if (end > b.length) end = b.length;
  const n = end - off;
  if (off < 0 || n < 1 || b[off] !== CT_HANDSHAKE) return false;
  if (n >= 2 && b[off + 1] !== 3) return false;
  if (n >= 3 && b[off + 2] > 4) return false;
  if (n >= 5) {
    const len = u16be(b, off + 3);
    if (len === 0 || len > MAX_RECORD) return false;
  }
  return n < 6 || b[off + 5] === HS_CLIENT_HELLO;
}

/**
 * Parses the start of a TCP client byte stream: one or more TLS records (content type 22) carrying ONE ClientHello
 * handshake message, which may be fragmented across several records (RFC 8446 5.1). With transport 'd' the bytes
 * are DTLS records (13-byte headers) whose handshake fragments (12-byte headers, RFC 6347 4.2.2) are put back
 * together; fragments must come in order (a gap is not waited for). Bounds-checked, never throws.
 * `consumed` ends with the record that completed the hello; `need` counts stream bytes from off and is always
 * more than end - off.
 */
export function parseTlsClientStream(b: Uint8Array, off: number, end: number, transport: 't' | 'd'): HelloResult {
  if (end > b.length) end = b.length;
  if (off < 0 || off > end) return NOT_TLS;
  return transport === 'd' ? parseDtlsStream(b, off, end) : parseTcpStream(b, off, end);
}

/** The first PREFIX bytes of the handshake message, gathered across records (module scratch: no allocation). */
const prefix = new Uint8Array(PREFIX);

function parseTcpStream(b: Uint8Array, off: number, end: number): HelloResult {
  // Pass 1: walk the records, checking framing and the start of the message, until the message is complete.
  let p = off;
  let got = 0; // handshake bytes seen (whole records), the header included
  let total = -1; // header + body of the message, once its header has been seen
  for (;;) {
    if (p + TLS_RECORD_HEADER > end) {
      if (!tlsRecordPrefixOk(b, p, end)) return NOT_TLS;
      // At least the next header and what is still missing of the message (or of its header).
      return needMore(off, end, p + TLS_RECORD_HEADER + (total >= 0 ? total - got : HS_HEADER - got));
    }
    if (b[p] !== CT_HANDSHAKE || b[p + 1] !== 3 || b[p + 2] > 4) return NOT_TLS;
    const len = u16be(b, p + 3);
    // Zero-length handshake fragments are forbidden (RFC 8446 5.1); longer than 2^14 is record_overflow.
    if (len === 0 || len > MAX_RECORD) return NOT_TLS;
    const body = p + TLS_RECORD_HEADER;
    const recEnd = body + len;
    const avail = recEnd < end ? recEnd : end;
    for (let q = body; q < avail && got + (q - body) < PREFIX; q++) prefix[got + (q - body)] = b[q];
    const seen = got + (avail - body);
    if (!prefixOk(prefix, 0, seen < PREFIX ? seen : PREFIX, false)) return NOT_TLS;
    if (total < 0 && seen >= HS_HEADER) total = HS_HEADER + u24be(prefix, 1);
    if (avail < recEnd) {
      // This record is cut: it is needed whole, and then whatever of the message it cannot hold, in a next record.
      let after = 0;
      if (total >= 0 && got + len < total) after = TLS_RECORD_HEADER + total - got - len;
      else if (total < 0 && got + len < HS_HEADER) after = TLS_RECORD_HEADER + HS_HEADER - got - len;
      return needMore(off, end, recEnd + after);
    }
    got += len;
    p = recEnd;
    if (total >= 0 && got >= total) break;
    if (p - off > MAX_TLS_STREAM) return NOT_TLS;
  }
  // Pass 2: the message lies in b, in one record (parsed in place) or across several (copied together once).
  const firstLen = u16be(b, off + 3);
  let hello: ClientHello | null;
  if (firstLen >= total) {
    hello = parseHelloBody(b, off + TLS_RECORD_HEADER + HS_HEADER, off + TLS_RECORD_HEADER + total, false, 't');
  } else {
    const msg = Buffer.allocUnsafe(total);
    let have = 0;
    for (let q = off; have < total;) {
      const len = u16be(b, q + 3);
      const take = len < total - have ? len : total - have;
      msg.set(b.subarray(q + TLS_RECORD_HEADER, q + TLS_RECORD_HEADER + take), have);
      have += take;
      q += TLS_RECORD_HEADER + len;
    }
    hello = parseHelloBody(msg, HS_HEADER, total, false, 't');
  }
  return hello === null ? NOT_TLS : { kind: 'hello', hello, consumed: p - off };
}

function parseDtlsStream(b: Uint8Array, off: number, end: number): HelloResult {
  let p = off;
  let total = -1; // body length of the message, once its first fragment has been seen
  let seq = -1;
  let filled = 0; // body bytes in order from 0
  let msg: Buffer | null = null;
  for (;;) {
    if (p + DTLS_RECORD_HEADER > end) {
      if (!dtlsRecordPrefixOk(b, p, end)) return NOT_TLS;
      const missing = total >= 0 ? total - filled : 0;
      return needMore(off, end, p + DTLS_RECORD_HEADER + DTLS_HS_HEADER + missing);
    }
    if (!dtlsRecordPrefixOk(b, p, p + DTLS_RECORD_HEADER)) return NOT_TLS;
    const len = u16be(b, p + 11);
    const body = p + DTLS_RECORD_HEADER;
    const recEnd = body + len;
    if (recEnd > end) {
      // A cut record (only when datagrams were put together): its first fragment must still be a ClientHello.
      if (body < end && b[body] !== HS_CLIENT_HELLO) return NOT_TLS;
      return needMore(off, end, recEnd);
    }
    for (let q = body; q < recEnd;) {
      if (q + DTLS_HS_HEADER > recEnd || b[q] !== HS_CLIENT_HELLO) return NOT_TLS;
      const mlen = u24be(b, q + 1);
      const mseq = u16be(b, q + 4);
      const foff = u24be(b, q + 6);
      const flen = u24be(b, q + 9);
      const frag = q + DTLS_HS_HEADER;
      if (mlen > MAX_CLIENT_HELLO || foff + flen > mlen || frag + flen > recEnd) return NOT_TLS;
      if (msg === null) {
        total = mlen;
        seq = mseq;
        msg = Buffer.alloc(mlen);
      } else if (mlen !== total || mseq !== seq) {
        return NOT_TLS; // a client's first flight is the ClientHello alone
      }
      if (foff > filled) return NOT_TLS; // out of order: not reassembled here
      if (foff + flen > filled) {
        msg.set(b.subarray(frag + (filled - foff), frag + flen), filled);
        filled = foff + flen;
      }
      q = frag + flen;
    }
    p = recEnd;
    if (msg !== null && filled >= 2 && msg[0] !== 0xfe) return NOT_TLS; // DTLS client_version is 0xfeXX
    if (msg !== null && filled >= total) {
      const hello = parseHelloBody(msg, 0, total, true, 'd');
      return hello === null ? NOT_TLS : { kind: 'hello', hello, consumed: p - off };
    }
    if (p - off > MAX_TLS_STREAM) return NOT_TLS;
  }
}

/** TLS record header bytes visible in b[p, end) (fewer than 5): handshake type, version 0x0300..0x0304. */
function tlsRecordPrefixOk(b: Uint8Array, p: number, end: number): boolean {
  const n = end - p;
  if (n >= 1 && b[p] !== CT_HANDSHAKE) return false;
  if (n >= 2 && b[p + 1] !== 3) return false;
  return n < 3 || b[p + 2] <= 4;
}

/** DTLS record header bytes visible in b[p, end): handshake type, version 0xfeff/0xfefd/0xfefc, plausible length. */
function dtlsRecordPrefixOk(b: Uint8Array, p: number, end: number): boolean {
  const n = end - p;
  if (n >= 1 && b[p] !== CT_HANDSHAKE) return false;
  if (n >= 2 && b[p + 1] !== 0xfe) return false;
  if (n >= 3 && b[p + 2] < 0xfc) return false;
  if (n >= 13) {
    const len = u16be(b, p + 11);
    if (len === 0 || len > MAX_RECORD) return false;
  }
  return true;
}

/**
 * Parses a bare handshake message (type 1, 3-byte length, body), as QUIC CRYPTO frames carry it. With transport
 * 'd' the header is the same 4 bytes (a caller that put DTLS fragments together drops message_seq and the
 * fragment fields) and the body is a DTLS ClientHello, which has a cookie after the session id.
 */
export function parseClientHelloMessage(b: Uint8Array, off: number, end: number, transport: 't' | 'q' | 'd'): HelloResult {
  if (end > b.length) end = b.length;
  if (off < 0 || off > end) return NOT_TLS;
  const n = end - off;
  const dtls = transport === 'd';
  if (!prefixOk(b, off, n < PREFIX ? n : PREFIX, dtls)) return NOT_TLS;
  if (n < HS_HEADER) return needMore(off, end, off + HS_HEADER);
  const total = HS_HEADER + u24be(b, off + 1);
  if (n < total) return needMore(off, end, off + total);
  const hello = parseHelloBody(b, off + HS_HEADER, off + total, dtls, transport);
  return hello === null ? NOT_TLS : { kind: 'hello', hello, consumed: total };
}

/** The first n bytes of a handshake message at m[p]: ClientHello type, length cap, client version, session id cap. */
function prefixOk(m: Uint8Array, p: number, n: number, dtls: boolean): boolean {
  if (n >= 1 && m[p] !== HS_CLIENT_HELLO) return false;
  if (n >= HS_HEADER && u24be(m, p + 1) > MAX_CLIENT_HELLO) return false;
  if (n >= HS_HEADER + 1 && m[p + HS_HEADER] !== (dtls ? 0xfe : 3)) return false;
  if (n >= PREFIX && m[p + PREFIX - 1] > 32) return false;
  return true;
}

function needMore(off: number, end: number, needEnd: number): HelloResult {
  const need = needEnd - off;
  if (need > MAX_TLS_STREAM) return NOT_TLS;
  return { kind: 'need-more', need: need > end - off ? need : end - off + 1 };
}

/**
 * Parses a ClientHello body m[p, end) (RFC 8446 4.1.2; RFC 6347 4.2.1 adds the DTLS cookie). The framing must be
 * exact (every length inside its parent, the extensions ending the body), or it is not a ClientHello: that keeps
 * other protocols that happen to start with 0x16 0x03 out. The contents of the four extensions read here are
 * read leniently: a malformed one leaves its field empty, and still counts as an extension for JA4.
 */
function parseHelloBody(m: Uint8Array, p: number, end: number, dtls: boolean, transport: 't' | 'q' | 'd'): ClientHello | null {
  if (end - p < 2 + 32 + 1) return null;
  const legacyVersion = u16be(m, p);
  if (m[p] !== (dtls ? 0xfe : 3)) return null;
  p += 2 + 32;
  const sidLen = m[p++];
  if (sidLen > 32) return null;
  p += sidLen;
  if (dtls) {
    if (p >= end) return null;
    p += 1 + m[p];
  }
  if (p + 2 > end) return null;
  const cipherLen = u16be(m, p);
  p += 2;
  if (cipherLen === 0 || (cipherLen & 1) !== 0 || p + cipherLen > end) return null;
  const ciphersAt = p - 2;
  p += cipherLen;
  if (p >= end) return null;
  const compLen = m[p++];
  if (compLen === 0 || p + compLen > end) return null;
  p += compLen;
  // TLS 1.2 and older may end the hello right after the compression methods (RFC 5246 7.4.1.2).
  if (p < end && (p + 2 > end || p + 2 + u16be(m, p) !== end)) return null;
  const first = readExtensions(m, p, end, null);
  if (first === null) return null;
  return new WireHello(m, legacyVersion, ciphersAt, p, end, transport, first.sni, first.ech);
}

/** What the extension block says; lists only when they are collected (the full read of a hello). */
interface ExtensionFacts {
  sni: string | null;
  sniPresent: boolean;
  ech: boolean;
  extensions: number[];
  alpn: string[];
  sigalgs: number[];
  versions: number[];
}

function noFacts(): ExtensionFacts {
  return { sni: null, sniPresent: false, ech: false, extensions: [], alpn: [], sigalgs: [], versions: [] };
}

/** The first read's answer, read by the caller at once (its lists stay empty). */
const FIRST_READ = noFacts();

/**
 * Walks the extension block m[p, end) (p = end: none), checking its framing. Without `into` it reads only the server
 * name and whether ECH is offered (what every hello needs, allocating nothing else); with it, every list JA4 and the
 * observation need. Null when the framing is broken.
 */
function readExtensions(m: Uint8Array, p: number, end: number, into: ExtensionFacts | null): ExtensionFacts | null {
  const f = into ?? FIRST_READ;
  f.sni = null;
  f.sniPresent = f.ech = false;
  // Duplicates are illegal (RFC 8446 4.2): the first of each extension read here is the one read.
  let seen = 0;
  for (p += p < end ? 2 : 0; p < end;) {
    if (p + 4 > end) return null;
    const type = u16be(m, p);
    const len = u16be(m, p + 2);
    const data = p + 4;
    p = data + len;
    if (p > end) return null;
    if (isGrease(type)) continue;
    if (type === TLS_EXT_ECH) f.ech = true;
    if (into !== null) into.extensions.push(type);
    const bit = type === EXT_SERVER_NAME ? 1 : type === EXT_ALPN ? 2 : type === EXT_SIGNATURE_ALGORITHMS ? 4 : type === EXT_SUPPORTED_VERSIONS ? 8 : 0;
    if (bit === 0 || (seen & bit) !== 0) continue;
    seen |= bit;
    if (bit === 1) {
      f.sniPresent = true;
      f.sni = readServerName(m, data, p);
    } else if (into !== null) {
      if (bit === 2) into.alpn = readAlpn(m, data, p);
      else if (bit === 4) into.sigalgs = readU16List(m, data, p, 2);
      else into.versions = readU16List(m, data, p, 1);
    }
  }
  return f;
}

/**
 * A ClientHello whose framing was checked and whose server name was read; the rest (lists, version, JA4) is read
 * from the message bytes when first asked for. Most hellos are only matched on their name and never asked:
 * reading them whole made every TLS connection allocate its lists and a closure. The bytes must not change before
 * then: the engine's observation reads what it needs at once, while the packet is current.
 */
class WireHello implements ClientHello {
  private facts: ExtensionFacts | null = null;
  private fingerprint: { ja4: string; ja4_r: string } | null = null;
  private ciphersRead: number[] | null = null;

  /** ciphersAt: the cipher suites' 2-byte length, checked to lie inside the body; extAt..extEnd: the extension block. */
  constructor(
    private readonly m: Uint8Array, readonly legacyVersion: number, private readonly ciphersAt: number,
    private readonly extAt: number, private readonly extEnd: number, private readonly transport: 't' | 'q' | 'd', readonly sni: string | null, readonly ech: boolean,
  ) {}

  private full(): ExtensionFacts {
    this.facts ??= readExtensions(this.m, this.extAt, this.extEnd, noFacts())!;
    return this.facts;
  }

  get ciphers(): number[] {
    this.ciphersRead ??= readU16List(this.m, this.ciphersAt, this.extAt, 2);
    return this.ciphersRead;
  }

  get extensions(): number[] {
    return this.full().extensions;
  }

  get alpn(): string[] {
    return this.full().alpn;
  }

  get signatureAlgorithms(): number[] {
    return this.full().sigalgs;
  }

  get supportedVersions(): number[] {
    return this.full().versions;
  }

  /** Highest of supported_versions, else legacy_version. */
  get version(): number {
    const versions = this.full().versions;
    if (versions.length === 0) return this.legacyVersion;
    let version = versions[0];
    for (const v of versions) if (newer(v, version)) version = v;
    return version;
  }

  get ja4(): string {
    return this.ja4Pair().ja4;
  }

  get ja4_r(): string {
    return this.ja4Pair().ja4_r;
  }

  // JA4 costs two SHA-256s and some strings: computed when first read (an observation that is kept).
  private ja4Pair(): { ja4: string; ja4_r: string } {
    if (this.fingerprint !== null) return this.fingerprint;
    const f = this.full();
    const ciphers = this.ciphers;
    const a = `${this.transport}${ja4Version(this.version)}${f.sniPresent ? 'd' : 'i'}${count2(ciphers.length)}${count2(f.extensions.length)}${alpnChars(f.alpn)}`;
    const bRaw = ciphers.map(hex4).sort().join(',');
    const hashedExts = f.extensions.filter((e) => e !== EXT_SERVER_NAME && e !== EXT_ALPN).map(hex4).sort();
    // No signature algorithms: no trailing underscore (JA4.md, Extension hash).
    const cRaw = hashedExts.join(',') + (f.sigalgs.length > 0 ? `_${f.sigalgs.map(hex4).join(',')}` : '');
    this.fingerprint = {
      // Empty lists hash to twelve zeros rather than to SHA-256 of nothing, so that "none" is plain to see (JA4.md).
      ja4: `${a}_${ciphers.length > 0 ? hash12(bRaw) : ZEROS}_${hashedExts.length > 0 ? hash12(cRaw) : ZEROS}`,
      ja4_r: `${a}_${bRaw}_${cRaw}`,
    };
    return this.fingerprint;
  }
}

function readServerName(m: Uint8Array, p: number, end: number): string | null {
  if (p + 2 > end) return null;
  const listEnd = p + 2 + u16be(m, p);
  if (listEnd > end) return null;
  for (p += 2; p + 3 <= listEnd;) {
    const type = m[p];
    const len = u16be(m, p + 1);
    const name = p + 3;
    p = name + len;
    if (p > listEnd) return null;
    if (type === 0) return len === 0 ? null : hostName(m, name, p);
  }
  return null;
}

/**
 * Lower-cased, without a trailing dot. A host name is ASCII letters, digits, hyphens and dots; any other byte
 * (and the backslash) is written \DDD, as DNS names are in src/app/dns.ts, so a name can never pass for another.
 */
function hostName(m: Uint8Array, p: number, end: number): string {
  if (end - p > 1 && m[end - 1] === 0x2e) end--;
  let s = '';
  for (let i = p; i < end; i++) {
    let c = m[i];
    if (c >= 0x41 && c <= 0x5a) c |= 0x20;
    if (c > 0x20 && c < 0x7f && c !== 0x5c) s += String.fromCharCode(c);
    else s += `\\${String(c).padStart(3, '0')}`;
  }
  return s;
}

/** ALPN (RFC 7301 3.1): the protocol names as far as they are well-formed. */
function readAlpn(m: Uint8Array, p: number, end: number): string[] {
  const out: string[] = [];
  if (p + 2 > end) return out;
  const listEnd = p + 2 + u16be(m, p);
  if (listEnd > end) return out;
  for (p += 2; p < listEnd;) {
    const len = m[p];
    const name = p + 1;
    p = name + len;
    if (p > listEnd) break;
    let s = '';
    for (let i = name; i < p; i++) s += String.fromCharCode(m[i]);
    out.push(s);
  }
  return out;
}

/** A list of u16 values behind a 1- or 2-byte length, GREASE removed; as far as it is well-formed. */
function readU16List(m: Uint8Array, p: number, end: number, lenBytes: 1 | 2): number[] {
  const out: number[] = [];
  if (p + lenBytes > end) return out;
  const listEnd = p + lenBytes + (lenBytes === 1 ? m[p] : u16be(m, p));
  if (listEnd > end) return out;
  for (let q = p + lenBytes; q + 2 <= listEnd; q += 2) {
    const v = u16be(m, q);
    if (!isGrease(v)) out.push(v);
  }
  return out;
}

/**
 * Whether version a is newer than b. DTLS versions count down (0xfeff = 1.0, 0xfefd = 1.2, 0xfefc = 1.3), so the
 * "highest" DTLS version is the numerically lowest. (FoxIO's tools take the numeric maximum, and have no DTLS.)
 */
function newer(a: number, b: number): boolean {
  const dA = a >> 8 === 0xfe;
  const dB = b >> 8 === 0xfe;
  if (dA && dB) return a < b;
  return a > b;
}

/** JA4.md "TLS and DTLS Version"; s1 and 0x0200 for s2 as in FoxIO's Rust and Wireshark-plugin tables. */
function ja4Version(v: number): string {
  switch (v) {
    case 0x0304: return '13';
    case 0x0303: return '12';
    case 0x0302: return '11';
    case 0x0301: return '10';
    case 0x0300: return 's3';
    case 0x0200: case 0x0002: return 's2';
    case 0x0100: return 's1';
    case 0xfeff: return 'd1';
    case 0xfefd: return 'd2';
    case 0xfefc: return 'd3';
    default: return '00';
  }
}

function count2(n: number): string {
  return n > 99 ? '99' : n < 10 ? `0${n}` : String(n);
}

function isAlnum(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}

const HEX = '0123456789abcdef';

/**
 * JA4.md "ALPN Extension Value": first and last character of the first ALPN value ("00" when there is none or it
 * is empty; a single character stands for both). If either end is not an ASCII letter or digit, the first and
 * last characters of the value's hex form are used: the high nibble of the first byte, the low nibble of the last.
 */
function alpnChars(alpn: string[]): string {
  if (alpn.length === 0 || alpn[0].length === 0) return '00';
  const v = alpn[0];
  const f = v.charCodeAt(0);
  const l = v.charCodeAt(v.length - 1);
  if (isAlnum(f) && isAlnum(l)) return v[0] + v[v.length - 1];
  return HEX[f >> 4] + HEX[l & 15];
}

function hex4(v: number): string {
  return v.toString(16).padStart(4, '0');
}

const ZEROS = '000000000000';

function hash12(s: string): string {
  return createHash('sha256').update(s, 'latin1').digest('hex').slice(0, 12);
}
