import * as fs from 'node:fs';
import * as path from 'node:path';
import { firstTimestamp } from '../capture/file';
import { PicketError } from '../errors';

export interface OrderedInputs {
  files: string[];
  /** Files in the given directories that are not captures, passed over. */
  skipped: string[];
}

/**
 * Expands directories (recursively) and orders every capture by the time of its first packet (then by name), so
 * that a set of rotated files replays as the one stream it was. A named file that is not a capture is an error;
 * a non-capture inside a directory is passed over and reported.
 */
export async function orderInputs(inputs: string[]): Promise<OrderedInputs> {
  const named: Array<{ file: string; explicit: boolean }> = [];
  for (const input of inputs) {
    let st: fs.Stats;
    try {
      st = fs.statSync(input);
    } catch {
      throw new PicketError(`${input}: no such file or directory`);
    }
    if (st.isDirectory()) {
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
  return { files: found.map((f) => f.file), skipped };
}

function walk(dir: string): string[] {
  const out: string[] = [];
  for (const ent of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, ent.name);
    if (ent.isDirectory()) out.push(...walk(full));
    else if (ent.isFile()) out.push(full);
  }
  return out.sort();
}
