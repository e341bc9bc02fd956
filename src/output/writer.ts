import * as fs from 'node:fs';
import * as path from 'node:path';
import type { EcsDoc } from '../alert/ecs';
import { PicketError } from '../errors';
import { formatText } from './text';

export type OutputFormat = 'ndjson' | 'text';

export interface Output {
  write(doc: EcsDoc): void;
  /** Writes what is buffered; throws a PicketError saying how many documents were lost if the output fails. */
  flush(): void;
  close(): void;
  written(): number;
}

const FLUSH_AT = 64 * 1024;

/**
 * NDJSON or text lines to stdout or a file, through synchronous writes of buffered text: alerts are rare, and a
 * synchronous write means a failing output is known at once, with the number of documents it lost.
 */
export function createOutput(target: string | null, format: OutputFormat): Output {
  let fd: number;
  if (target === null || target === '-') {
    fd = 1;
  } else {
    try {
      if (!fs.existsSync(path.dirname(target))) fs.mkdirSync(path.dirname(target), { recursive: true });
      fd = fs.openSync(target, 'a');
    } catch (e) {
      throw new PicketError(`${target}: cannot open for writing: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
    }
  }
  let pending = '';
  let pendingDocs = 0;
  let done = 0;
  const name = target ?? 'stdout';
  const flush = (): void => {
    if (pending === '') return;
    const bytes = Buffer.from(pending, 'utf8');
    let off = 0;
    try {
      while (off < bytes.length) {
        try {
          off += fs.writeSync(fd, bytes, off, bytes.length - off);
        } catch (e) {
          // A non-blocking pipe that is full: wait for the reader rather than lose alerts.
          if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
          Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
        }
      }
    } catch (e) {
      throw new PicketError(`output ${name} failed (${(e as NodeJS.ErrnoException).code ?? String(e)}): ${pendingDocs} documents not written`);
    }
    done += pendingDocs;
    pending = '';
    pendingDocs = 0;
  };
  return {
    write(doc) {
      pending += (format === 'text' ? formatText(doc) : JSON.stringify(doc)) + '\n';
      pendingDocs++;
      if (pending.length >= FLUSH_AT) flush();
    },
    flush,
    close() {
      flush();
      if (fd !== 1) fs.closeSync(fd);
    },
    written: () => done,
  };
}
