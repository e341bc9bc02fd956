import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { Readable } from 'node:stream';
import { parseArgs } from 'node:util';
import * as zlib from 'node:zlib';
import { createEcsStamper } from '../alert/ecs';
import { BATCH_MAX_PACKETS } from '../capture/batch';
import { isPcapMagic } from '../capture/pcap';
import { isPcapngMagic } from '../capture/pcapng';
import { loadConfigFile, type PicketConfig } from '../config/config-file';
import { PicketError } from '../errors';
import type { Output } from '../output/writer';
import { createAnalyzer, type AnalysisLimits, type Analyzer } from '../report/aggregate';
import { buildReport, MAX_EMBEDDED_DOCS } from '../report/html';
import { REPORT, REPORT_OPTIONS } from './commands';
import { commandHelp, parseArgsOptions } from './option-table';
import { replayInto } from './replay-run';
import { detectionSettings } from './settings';

const OPTIONS = parseArgsOptions(REPORT_OPTIONS);

/**
 * The report's bounds: rows per table (sources, clients, incidents), documents shown per incident and in all (the
 * first of each severity band). A larger input is still counted whole; what did not fit a table is stated in the report.
 */
export const REPORT_LIMITS: AnalysisLimits = { maxKeys: 200_000, docsPerIncident: 5, maxSampleDocs: MAX_EMBEDDED_DOCS, bucketSeconds: 60 };

type Kind = 'capture' | 'ndjson';

/** A capture (pcap, pcapng, either gzip-compressed) or NDJSON, by the first bytes (decompressed for gzip). */
export function kindOf(head: Buffer): Kind {
  let h = head;
  if (h.length >= 2 && h[0] === 0x1f && h[1] === 0x8b) {
    try {
      h = zlib.gunzipSync(head, { finishFlush: zlib.constants.Z_SYNC_FLUSH });
    } catch {
      return 'capture'; // not even gzip: the replay path says what is wrong with it
    }
  }
  return h.length >= 4 && (isPcapMagic(h) || isPcapngMagic(h)) ? 'capture' : 'ndjson';
}

function head(file: string): Buffer {
  const fd = fs.openSync(file, 'r');
  try {
    const b = Buffer.alloc(64 * 1024);
    return b.subarray(0, fs.readSync(fd, b, 0, b.length, 0));
  } finally {
    fs.closeSync(fd);
  }
}

async function readNdjson(input: Readable, analyzer: Analyzer): Promise<void> {
  const lines = readline.createInterface({ input, crlfDelay: Infinity });
  for await (const line of lines) {
    if (line.trim() === '') continue;
    let doc: unknown;
    try {
      doc = JSON.parse(line);
    } catch {
      analyzer.unreadable();
      continue;
    }
    if (doc !== null && typeof doc === 'object' && !Array.isArray(doc)) analyzer.add(doc as Record<string, unknown>);
    else analyzer.unreadable();
  }
}

function ndjsonStream(file: string, gz: boolean): Readable {
  const s = fs.createReadStream(file);
  return gz ? s.pipe(zlib.createGunzip()) : s;
}

/** Standard input: NDJSON read as it comes, or a capture spooled to a temporary file for the replay path. */
async function readStdin(analyzer: Analyzer, captures: string[], tmp: () => string): Promise<void> {
  const it = process.stdin[Symbol.asyncIterator]();
  const first = await it.next();
  if (first.done === true) return;
  const chunk = first.value as Buffer;
  const rest = async function* (): AsyncGenerator<Buffer> {
    yield chunk;
    for (let n = await it.next(); n.done !== true; n = await it.next()) yield n.value as Buffer;
  };
  if (kindOf(chunk) === 'capture') {
    const file = path.join(tmp(), 'stdin.capture');
    const out = fs.createWriteStream(file);
    for await (const b of rest()) if (!out.write(b)) await new Promise<void>((r) => out.once('drain', () => r()));
    await new Promise<void>((resolve, reject) => out.end((e?: Error | null) => (e ? reject(e) : resolve())));
    captures.push(file);
    return;
  }
  const gz = chunk[0] === 0x1f && chunk[1] === 0x8b;
  const src = Readable.from(rest());
  await readNdjson(gz ? src.pipe(zlib.createGunzip()) : src, analyzer);
}

export async function reportCommand(argv: string[], version: string): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (e) {
    throw new PicketError(`${(e as Error).message.split('\n')[0]} (try picket report --help)`);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(commandHelp(REPORT));
    return 0;
  }
  if (positionals.length === 0 && process.stdin.isTTY === true) throw new PicketError('report needs NDJSON or capture files, or - with standard input redirected (try picket report --help)');
  const output = values.output ?? 'report.html';
  const inputs = positionals.length > 0 ? positionals : ['-'];
  if (inputs.filter((i) => i === '-').length > 1) throw new PicketError('standard input (-) can be named once');
  const cfg: PicketConfig = values.config !== undefined ? loadConfigFile(values.config) : {};
  const { setup, loadRules } = detectionSettings(values, cfg, BATCH_MAX_PACKETS);
  const started = Date.now();
  const analyzer = createAnalyzer(REPORT_LIMITS);
  const captures: string[] = [];
  let tmpDir: string | null = null;
  const tmp = (): string => (tmpDir ??= fs.mkdtempSync(path.join(os.tmpdir(), 'picket-report-')));
  let rulesUsed: string[] = [];
  try {
    for (const input of inputs) {
      if (input === '-') {
        await readStdin(analyzer, captures, tmp);
        continue;
      }
      let h: Buffer;
      try {
        h = head(input);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        throw new PicketError(`${input}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'a directory (name the files, or replay it into NDJSON first)' : `cannot read: ${code ?? String(e)}`}`);
      }
      if (kindOf(h) === 'capture') captures.push(input);
      else await readNdjson(ndjsonStream(input, h[0] === 0x1f && h[1] === 0x8b), analyzer);
    }
    if (captures.length > 0) {
      const rules = loadRules();
      rulesUsed = rules.files;
      const stamp = createEcsStamper();
      let written = 0;
      const out: Output = { write: (d) => void (written++, analyzer.add(stamp(d))), flush: () => undefined, close: () => undefined, written: () => written };
      await replayInto(captures, setup, rules, 0, out, version);
    }
  } finally {
    if (tmpDir !== null) fs.rmSync(tmpDir, { recursive: true, force: true });
  }
  const analysis = analyzer.result();
  const html = buildReport(analysis, {
    title: values.title ?? `picket report: ${inputs.map((i) => (i === '-' ? 'standard input' : path.basename(i))).join(', ')}`,
    inputs: inputs.map((i) => (i === '-' ? 'standard input' : i)),
    replayed: captures.map((c) => (c.startsWith(tmpDir ?? '\u0000') ? 'standard input' : c)),
    version,
    rules: rulesUsed.length > 0 ? rulesUsed : analysis.ruleFiles,
    generated: new Date(started).toISOString(),
  });
  try {
    fs.writeFileSync(output, html);
  } catch (e) {
    throw new PicketError(`${output}: cannot write: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  process.stderr.write(`picket: report of ${analysis.alerts} alerts in ${analysis.incidents.length} incidents written to ${output} (${html.length} bytes)\n`);
  return 0;
}
