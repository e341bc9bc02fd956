import * as fs from 'node:fs';

/**
 * Reading at file offsets (what the capture and gzip readers do) over an input that cannot seek: standard input
 * or a FIFO. The readers go forward, and back at most to the start of their previous read (a gzip header read again
 * with a larger buffer, a trailer inside the last chunk given to the inflater), so only the bytes from that start
 * on are kept: memory stays at one read (at most a few MiB) however long the stream is.
 */
export interface PositionalSource {
  /** Fills buf from offset `at`; returns the bytes read (short only at the end of the input). */
  readAt(buf: Buffer, at: number): number;
  close(): void;
}

/** Whether a path names a stream input: "-" (standard input) or anything that is not a regular file or directory. */
export function isStreamInput(path: string, st: fs.Stats | null): boolean {
  return path === '-' || (st !== null && !st.isFile() && !st.isDirectory());
}

/** What a path is called in messages: "-" is standard input. */
export function inputName(path: string): string {
  return path === '-' ? 'standard input' : path;
}

/**
 * Opens a stream input. Standard input is fd 0 itself, not /dev/stdin opened anew: that fails (ENXIO) when fd 0 is
 * a socket, as it is under a Node parent or inetd-style supervisors. Reads block; a non-blocking fd 0 is waited on.
 */
export function openStreamInput(path: string): PositionalSource {
  const fd = path === '-' ? 0 : fs.openSync(path, 'r');
  let kept = Buffer.alloc(0); // bytes [base, base + kept.length) of the stream
  let base = 0;
  let eof = false;
  const readMore = (want: number): void => {
    const chunk = Buffer.allocUnsafe(Math.max(want, 64 * 1024));
    let n = 0;
    for (;;) {
      try {
        n = fs.readSync(fd, chunk, 0, chunk.length, null);
        break;
      } catch (e) {
        // An inherited non-blocking descriptor: wait for data rather than fail.
        if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
      }
    }
    if (n === 0) eof = true;
    else kept = Buffer.concat([kept, chunk.subarray(0, n)]);
  };
  return {
    readAt(buf, at) {
      if (at < base) throw new Error(`a stream input cannot go back to byte ${at} (kept from byte ${base})`);
      const drop = Math.min(at - base, kept.length);
      kept = kept.subarray(drop);
      base += drop;
      // Skipped-over bytes that were never read (a reader jumping ahead) are read and dropped.
      while (base < at && !eof) {
        readMore(at - base);
        const d = Math.min(at - base, kept.length);
        kept = kept.subarray(d);
        base += d;
      }
      while (kept.length < buf.length && !eof) readMore(buf.length - kept.length);
      const n = Math.min(buf.length, kept.length);
      kept.copy(buf, 0, 0, n);
      return n;
    },
    close: () => {
      if (fd !== 0) fs.closeSync(fd);
    },
  };
}
