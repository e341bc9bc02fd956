import * as fs from 'node:fs';
import * as path from 'node:path';
import { PicketError } from '../../errors';

/** Appends are buffered up to this much, then written in one system call. */
const WRITE_AT = 256 * 1024;
const READ_CHUNK = 1024 * 1024;

/**
 * The overflow of one sink: an NDJSON file of documents that could not stay in memory, read back in order when
 * the sink recovers. Synchronous file calls on purpose: the file is local, appends are buffered so that a burst
 * costs one write per 256 KiB, and a synchronous write means a failure is known (and counted) at once.
 *
 * The file is only ever appended to, and read from a moving offset; it is emptied when everything in it has
 * been read back. A file left by an earlier run (a crash, a close while the target was down) is replayed first.
 */
export class Spill {
  readonly path: string;
  /** Lines in the file (or the write buffer) not yet read back. */
  pending = 0;
  private fd: number;
  private size = 0; // bytes on disk
  private readOffset = 0;
  private buf: string[] = [];
  private bufBytes = 0;
  private flushScheduled = false;
  /** Where the last read started, and how many lines it took, so that a failed probe can be put back. */
  private lastRead: { offset: number; lines: number } | null = null;

  /** onLoss: lines that were accepted into the buffer and then could not be written (disk full). */
  constructor(dir: string, sinkName: string, private readonly maxBytes: number, private readonly onLoss: (lines: number, why: string) => void) {
    this.path = path.join(dir, `${sinkName.replace(/[^A-Za-z0-9._-]/g, '_')}.spill.ndjson`);
    try {
      fs.mkdirSync(dir, { recursive: true });
      this.fd = fs.openSync(this.path, 'a+');
    } catch (e) {
      throw new PicketError(`${sinkName}: cannot open spill file ${this.path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
    }
    this.adoptLeftover();
  }

  /** Queues one line; false (nothing written) when the file would pass its cap. */
  append(line: string): boolean {
    const n = Buffer.byteLength(line) + 1;
    if (this.size + this.bufBytes + n > this.maxBytes) {
      // Space already read back is reclaimed before giving up.
      if (this.readOffset === 0 || !this.compact() || this.size + this.bufBytes + n > this.maxBytes) return false;
    }
    this.buf.push(line);
    this.bufBytes += n;
    this.pending++;
    if (this.bufBytes >= WRITE_AT) this.sync();
    else if (!this.flushScheduled) {
      // The rest of a burst reaches the disk as soon as the burst is over.
      this.flushScheduled = true;
      setImmediate(() => {
        this.flushScheduled = false;
        this.sync();
      });
    }
    return true;
  }

  /** Writes the buffer to the file; on failure the buffered lines are lost and reported as such. */
  sync(): void {
    if (this.buf.length === 0) return;
    const lines = this.buf.length;
    const data = Buffer.from(this.buf.join('\n') + '\n', 'utf8');
    this.buf = [];
    this.bufBytes = 0;
    try {
      writeFully(this.fd, data);
      this.size += data.length;
    } catch (e) {
      this.pending -= lines;
      // A partial line would corrupt the next read: cut the file back to its last whole line.
      try {
        fs.ftruncateSync(this.fd, this.size);
      } catch {
        /* the next read skips what it cannot parse */
      }
      this.onLoss(lines, `spill file ${this.path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
    }
  }

  /** The next lines, oldest first, at most max. */
  read(max: number): string[] {
    this.sync();
    const out: string[] = [];
    const start = this.readOffset;
    let chunk = READ_CHUNK;
    while (out.length < max && this.readOffset < this.size) {
      const want = Math.min(chunk, this.size - this.readOffset);
      const b = Buffer.alloc(want);
      const got = fs.readSync(this.fd, b, 0, want, this.readOffset);
      let at = 0;
      for (;;) {
        if (out.length === max) break;
        const nl = b.indexOf(10, at);
        if (nl < 0 || nl >= got) break;
        out.push(b.toString('utf8', at, nl));
        at = nl + 1;
      }
      if (at === 0) {
        if (got === this.size - this.readOffset) {
          // A last line without its newline (cut by a crash) is skipped, never half-read.
          this.readOffset = this.size;
          break;
        }
        chunk *= 2; // one line longer than the chunk
        continue;
      }
      this.readOffset += at;
    }
    this.pending -= out.length;
    this.lastRead = { offset: start, lines: out.length };
    return out;
  }

  /** Empties the file once everything has been read back and no read will be put back. */
  release(): void {
    if (this.pending === 0 && this.buf.length === 0 && this.size > 0) this.reset();
  }

  /** Puts the last read back (its documents could not be delivered); false when it is no longer possible. */
  unread(): boolean {
    if (this.lastRead === null || this.readOffset === 0) return false;
    this.pending += this.lastRead.lines;
    this.readOffset = this.lastRead.offset;
    this.lastRead = null;
    return true;
  }

  /** At close: documents still in memory are older than everything in the file, so they go first. */
  prepend(lines: string[]): void {
    if (lines.length === 0) return;
    this.sync();
    this.rewrite(Buffer.from(lines.join('\n') + '\n', 'utf8'));
    this.pending += lines.length;
  }

  close(): void {
    this.sync();
    fs.closeSync(this.fd);
  }

  private reset(): void {
    fs.ftruncateSync(this.fd, 0);
    this.size = 0;
    this.readOffset = 0;
    this.lastRead = null;
  }

  /** Drops the part already read back. */
  private compact(): boolean {
    try {
      this.sync();
      this.rewrite(Buffer.alloc(0));
      return true;
    } catch {
      return false;
    }
  }

  /** The file becomes head + the unread tail, through a temporary file and a rename (never half-written). */
  private rewrite(head: Buffer): void {
    const tmp = `${this.path}.tmp`;
    const out = fs.openSync(tmp, 'w');
    try {
      writeFully(out, head);
      const b = Buffer.alloc(READ_CHUNK);
      for (let at = this.readOffset; at < this.size;) {
        const got = fs.readSync(this.fd, b, 0, Math.min(b.length, this.size - at), at);
        writeFully(out, b.subarray(0, got));
        at += got;
      }
    } finally {
      fs.closeSync(out);
    }
    const newSize = head.length + this.size - this.readOffset;
    fs.renameSync(tmp, this.path);
    fs.closeSync(this.fd);
    this.fd = fs.openSync(this.path, 'a+');
    this.size = newSize;
    this.readOffset = 0;
    this.lastRead = null;
  }

  /** A spill file from an earlier run: its whole lines are pending; a cut last line is removed. */
  private adoptLeftover(): void {
    const size = fs.fstatSync(this.fd).size;
    let lines = 0;
    let lastNl = -1;
    const b = Buffer.alloc(READ_CHUNK);
    for (let at = 0; at < size;) {
      const got = fs.readSync(this.fd, b, 0, Math.min(b.length, size - at), at);
      for (let i = b.indexOf(10); i >= 0 && i < got; i = b.indexOf(10, i + 1)) {
        lines++;
        lastNl = at + i;
      }
      at += got;
    }
    if (lastNl + 1 < size) fs.ftruncateSync(this.fd, lastNl + 1);
    this.size = lastNl + 1;
    this.pending = lines;
  }
}

function writeFully(fd: number, data: Buffer): void {
  for (let off = 0; off < data.length;) off += fs.writeSync(fd, data, off, data.length - off);
}
