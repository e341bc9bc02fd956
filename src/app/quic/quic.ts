import { createCipheriv, createDecipheriv, createHmac, type Cipher } from 'node:crypto';
import { u32be } from '../../capture/bytes';

/**
 * QUIC Initial packets (RFC 9000 section 17.2.2) of versions 1 (RFC 9000/9001) and 2 (RFC 9369): their protection
 * uses keys every observer can derive from the client's Destination Connection ID (RFC 9001 section 5.2), so a
 * passive sensor can read the TLS ClientHello they carry in CRYPTO frames. Plain functions over bytes that never
 * throw on packet data: anything malformed, or whose AEAD tag does not verify, is simply not returned.
 */

export interface CryptoChunk { offset: number; data: Buffer }

export interface QuicInitial {
  version: number; // 0x00000001 v1, 0x6b3343cf v2
  dcid: Buffer;
  scid: Buffer;
  packetNumber: number;
  crypto: CryptoChunk[]; // CRYPTO frames of this packet, in frame order
}

export const QUIC_V1 = 0x00000001;
export const QUIC_V2 = 0x6b3343cf;

/** What differs between the versions for Initial packets (RFC 9369 section 3). */
interface VersionParams {
  salt: Buffer;
  /** Long-header packet type bits (first byte bits 4-5) of an Initial packet. */
  initialType: number;
  keyLabel: string;
  ivLabel: string;
  hpLabel: string;
}

const V1_PARAMS: VersionParams = {
  salt: Buffer.from('38762cf7f55934b34d179ae6a4c80cadccbb7f0a', 'hex'), // RFC 9001 section 5.2
  initialType: 0,
  keyLabel: 'quic key',
  ivLabel: 'quic iv',
  hpLabel: 'quic hp',
};
const V2_PARAMS: VersionParams = {
  salt: Buffer.from('0dede3def700a6db819381be6e269dcbf9bd2ed9', 'hex'), // RFC 9369 section 3.3.1
  initialType: 1, // RFC 9369 section 3.2: Initial is 0b01 in v2
  keyLabel: 'quicv2 key',
  ivLabel: 'quicv2 iv',
  hpLabel: 'quicv2 hp',
};

function versionParams(version: number): VersionParams | null {
  if (version === QUIC_V1) return V1_PARAMS;
  if (version === QUIC_V2) return V2_PARAMS;
  return null;
}

/** RFC 9000 section 17.2: connection IDs of v1 (and v2) are at most 20 bytes. */
const MAX_CID = 20;
/** AEAD_AES_128_GCM tag. */
const TAG_LEN = 16;
/** Header protection samples 16 bytes starting 4 bytes after the packet number offset (RFC 9001 section 5.4.2). */
const SAMPLE_OFF = 4;
const SAMPLE_LEN = 16;

/** A variable-length integer (RFC 9000 section 16) read in place: value, and the offset after it; pos -1 when cut. */
interface Varint { value: number; pos: number }
const vi: Varint = { value: 0, pos: 0 };

/**
 * Reads the varint at b[p] into vi; returns false when it runs past end. Values above 2^53 lose precision as JS
 * numbers; every length checked against a buffer then fails the check, which is all that matters here.
 */
function readVarint(b: Uint8Array, p: number, end: number): boolean {
  if (p >= end) return false;
  const first = b[p];
  const len = 1 << (first >> 6);
  if (p + len > end) return false;
  let v = first & 0x3f;
  for (let i = 1; i < len; i++) v = v * 256 + b[p + i];
  vi.value = v;
  vi.pos = p + len;
  return true;
}

/** The fields of a long header up to the packet number, all as offsets into the datagram. */
interface LongHeader {
  version: number;
  params: VersionParams;
  dcidOff: number;
  dcidLen: number;
  scidOff: number;
  scidLen: number;
  /** Offset of the (protected) packet number: the end of the Length field. */
  pnOff: number;
  /** End of this packet: pnOff + Length. Coalesced packets follow it. */
  end: number;
}

/**
 * Parses the long header of an Initial packet of a known version at b[off, end) into h; false when it is anything
 * else, or when its Length cannot hold a header-protection sample (which also covers a packet number and a tag).
 */
function readInitialHeader(b: Uint8Array, off: number, end: number, h: LongHeader): boolean {
  // first byte, version, DCID length, SCID length, token length, Length: at least 1+4+1+1+1+1 bytes
  if (end - off < 9) return false;
  const first = b[off];
  if ((first & 0x80) === 0) return false; // long header (RFC 9000 section 17.2)
  const version = u32be(b, off + 1);
  const params = versionParams(version);
  if (params === null || ((first >> 4) & 3) !== params.initialType) return false;
  let p = off + 5;
  const dcidLen = b[p++];
  if (dcidLen > MAX_CID || p + dcidLen >= end) return false;
  const dcidOff = p;
  p += dcidLen;
  const scidLen = b[p++];
  if (scidLen > MAX_CID || p + scidLen >= end) return false;
  const scidOff = p;
  p += scidLen;
  if (!readVarint(b, p, end) || vi.value > end - vi.pos) return false; // token
  // The fixed bit is 1, except that RFC 9287 lets a client clear it in an Initial that carries a NEW_TOKEN token
  // from a server that allowed it: accepting those keeps a client from hiding its ClientHello by greasing the bit.
  if ((first & 0x40) === 0 && vi.value === 0) return false;
  p = vi.pos + vi.value;
  if (!readVarint(b, p, end)) return false; // Length: packet number and payload
  const length = vi.value;
  const pnOff = vi.pos;
  if (length < SAMPLE_OFF + SAMPLE_LEN || length > end - pnOff) return false;
  h.version = version;
  h.params = params;
  h.dcidOff = dcidOff;
  h.dcidLen = dcidLen;
  h.scidOff = scidOff;
  h.scidLen = scidLen;
  h.pnOff = pnOff;
  h.end = pnOff + length;
  return true;
}

function createLongHeader(): LongHeader {
  return { version: 0, params: V1_PARAMS, dcidOff: 0, dcidLen: 0, scidOff: 0, scidLen: 0, pnOff: 0, end: 0 };
}
const scratchHeader = createLongHeader();

/**
 * Cheap check for the hot path: long header, fixed bit set, Initial type for v1/v2, known version, plausible lengths.
 * The fixed bit may also be clear when the packet carries a token (a client greasing it, RFC 9287 section 3.1).
 */
export function looksLikeQuicInitial(b: Uint8Array, off: number, end: number): boolean {
  if (off < 0 || end > b.length || off >= end) return false;
  return readInitialHeader(b, off, end, scratchHeader);
}

// ---- keys (RFC 9001 section 5) ----

/** HKDF-Extract (RFC 5869) with SHA-256. */
function hkdfExtract(salt: Buffer, ikm: Uint8Array): Buffer {
  return createHmac('sha256', salt).update(ikm).digest();
}

/** HKDF-Expand-Label of TLS 1.3 (RFC 8446 section 7.1) with an empty context, SHA-256. */
function hkdfExpandLabel(secret: Buffer, label: string, length: number): Buffer {
  const full = Buffer.from(`tls13 ${label}`, 'latin1');
  const info = Buffer.alloc(2 + 1 + full.length + 1);
  info.writeUInt16BE(length, 0);
  info[2] = full.length;
  full.copy(info, 3);
  info[3 + full.length] = 0; // context length
  const out = Buffer.alloc(length);
  let t = Buffer.alloc(0);
  for (let i = 1, n = 0; n < length; i++) {
    t = createHmac('sha256', secret).update(t).update(info).update(Buffer.of(i)).digest();
    n += t.copy(out, n);
  }
  return out;
}

interface InitialKeys {
  key: Buffer;
  iv: Buffer;
  /** AES-128-ECB with the header protection key; ECB keeps no state between blocks, so one serves every sample. */
  hp: Cipher;
}

/** The client's Initial keys from the Destination Connection ID of its first Initial packet (RFC 9001 section 5.2). */
function deriveClientKeys(params: VersionParams, dcid: Uint8Array): InitialKeys {
  const initialSecret = hkdfExtract(params.salt, dcid);
  const clientSecret = hkdfExpandLabel(initialSecret, 'client in', 32);
  const hp = createCipheriv('aes-128-ecb', hkdfExpandLabel(clientSecret, params.hpLabel, 16), null);
  hp.setAutoPadding(false);
  return {
    key: hkdfExpandLabel(clientSecret, params.keyLabel, 16),
    iv: hkdfExpandLabel(clientSecret, params.ivLabel, 12),
    hp,
  };
}

/**
 * A client sends several Initials with the same DCID (a split ClientHello, retransmissions), and a flood of
 * Initials with one DCID costs one derivation: a small cache bounds the work, cleared whole when full (simpler than
 * an LRU, and a flood of distinct DCIDs costs one derivation each either way).
 */
const KEY_CACHE_MAX = 256;
const keyCache = new Map<string, InitialKeys>();

/** The keys for a DCID, from the cache or derived; null when they are not cached and mayDerive() says no. */
function clientKeys(params: VersionParams, version: number, b: Uint8Array, dcidOff: number, dcidLen: number, mayDerive: () => boolean): InitialKeys | null {
  const dcid = b.subarray(dcidOff, dcidOff + dcidLen);
  const id = `${version}:${Buffer.from(dcid.buffer, dcid.byteOffset, dcid.byteLength).toString('hex')}`;
  let k = keyCache.get(id);
  if (k === undefined) {
    if (!mayDerive()) return null;
    if (keyCache.size >= KEY_CACHE_MAX) keyCache.clear();
    k = deriveClientKeys(params, dcid);
    keyCache.set(id, k);
  }
  return k;
}

// ---- packet protection ----

/**
 * Removes header protection and the AEAD from the Initial described by h (RFC 9001 sections 5.3, 5.4). Returns the
 * plaintext payload and sets the packet number in pnOut[0], or null when the tag does not verify. The input is
 * never written to: it is the capture's buffer.
 */
function unprotect(b: Uint8Array, off: number, h: LongHeader, keys: InitialKeys, pnOut: number[]): Buffer | null {
  const sampleOff = h.pnOff + SAMPLE_OFF;
  const mask = keys.hp.update(b.subarray(sampleOff, sampleOff + SAMPLE_LEN));
  if (mask.length < 5) return null;
  const first = b[off] ^ (mask[0] & 0x0f); // long header: the low 4 bits are protected
  const pnLen = (first & 3) + 1;
  const headerLen = h.pnOff + pnLen - off;
  // The payload must hold at least the tag; readInitialHeader's sample check guarantees it, kept for clarity.
  if (h.pnOff + pnLen + TAG_LEN > h.end) return null;
  const header = Buffer.from(b.subarray(off, off + headerLen)); // the AAD: the unprotected header
  header[0] = first;
  let pn = 0;
  for (let i = 0; i < pnLen; i++) {
    const v = header[headerLen - pnLen + i] ^ mask[1 + i];
    header[headerLen - pnLen + i] = v;
    pn = pn * 256 + v;
  }
  // The full packet number is the truncated one: a client's Initial numbers start at 0 and the first packets are
  // seen without a larger acknowledged one to decode against (RFC 9000 appendix A.3 gives the same value then).
  const nonce = Buffer.from(keys.iv);
  for (let i = 0; i < 4; i++) nonce[11 - i] ^= (pn >>> (8 * i)) & 0xff;
  const ctEnd = h.end - TAG_LEN;
  try {
    const d = createDecipheriv('aes-128-gcm', keys.key, nonce);
    d.setAAD(header);
    d.setAuthTag(b.subarray(ctEnd, h.end));
    const head = d.update(b.subarray(h.pnOff + pnLen, ctEnd));
    const tail = d.final(); // throws when the tag does not verify
    pnOut[0] = pn;
    return tail.length === 0 ? head : Buffer.concat([head, tail]);
  } catch {
    return null;
  }
}

// ---- frames (RFC 9000 section 19; those allowed in Initial packets, section 12.4) ----

const FRAME_PADDING = 0x00;
const FRAME_PING = 0x01;
const FRAME_ACK = 0x02;
const FRAME_ACK_ECN = 0x03;
const FRAME_CRYPTO = 0x06;
const FRAME_CONNECTION_CLOSE = 0x1c;

/** Skips n varints from p; the offset after them, or -1. */
function skipVarints(b: Uint8Array, p: number, end: number, n: number): number {
  for (let i = 0; i < n; i++) {
    if (!readVarint(b, p, end)) return -1;
    p = vi.pos;
  }
  return p;
}

/**
 * The CRYPTO frames of a decrypted Initial payload, in frame order. Stops at the first frame type an Initial may
 * not carry, or at a frame cut short: the payload passed the AEAD, so such bytes are the sender's own error, and
 * what came before them is still the sender's data.
 */
function cryptoFrames(pt: Buffer): CryptoChunk[] {
  const out: CryptoChunk[] = [];
  const end = pt.length;
  let p = 0;
  while (p < end) {
    const type = pt[p];
    if (type === FRAME_PADDING || type === FRAME_PING) {
      p++;
      continue;
    }
    // Frame types are varints too; the ones handled here are single-byte, and a longer encoding of them is an
    // error (RFC 9000 section 12.4: the shortest encoding must be used), so checking one byte is enough.
    p++;
    if (type === FRAME_ACK || type === FRAME_ACK_ECN) {
      // Largest Acknowledged, ACK Delay, ACK Range Count, First ACK Range, then Range Count (Gap, Length) pairs.
      p = skipVarints(pt, p, end, 2);
      if (p < 0 || !readVarint(pt, p, end)) break;
      const ranges = vi.value;
      p = vi.pos;
      if (ranges > (end - p) / 2) break; // each range is two varints of at least one byte
      p = skipVarints(pt, p, end, 1 + 2 * ranges + (type === FRAME_ACK_ECN ? 3 : 0));
      if (p < 0) break;
    } else if (type === FRAME_CRYPTO) {
      if (!readVarint(pt, p, end)) break;
      const offset = vi.value;
      if (!readVarint(pt, vi.pos, end)) break;
      const len = vi.value;
      p = vi.pos;
      if (len > end - p) break;
      out.push({ offset, data: pt.subarray(p, p + len) });
      p += len;
    } else if (type === FRAME_CONNECTION_CLOSE) {
      // Error Code, Frame Type, Reason Phrase Length, Reason Phrase.
      p = skipVarints(pt, p, end, 2);
      if (p < 0 || !readVarint(pt, p, end) || vi.value > end - vi.pos) break;
      p = vi.pos + vi.value;
    } else {
      break;
    }
  }
  return out;
}

/**
 * Decrypts every client Initial packet coalesced in one UDP datagram payload (stop at the first non-Initial or
 * undecryptable one). Returns [] when nothing decrypts. Never throws.
 *
 * Keys come from each packet's own DCID, which is the one they were derived from for every Initial a client sends
 * before it hears from the server (and after a Retry). Initials sent after the server's first reply carry the
 * server's connection ID instead and do not verify here: they would need the original DCID, which is flow state.
 * Server Initials do not verify either (their keys use the "server in" label), so they are never mistaken for
 * a client's. mayDerive is asked before each key derivation that the cache cannot spare (the caller's budget).
 */
export function decryptClientInitials(b: Uint8Array, off: number, end: number, mayDerive: () => boolean = always): QuicInitial[] {
  const out: QuicInitial[] = [];
  if (off < 0 || end > b.length || off >= end) return out;
  const h = createLongHeader();
  const pn = [0];
  let p = off;
  try {
    while (p < end && readInitialHeader(b, p, end, h)) {
      // RFC 9000 section 12.2: packets coalesced with a different DCID are not the same connection's; ignore them.
      if (out.length > 0 && !out[0].dcid.equals(b.subarray(h.dcidOff, h.dcidOff + h.dcidLen))) break;
      const keys = clientKeys(h.params, h.version, b, h.dcidOff, h.dcidLen, mayDerive);
      if (keys === null) break;
      const pt = unprotect(b, p, h, keys, pn);
      if (pt === null) break;
      out.push({
        version: h.version,
        dcid: Buffer.from(b.subarray(h.dcidOff, h.dcidOff + h.dcidLen)), // copies: b is a reused capture window
        scid: Buffer.from(b.subarray(h.scidOff, h.scidOff + h.scidLen)),
        packetNumber: pn[0],
        crypto: cryptoFrames(pt),
      });
      p = h.end;
    }
  } catch {
    // node:crypto failing on bounded inputs would be a bug; packet data must never take the sensor down with it.
  }
  return out;
}

function always(): boolean {
  return true;
}

/**
 * Joins CRYPTO chunks (possibly out of order, overlapping, from several packets/datagrams) into the contiguous bytes
 * from offset 0; returns null until offset 0 is present; bounded: ignores data past maxBytes (default 65536).
 * Where chunks disagree about a byte, the earliest chunk in the list wins: a later copy (a retransmission, or
 * an injected packet) must not rewrite what was already seen.
 */
export function assembleCrypto(chunks: CryptoChunk[], maxBytes = 65536): Buffer | null {
  if (!(maxBytes > 0)) return null;
  const limit = Math.floor(maxBytes);
  const spans: Array<[number, number]> = [];
  for (const c of chunks) {
    const start = c.offset;
    if (!Number.isFinite(start) || start < 0 || start >= limit || c.data.length === 0) continue;
    spans.push([start, Math.min(start + c.data.length, limit)]);
  }
  spans.sort((x, y) => x[0] - y[0]);
  let have = 0; // bytes [0, have) are covered
  for (const [s, e] of spans) {
    if (s > have) break;
    if (e > have) have = e;
  }
  if (have === 0) return null;
  const out = Buffer.alloc(have);
  for (let i = chunks.length - 1; i >= 0; i--) {
    const c = chunks[i];
    const start = c.offset;
    if (!Number.isFinite(start) || start < 0 || start >= have) continue;
    const n = Math.min(c.data.length, have - start);
    if (n > 0) c.data.copy(out, start, 0, n);
  }
  return out;
}
