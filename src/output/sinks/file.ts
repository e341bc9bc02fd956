import * as fs from 'node:fs';
import * as path from 'node:path';
import type { EcsDoc } from '../../alert/ecs';
import { PicketError } from '../../errors';
import { checkPositive, encodeAll, errorText, type Outcome, type Transport } from './queue';

type FileConfig = { path: string; rotateBytes?: number; rotateSeconds?: number; keep?: number };

function fdWrite(fd: number, b: Buffer, off: number, len: number): Promise<number> {
  return new Promise((resolve, reject) => fs.write(fd, b, off, len, null, (err, n) => (err ? reject(err) : resolve(n))));
}

/**
 * Writes all of data to fd from libuv's thread pool, so a slow disk or a stalled pipe reader holds up this
 * sink's queue and never the event loop. A non-blocking pipe that is full (EAGAIN) is waited for, not failed.
 */
export async function writeAllAsync(fd: number, data: Buffer, aborted: () => boolean): Promise<void> {
  for (let off = 0; off < data.length;) {
    if (aborted()) throw new Error('aborted');
    try {
      off += await fdWrite(fd, data, off, data.length - off);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
      await new Promise((r) => setTimeout(r, 5));
    }
  }
}

/**
 * NDJSON appended to a file, rotated by size and/or age: path -> path.1 -> ... -> path.keep, the oldest
 * overwritten. Rotation happens only between lines (a batch is cut at line boundaries when it would pass
 * rotateBytes), so no line is ever split across two files; a line longer than rotateBytes gets a file of its own.
 * Age is checked when documents arrive: an idle sensor does not make empty files.
 */
export function fileTransport(cfg: FileConfig): Transport {
  const name = `file ${cfg.path}`;
  if (typeof cfg.path !== 'string' || cfg.path === '') throw new PicketError('file sink: path is empty');
  if (cfg.rotateBytes !== undefined) checkPositive(name, 'rotateBytes', cfg.rotateBytes, true);
  if (cfg.rotateSeconds !== undefined) checkPositive(name, 'rotateSeconds', cfg.rotateSeconds, false);
  const keep = cfg.keep ?? 10;
  if (!Number.isInteger(keep) || keep < 0) throw new PicketError(`${name}: keep must be an integer >= 0, not ${keep}`);
  const rotateBytes = cfg.rotateBytes ?? Infinity;
  const rotateMs = cfg.rotateSeconds === undefined ? Infinity : cfg.rotateSeconds * 1000;

  let fd = -1;
  let size = 0;
  let openedAt = 0;
  let aborted = false;
  const open = (): void => {
    try {
      // A log directory that does not exist yet (a fresh /var/log/picket) is made, as rsyslog and nginx do.
      if (!fs.existsSync(path.dirname(cfg.path))) fs.mkdirSync(path.dirname(cfg.path), { recursive: true });
      fd = fs.openSync(cfg.path, 'a');
      const st = fs.fstatSync(fd);
      size = st.isFile() ? st.size : 0;
      // An existing file's age counts from its creation, so that restarts do not postpone time rotation forever.
      openedAt = size > 0 && st.birthtimeMs > 0 ? Math.min(Date.now(), st.birthtimeMs) : Date.now();
    } catch (e) {
      fd = -1;
      throw new PicketError(`${cfg.path}: cannot open for writing: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
    }
  };
  open(); // a bad path is the user's error, reported when the sink is created

  const rotate = async (): Promise<void> => {
    fs.closeSync(fd);
    fd = -1;
    try {
      if (keep === 0) await fs.promises.rm(cfg.path, { force: true });
      for (let i = keep; i >= 1; i--) {
        // rename() replaces the target, which is how the oldest file goes.
        await fs.promises.rename(i === 1 ? cfg.path : `${cfg.path}.${i - 1}`, `${cfg.path}.${i}`).catch((e: NodeJS.ErrnoException) => {
          if (e.code !== 'ENOENT') throw e;
        });
      }
    } finally {
      open();
    }
    openedAt = Date.now();
  };

  /** Appends one chunk of whole lines; on failure, cuts the file back so that no partial line remains. */
  const append = async (chunk: string): Promise<void> => {
    if (chunk === '') return;
    const data = Buffer.from(chunk, 'utf8');
    try {
      await writeAllAsync(fd, data, () => aborted);
    } catch (e) {
      try {
        fs.ftruncateSync(fd, size);
      } catch {
        /* not a regular file: nothing to cut */
      }
      throw e;
    }
    size += data.length;
  };

  return {
    name,
    batchDocs: 1000,
    batchMs: 0,
    maxInFlight: 1,
    async send(docs: EcsDoc[]): Promise<Outcome> {
      const { sent, lines, failed } = encodeAll(docs, (d) => JSON.stringify(d));
      let written = 0; // documents safely in a file
      let chunk = '';
      let chunkBytes = 0;
      let chunkDocs = 0;
      try {
        if (fd < 0) open(); // a rotation that could not reopen the file is tried again here
        if (size > 0 && Date.now() - openedAt >= rotateMs) await rotate();
        for (const line of lines) {
          const n = Buffer.byteLength(line) + 1;
          if (size + chunkBytes + n > rotateBytes && size + chunkBytes > 0) {
            await append(chunk);
            written += chunkDocs;
            chunk = '';
            chunkBytes = 0;
            chunkDocs = 0;
            await rotate();
          }
          chunk += line + '\n';
          chunkBytes += n;
          chunkDocs++;
        }
        await append(chunk);
        written += chunkDocs;
      } catch (e) {
        if (written === 0) throw e;
        return { retry: sent.slice(written), retryReason: `${cfg.path}: ${errorText(e)}`, failed };
      }
      return { retry: [], failed };
    },
    async close() {
      if (fd >= 0) fs.closeSync(fd);
      fd = -1;
    },
    abort() {
      aborted = true;
    },
  };
}
