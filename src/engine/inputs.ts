import * as fs from 'node:fs';
import * as path from 'node:path';
import { firstTimestamp } from '../capture/file';
import { PicketError } from '../errors';
import { isStreamInput } from '../capture/stream-input';

export interface OrderedInputs {
  files: string[];
  /** Files in the given directories that are not captures, passed over. */
  skipped: string[];
  /** The inputs among files that are read as they come: "-" (standard input) and FIFOs. */
  streams: string[];
}

/**
 * Expands directories (recursively) and orders every capture by the time of its first packet (then by name), so
 * that a set of rotated files replays as the one stream it was. A named file that is not a capture is an error;
 * a non-capture inside a directory is passed over and reported.
 */
export async function orderInputs(inputs: string[]): Promise<OrderedInputs> {
  const named: Array<{ file: string; explicit: boolean }> = [];
  // Standard input and FIFOs can be read once only, so they cannot be peeked at for their first packet's time:
  // they are replayed first, in the order given, then the files in time order.
  const streams: string[] = [];
  for (const input of inputs) {
    let st: fs.Stats | null = null;
    if (input !== '-') {
      try {
        st = fs.statSync(input);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        throw new PicketError(`${input}: ${code === 'ENOENT' || code === 'ENOTDIR' ? 'no such file or directory' : `cannot read: ${code ?? String(e)}`}`);
      }
    }
    if (isStreamInput(input, st)) {
      if (input === '-' && inputs.filter((i) => i === '-').length > 1) throw new PicketError('standard input (-) can be named once');
      if (!streams.includes(input)) streams.push(input);
    } else if (st !== null && st.isDirectory()) {
      for (const f of walk(input)) named.push({ file: f, explicit: false });
    } else {
      named.push({ file: input, explicit: true });
    }
  }
  const found: Array<{ file: string; ts: number }> = [];
  const skipped: string[] = [];
  for (const { file, explicit } of named) {
    try {
      const ts = await firstTimestamp(file);
      found.push({ file, ts: ts ?? Infinity });
    } catch (e) {
      if (explicit || !(e instanceof PicketError)) throw e;
      skipped.push(file);
    }
  }
  found.sort((a, b) => (a.ts !== b.ts ? a.ts - b.ts : a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
  return { files: [...streams, ...found.map((f) => f.file)], skipped, streams };
}

function walk(dir: string): string[] {
  const out: string[] = [];
  let ents: fs.Dirent[];
  try {
    ents = fs.readdirSync(dir, { withFileTypes: true });
  } catch (e) {
    throw new PicketError(`${dir}: cannot read directory: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  for (const ent of ents) {
    const full = path.join(dir, ent.name);
    if (ent.isDirectory()) out.push(...walk(full));
    else if (ent.isFile()) out.push(full);
  }
  return out.sort();
}
