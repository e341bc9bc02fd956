import * as fs from 'node:fs';
import * as zlib from 'node:zlib';
import type { PositionalSource } from './stream-input';

/**
 * A gzip file (RFC 1952, any number of members) read as the bytes it holds, as far as they go.
 *
 * zlib's own gunzip checks the trailer inside the inflate call that produced the member's last output, and Node
 * drops that call's output with the error: a bad CRC lost up to a chunk of good data (all of a small file), though
 * zcat writes every byte. Here the gzip framing is read by hand and only the deflate data goes to zlib (raw
 * inflate), so the trailer is checked after every byte it covers has been delivered, and damage to it is reported
 * beside complete data instead of in place of it.
 */
export interface GzipReader {
  /** The next piece of decompressed data; null at the end (clean or not: see error and damage). */
  next(): Promise<Buffer | null>;
  /** Why the data stopped short (a cut file, corrupt deflate data, an unreadable header); null if it did not. */
  error(): string | null;
  /** Damage that lost no data (a trailer that does not match, bytes after the last member); null if none. */
  damage(): string | null;
  close(): void;
}

const ID1 = 0x1f;
const ID2 = 0x8b;
const CM_DEFLATE = 8;
const FHCRC = 0x02;
const FEXTRA = 0x04;
const FNAME = 0x08;
const FCOMMENT = 0x10;
const FRESERVED = 0xe0;
/** First read for a member header: real ones are 10 bytes and a file name. */
const HEADER_READ = 4096;
/** A longer header (name, comment, extra field) is taken for garbage rather than read into memory. */
const MAX_HEADER = 16 << 20;
/** Compressed bytes handed to the inflater at a time (exported for a test that ends the data on this boundary). */
export const IN_CHUNK = 256 * 1024;
const OUT_CHUNK = 256 * 1024;
/** Decompressed bytes held for the reader before the inflater is paused (deflate can expand ~1000x). */
const OUT_HIGH = 4 * 1024 * 1024;

let crcTable: Uint32Array | null = null;

/** CRC-32 as gzip uses it, for Node before 20.15 (no zlib.crc32; package.json allows any Node 20). */
export function crc32Js(data: Buffer, value: number): number {
  if (crcTable === null) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = (c & 1) !== 0 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let c = ~value >>> 0;
  for (let i = 0; i < data.length; i++) c = crcTable[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

const crc32: (data: Buffer, value: number) => number = typeof zlib.crc32 === 'function' ? zlib.crc32 : crc32Js;

/** Header length of the gzip member at h[0..), 0 when h is too short to tell, or the reason it is not one. */
function headerLength(h: Buffer): number | string {
  if ((h.length >= 1 && h[0] !== ID1) || (h.length >= 2 && h[1] !== ID2)) return 'not a gzip member header';
  if (h.length < 10) return 0;
  if (h[2] !== CM_DEFLATE) return `gzip compression method ${h[2]} is not deflate`;
  const flags = h[3];
  if ((flags & FRESERVED) !== 0) return 'gzip header has reserved flags set';
  let p = 10;
  if ((flags & FEXTRA) !== 0) {
    if (p + 2 > h.length) return 0;
    p += 2 + h.readUInt16LE(p);
  }
  for (const f of [FNAME, FCOMMENT]) {
    if ((flags & f) === 0) continue;
    const z = p < h.length ? h.indexOf(0, p) : -1;
    if (z < 0) return 0;
    p = z + 1;
  }
  if ((flags & FHCRC) !== 0) p += 2;
  return p > h.length ? 0 : p;
}

export function openGzipReader(path: string, stream?: PositionalSource): GzipReader {
  // A stream input (stdin, a FIFO) comes with its reader; a file is read with pread.
  const fd = stream === undefined ? fs.openSync(path, 'r') : -1;
  /** File offset of the next byte not yet handed to the inflater (or of the next header or trailer). */
  let pos = 0;
  let failure: string | null = null;
  let damaged: string | null = null;
  let finished = false;
  let members = 0;
  let total = 0; // decompressed bytes, all members

  // The current member's inflater and what is known of it.
  let inf: zlib.InflateRaw | null = null;
  let bodyStart = 0;
  let fed = 0; // bytes written to the inflater
  let writing = false;
  let inputDone = false; // end() called: the file ended inside the deflate data
  let ended = false; // 'end' seen: all its output has been emitted
  let infError: string | null = null;
  let crc = 0;
  let size = 0;
  const queue: Buffer[] = [];
  let queued = 0;
  let paused = false;

  let wake: (() => void) | null = null;
  const signal = (): void => {
    const w = wake;
    wake = null;
    w?.();
  };
  const nextSignal = (): Promise<void> => new Promise((resolve) => { wake = resolve; });

  const readAt = (buf: Buffer, at: number): number => {
    try {
      return stream !== undefined ? stream.readAt(buf, at) : fs.readSync(fd, buf, 0, buf.length, at);
    } catch (e) {
      failure = `read failed: ${(e as NodeJS.ErrnoException).code ?? String(e)}`;
      finished = true;
      return 0;
    }
  };

  function startMember(): void {
    let h: Buffer;
    let len: number | string;
    // RFC 1952 sets no limit on names and comments: read more until the header's end is found, within reason.
    for (let want = HEADER_READ; ; want *= 4) {
      const head = Buffer.allocUnsafe(want);
      const n = readAt(head, pos);
      if (finished) return;
      h = head.subarray(0, n);
      len = headerLength(h);
      if (len === 0 && n === want && want >= MAX_HEADER) len = `a gzip header longer than ${MAX_HEADER} bytes`;
      if (len !== 0 || n < want) break;
    }
    if (h.length === 0) {
      if (members === 0) failure = 'empty gzip file';
      finished = true;
      return;
    }
    if (typeof len === 'string' || len === 0) {
      if (members === 0) failure = len === 0 ? 'gzip header cut short' : len;
      // gzip(1) too ignores what follows the last member, and says so unless it is zeros (tape padding).
      else if (typeof len === 'string' && !h.every((c) => c === 0)) damaged = `bytes after the last gzip member at byte ${pos}, ignored`;
      else if (len === 0) damaged = `a gzip member header cut short at byte ${pos}, ignored`;
      finished = true;
      return;
    }
    members++;
    bodyStart = pos + len;
    pos = bodyStart;
    fed = 0;
    writing = false;
    inputDone = false;
    ended = false;
    infError = null;
    crc = 0;
    size = 0;
    // finishFlush: a file cut inside the deflate data ends the output where the data ends, without an error.
    const z = zlib.createInflateRaw({ chunkSize: OUT_CHUNK, finishFlush: zlib.constants.Z_SYNC_FLUSH });
    z.on('data', (chunk: Buffer) => {
      crc = crc32(chunk, crc);
      size += chunk.length;
      total += chunk.length;
      queue.push(chunk);
      queued += chunk.length;
      if (queued > OUT_HIGH && !paused) {
        paused = true;
        z.pause();
      }
      signal();
    });
    z.on('end', () => {
      ended = true;
      signal();
    });
    z.on('error', (e: Error) => {
      infError = e.message;
      signal();
    });
    inf = z;
  }

  /** The deflate data ended (or the file did): read the trailer and step past it. */
  function finishMember(z: zlib.InflateRaw): void {
    inf = null;
    z.destroy();
    if (inputDone) {
      failure = `compressed data cut short (the file ends inside gzip member ${members}): ${total} bytes recovered`;
      finished = true;
      return;
    }
    const trailerAt = bodyStart + z.bytesWritten;
    const t = Buffer.alloc(8);
    const n = readAt(t, trailerAt);
    if (finished) return;
    if (n < 8) {
      damaged = `gzip trailer cut short: ${total} bytes recovered`;
      finished = true;
      return;
    }
    const badCrc = t.readUInt32LE(0) !== crc;
    // ISIZE is the length modulo 2^32.
    const badLen = t.readUInt32LE(4) !== size % 4294967296;
    if ((badCrc || badLen) && damaged === null) {
      damaged = `gzip trailer damaged (${badCrc && badLen ? 'CRC and length' : badCrc ? 'CRC' : 'length'} mismatch): ${total} bytes recovered`;
    }
    pos = trailerAt + 8;
  }

  /** Hands the inflater its next piece of the file, or tells it the file has ended. */
  function feed(z: zlib.InflateRaw): void {
    const chunk = Buffer.allocUnsafe(IN_CHUNK);
    const n = readAt(chunk, pos);
    if (finished) return;
    if (n === 0) {
      inputDone = true;
      z.end();
      return;
    }
    pos += n;
    fed += n;
    writing = true;
    z.write(n === IN_CHUNK ? chunk : chunk.subarray(0, n), () => {
      writing = false;
      signal();
    });
  }

  /**
   * Keeps the inflater (which works on libuv's thread pool) busy while the caller frames what it already has,
   * until enough output is waiting. Raw inflate stops taking input where the deflate data ends: once it has taken
   * less than it was given, the rest begins the trailer and nothing more is fed.
   */
  function keepFed(): void {
    const z = inf;
    if (z === null || writing || inputDone || ended || infError !== null || queued >= OUT_HIGH || z.bytesWritten < fed) return;
    feed(z);
  }

  return {
    async next() {
      for (;;) {
        keepFed();
        const out = queue.shift();
        if (out !== undefined) {
          queued -= out.length;
          if (paused && queued <= OUT_HIGH / 2) {
            paused = false;
            inf?.resume();
          }
          return out;
        }
        if (finished) return null;
        if (inf === null) {
          startMember();
          continue;
        }
        const z = inf;
        if (infError !== null) {
          failure = `compressed data is corrupt in gzip member ${members} (${infError}): ${total} bytes recovered`;
          inf = null;
          z.destroy();
          finished = true;
          continue;
        }
        if (ended) {
          finishMember(z);
          continue;
        }
        await nextSignal();
      }
    },
    error: () => failure,
    damage: () => damaged,
    close() {
      finished = true;
      inf?.destroy();
      inf = null;
      if (stream !== undefined) stream.close();
      else fs.closeSync(fd);
    },
  };
}
