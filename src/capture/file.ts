import * as fs from 'node:fs';
import { createPacketBatch, type PacketBatch } from './batch';
import { type Framer } from './framer';
import { createPcapFramer, isPcapMagic, PCAP_HEADER_LEN } from './pcap';
import { createPcapngFramer, isPcapngMagic } from './pcapng';
import { PicketError } from '../errors';
import { inputName, openStreamInput, type PositionalSource } from './stream-input';
import { packetSeconds } from '../core/time';

/**
 * Read window: reads framed in place (see bench/RESULTS.md for why not a record-at-a-time parser). Sized to stay
 * in the CPU's cache between the read's copy and the decoder's pass; it must hold the largest record (~320 KiB).
 */
export const READ_WINDOW = 1 << 20;

export function createReadWindow(): Buffer {
  return Buffer.allocUnsafe(READ_WINDOW);
}

export interface FileReport {
  path: string;
  format: string;
  compressed: boolean;
  packets: number;
  bytes: number;
  linktypes: number[];
  /** The file ended inside a record (cut capture): what was whole was read. */
  truncated: boolean;
  /** Why reading stopped early, when it did (corrupt record, broken compression). */
  error: string | null;
  /** Damage that cost no packets: a gzip trailer cut or not matching its data, bytes after the last gzip member. */
  damage: string | null;
  notes: Record<string, number>;
  /** Decode events counted while framing, by DecodeEvent code (out-of-range times); added to the engines' counts. */
  decode: number[];
}

type Fill = (buf: Buffer, off: number, len: number) => Promise<number>;

interface OpenCapture {
  fill: Fill;
  close: () => void;
  compressed: boolean;
  /** Set when the compressed stream turned out broken. */
  streamError: () => string | null;
  /** Set when the compressed stream was damaged in a way that lost no data (a bad gzip trailer). */
  damage: () => string | null;
}

function openCapture(path: string): OpenCapture {
  let fd: number;
  try {
    if (path === '-' || !fs.statSync(path).isFile()) return openStream(path);
    fd = fs.openSync(path, 'r');
  } catch (e) {
    if (e instanceof PicketError) throw e;
    throw new PicketError(`${inputName(path)}: cannot open: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  const head = Buffer.alloc(2);
  const n = fs.readSync(fd, head, 0, 2, 0);
  if (n === 2 && head[0] === 0x1f && head[1] === 0x8b) {
    fs.closeSync(fd);
    return openGzip(path);
  }
  return {
    compressed: false,
    fill: async (buf, off, len) => fs.readSync(fd, buf, off, len, null),
    close: () => fs.closeSync(fd),
    streamError: () => null,
    damage: () => null,
  };
}

/** Standard input or a FIFO: read forward once, never whole into memory (see PositionalSource). */
function openStream(path: string): OpenCapture {
  let src: PositionalSource;
  try {
    src = openStreamInput(path);
  } catch (e) {
    throw new PicketError(`${inputName(path)}: cannot open: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  const head = Buffer.alloc(2);
  if (src.readAt(head, 0) === 2 && head[0] === 0x1f && head[1] === 0x8b) return openGzip(path, src);
  let at = 0;
  return {
    compressed: false,
    fill: async (buf, off, len) => {
      const n = src.readAt(buf.subarray(off, off + len), at);
      at += n;
      return n;
    },
    close: () => src.close(),
    streamError: () => null,
    damage: () => null,
  };
}

function openGzip(path: string, stream?: PositionalSource): OpenCapture {
  // Loaded here, not at start-up: most replays are not compressed.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { openGzipReader } = require('./gzip') as typeof import('./gzip');
  const gz = openGzipReader(path, stream);
  let pending: Buffer | null = null;
  let pos = 0;
  return {
    compressed: true,
    async fill(buf, off, len) {
      if (pending === null || pos >= pending.length) {
        pending = await gz.next();
        pos = 0;
        if (pending === null) return 0;
      }
      const n = Math.min(len, pending.length - pos);
      pending.copy(buf, off, pos, pos + n);
      pos += n;
      return n;
    },
    close: () => gz.close(),
    streamError: () => gz.error(),
    damage: () => gz.damage(),
  };
}

async function fillAtLeast(fill: Fill, buf: Buffer, off: number, want: number): Promise<number> {
  let have = 0;
  while (have < want) {
    const n = await fill(buf, off + have, buf.length - off - have);
    if (n === 0) break;
    have += n;
  }
  return have;
}

export interface ReadOptions {
  /** Ordinal given to the file's first packet. */
  firstOrdinal: number;
  /** Stop after this many packets (used to peek at the first timestamp). */
  maxPackets?: number;
  /** Reused across files so that a replay allocates its window once. */
  window?: Buffer;
  /** Most packets in one batch (default BATCH_MAX_PACKETS); results must not depend on it. */
  batchPackets?: number;
  /**
   * Called before the window is refilled, once its batches have been handed on: a consumer that keeps the window
   * (workers read it from shared memory) returns another one to read into next, and the unread tail moves there.
   */
  nextWindow?: () => Promise<Buffer>;
  /**
   * Fill a window only so far as to hold about this many packets, judged by the file's records so far (never less
   * than READ_WINDOW bytes, so the largest record fits): a consumer that keeps windows in flight (workers) holds
   * results in proportion to their packets, not their bytes. Absent: every window is filled.
   */
  windowPackets?: number;
}

/**
 * Reads one capture file (pcap, pcapng, either gzip-compressed) and hands its packets to onBatch in batches that
 * point into one reused window. onBatch must finish with a batch before it returns. A file that is not a capture
 * throws a PicketError; damage inside a capture is reported in the FileReport and never throws.
 */
export async function readCaptureFile(
  path: string,
  onBatch: (batch: PacketBatch) => void,
  opts: ReadOptions,
): Promise<FileReport> {
  const src = openCapture(path);
  let buf = opts.window ?? createReadWindow();
  const report: FileReport = {
    path, format: 'unknown', compressed: src.compressed, packets: 0, bytes: 0, linktypes: [],
    truncated: false, error: null, damage: null, notes: {}, decode: [],
  };
  try {
    let have = await fillAtLeast(src.fill, buf, 0, PCAP_HEADER_LEN);
    let framer: Framer;
    let start = 0;
    if (have >= PCAP_HEADER_LEN && isPcapMagic(buf)) {
      framer = createPcapFramer(Buffer.from(buf.subarray(0, PCAP_HEADER_LEN)));
      start = PCAP_HEADER_LEN;
    } else if (have >= 12 && isPcapngMagic(buf)) {
      framer = createPcapngFramer();
    } else {
      const why = src.streamError();
      throw new PicketError(`${inputName(path)}: not a pcap or pcapng capture${why !== null ? ` (${why})` : have < 4 ? ' (file too short)' : ''}`);
    }
    report.format = framer.format;

    const batch = createPacketBatch(buf, opts.batchPackets);
    batch.firstOrdinal = opts.firstOrdinal;
    const limit = opts.maxPackets ?? Infinity;
    let stop = false;
    const flush = (): void => {
      if (batch.count === 0 || stop) return;
      if (report.packets + batch.count > limit) batch.count = limit - report.packets;
      report.packets += batch.count;
      onBatch(batch);
      batch.firstOrdinal += batch.count;
      batch.count = 0;
      if (report.packets >= limit) stop = true;
    };

    let fileOffset = 0; // file offset of buf[0]
    for (;;) {
      const used = framer.frame(buf, start, have, batch, flush);
      flush();
      if (framer.error !== null) {
        report.error = `byte ${fileOffset + used}: ${framer.error}`;
        break;
      }
      if (stop) break;
      // Keep the unconsumed tail at the front of the window and read more behind it.
      const tail = have - used;
      const next = opts.nextWindow === undefined ? buf : await opts.nextWindow();
      if (next !== buf) {
        if (tail > 0) buf.copy(next, 0, used, have);
        buf = next;
        batch.data = next;
      } else if (tail > 0 && used > 0) {
        buf.copy(buf, 0, used, have);
      }
      fileOffset += used;
      have = tail;
      start = 0;
      let want = buf.length - have;
      if (opts.windowPackets !== undefined && report.packets > 0) {
        const bytes = Math.ceil((opts.windowPackets * fileOffset) / report.packets);
        want = Math.min(want, Math.max(READ_WINDOW, bytes) - have);
      }
      const n = await src.fill(buf, have, want);
      if (n === 0) {
        const leftover = have > 0 || framer.skipping() > 0;
        if (leftover) report.truncated = true;
        break;
      }
      have += n;
    }
    const why = src.streamError();
    if (why !== null && report.error === null) report.error = why;
    report.damage = src.damage();
    report.decode = Array.from(framer.events);
    report.bytes = framer.bytes;
    report.linktypes = [...framer.linktypes];
    for (const [k, v] of framer.notes) report.notes[k] = v;
  } finally {
    src.close();
  }
  return report;
}

/** First packet's time of a capture, for replaying several files in time order; null for an empty capture. */
export async function firstTimestamp(path: string): Promise<number | null> {
  let ts: number | null = null;
  await readCaptureFile(path, (b) => { ts = packetSeconds(b.tsSec[0], b.tsNsec[0]); }, { firstOrdinal: 0, maxPackets: 1, window: Buffer.allocUnsafe(1 << 20) });
  return ts;
}
