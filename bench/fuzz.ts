/**
 * picket's own mutation fuzzer: the bundled captures (pcaps/**, every format) damaged in many ways
 * (bench/fuzz-mutate.ts), each mutated file replayed by the real command line inline and with --workers 2, and
 * held to what picket promises: exit 0 or 2 (never 70, never a signal), an end within a time bound, peak memory
 * under a bound, and the same documents inline as with workers.
 *
 *   npm run fuzz -- --packets 1m [--seed 1] [--out DIR] [--jobs 1] [--max-file-packets 20000]
 *                   [--timeout 60] [--max-rss-mb 512] [--only INDEX] [--no-slowest]
 *
 * Prints and writes DIR/summary.json: packets written and replayed, runs, crashes, timeouts, runs over the memory
 * bound, inline-vs-workers differences, the slowest file (time per packet, start-up taken off), the slowest single
 * packet of that file (timed in this process, one packet a batch), peak RSS. Every failing input is kept under
 * DIR/failures with a .json that says what was seen and how to run it again; the slowest file is kept too.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadSeeds, mutatedFile, type MutatedFile, type SeedPacket } from './fuzz-mutate';
import { readCaptureFile } from '../src/capture/file';
import { pcapFileHeader } from '../src/capture/pcap';
import { DEFAULT_HOME_NET } from '../src/config/homenet';
import { createAlertPipeline } from '../src/engine/alert-pipeline';
import { createEngine } from '../src/engine/engine';
import { engineConfig, loadAllRules, type EngineSetup } from '../src/engine/setup';

const ROOT = path.resolve(__dirname, '..', '..');
const BIN = path.join(ROOT, 'bin', 'picket.js');
const TIME_TAG = 'PICKET_FUZZ_TIME';
/** Files with fewer packets are not candidates for the slowest file: start-up's noise would be most of their time. */
const SLOWEST_MIN_PACKETS = 1000;

interface Options {
  packets: number;
  seed: number;
  out: string;
  jobs: number;
  maxFilePackets: number;
  timeoutS: number;
  maxRssMb: number;
  workers: number;
  only: number | null;
  slowest: boolean;
}

function count(s: string): number {
  const m = /^(\d+(?:\.\d+)?)([kmKM]?)$/.exec(s);
  if (m === null) throw new Error(`not a count: ${s}`);
  return Math.round(Number(m[1]) * (m[2] === '' ? 1 : m[2].toLowerCase() === 'k' ? 1e3 : 1e6));
}

function parseOptions(argv: string[]): Options {
  const get = (name: string): string | undefined => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const seed = Number(get('seed') ?? '1');
  return {
    packets: count(get('packets') ?? '20k'),
    seed,
    out: path.resolve(get('out') ?? path.join(os.tmpdir(), `picket-fuzz-${seed}`)),
    jobs: Math.max(1, Number(get('jobs') ?? '1')),
    maxFilePackets: count(get('max-file-packets') ?? '20000'),
    timeoutS: Number(get('timeout') ?? '60'),
    maxRssMb: Number(get('max-rss-mb') ?? '512'),
    workers: Number(get('workers') ?? '2'),
    only: get('only') !== undefined ? Number(get('only')) : null,
    slowest: !argv.includes('--no-slowest'),
  };
}

interface RunResult {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  seconds: number;
  rssKb: number;
  timedOut: boolean;
}

/** One replay by the real command line under GNU time (peak RSS of the process and anything it waits for). */
function runPicket(file: string, workers: number, timeoutS: number): Promise<RunResult> {
  return new Promise((resolve) => {
    const args = ['-f', `${TIME_TAG} %e %M`, process.execPath, BIN, 'replay', '--metadata', ...(workers > 0 ? ['--workers', String(workers)] : []), file];
    // Its own process group, so that a timeout kills picket and not only GNU time.
    const child = spawn('/usr/bin/time', args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    let timedOut = false;
    const started = process.hrtime.bigint();
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-(child.pid ?? 0), 'SIGKILL');
      } catch {
        // already gone
      }
    }, timeoutS * 1000);
    child.on('close', (code) => {
      clearTimeout(timer);
      const stderrAll = Buffer.concat(err).toString('utf8');
      const m = new RegExp(`${TIME_TAG} ([\\d.]+) (\\d+)`).exec(stderrAll);
      const sig = /Command terminated by signal (\d+)/.exec(stderrAll);
      const stderr = stderrAll.split('\n').filter((l) => !l.startsWith(TIME_TAG) && !l.startsWith('Command exited with non-zero status')).join('\n');
      resolve({
        code: sig !== null ? null : code,
        signal: sig !== null ? `signal ${sig[1]}` : null,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr,
        seconds: m !== null ? Number(m[1]) : Number(process.hrtime.bigint() - started) / 1e9,
        rssKb: m !== null ? Number(m[2]) : 0,
        timedOut,
      });
    });
  });
}

/** Keys of the final metric document that would hold wall-clock time (none today): left out of the comparison. */
const TIMING_KEY = /(^|_)(seconds|elapsed|wall|uptime)(_|$)|_ms$|per_second/;

function stripTiming(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(stripTiming);
  if (v === null || typeof v !== 'object') return v;
  const o: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) if (!TIMING_KEY.test(k)) o[k] = stripTiming(x);
  return o;
}

/**
 * The documents of a run as lines to compare with another run's: without event.id (a random run id and a sequence
 * number, unique to each run by design), and a metric document without wall-clock fields, which are its times
 * too when the run saw no packets.
 */
export function comparable(stdout: string): string[] {
  return stdout.split('\n').filter((l) => l !== '').map((l) => {
    let doc: unknown;
    try {
      doc = JSON.parse(l);
    } catch {
      return l;
    }
    if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) return l;
    const d = doc as Record<string, unknown>;
    const event = typeof d.event === 'object' && d.event !== null ? (d.event as Record<string, unknown>) : null;
    if (event === null) return l;
    delete event.id;
    if (event.kind !== 'metric') return JSON.stringify(d);
    const stats = (d.picket as { stats?: { packets?: number } } | undefined)?.stats;
    if (stats?.packets === 0) {
      delete d['@timestamp'];
      delete event.start;
      delete event.end;
      delete event.duration;
    }
    return JSON.stringify(stripTiming(d));
  });
}

function packetsOf(stdout: string): number {
  const i = stdout.lastIndexOf('{"@timestamp"');
  if (i < 0) return 0;
  try {
    const doc = JSON.parse(stdout.slice(i)) as { picket?: { stats?: { packets?: number } } };
    return doc.picket?.stats?.packets ?? 0;
  } catch {
    return 0;
  }
}

type FailureKind = 'crash' | 'timeout' | 'memory' | 'difference';

interface Failure {
  kind: FailureKind;
  index: number;
  file: string;
  detail: string;
}

export interface Summary {
  seed: number;
  files: number;
  packetsWritten: number;
  packetsReplayed: number;
  runs: number;
  crashes: number;
  timeouts: number;
  overMemory: number;
  differences: number;
  exitCodes: Record<string, number>;
  peakRssMb: number;
  peakRssRun: string;
  startupSeconds: number;
  /** seconds: the replay's own time (its summary's, start-up left out). */
  slowestFile: { index: number; packets: number; seconds: number; usPerPacket: number; kept: string } | null;
  slowestPacket: { index: number; us: number; medianUs: number; kept: string } | null;
  wallSeconds: number;
  failures: Failure[];
}

function firstDifference(a: string[], b: string[]): string {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return `document ${i + 1}: inline ${a[i].slice(0, 400)} | workers ${b[i].slice(0, 400)}`;
  return `inline ${a.length} documents, workers ${b.length}`;
}

/** A 1-packet capture: to measure start-up, taken off every file's time before dividing by its packets. */
function startupProbe(dir: string): string {
  const f = path.join(dir, 'startup.pcap');
  const rec = Buffer.alloc(16 + 60);
  rec.writeUInt32LE(1_700_000_000, 0);
  rec.writeUInt32LE(60, 8);
  rec.writeUInt32LE(60, 12);
  fs.writeFileSync(f, Buffer.concat([pcapFileHeader(1, false), rec]));
  return f;
}

/**
 * The slowest single packet of a file: replayed in this process one packet a batch through the engine and the
 * alert pipeline (documents serialised, then dropped), each packet timed; the least of three passes per packet,
 * so that a pause of the machine is not taken for a slow packet.
 */
async function slowestPacket(file: string, outDir: string): Promise<Summary['slowestPacket']> {
  const setup: EngineSetup = { rulesDirs: [], homeNet: DEFAULT_HOME_NET, metadata: true, batchPackets: 1 };
  const rules = loadAllRules(setup);
  let best: Float64Array | null = null;
  const kept: SeedPacket[] = [];
  for (let pass = 0; pass < 3; pass++) {
    const out = { write: (d: unknown): void => void JSON.stringify(d), flush: (): void => {}, close: (): void => {}, written: (): number => 0 };
    const pipeline = createAlertPipeline(rules, { version: 'fuzz', hostname: 'fuzz' }, out, true);
    const engine = createEngine(engineConfig(setup, rules, 0, 1), pipeline);
    const times: number[] = [];
    await readCaptureFile(file, (b) => {
      const t0 = process.hrtime.bigint();
      engine.processBatch(b);
      times.push(Number(process.hrtime.bigint() - t0) / 1e3);
      if (pass === 0) kept.push({ linktype: b.linktype[0], sec: b.tsSec[0], nsec: b.tsNsec[0], origlen: b.origlen[0], data: Buffer.from(b.data.subarray(b.offset[0], b.offset[0] + b.caplen[0])) });
    }, { firstOrdinal: 0, batchPackets: 1 });
    pipeline.finish();
    if (best === null) best = Float64Array.from(times);
    else for (let i = 0; i < best.length && i < times.length; i++) best[i] = Math.min(best[i], times[i]);
  }
  if (best === null || best.length === 0) return null;
  let at = 0;
  for (let i = 1; i < best.length; i++) if (best[i] > best[at]) at = i;
  const sorted = Float64Array.from(best).sort();
  const p = kept[at];
  const f = path.join(outDir, 'slowest-packet.pcap');
  const rec = Buffer.alloc(16);
  rec.writeUInt32LE(p.sec >>> 0, 0);
  rec.writeUInt32LE(Math.floor(p.nsec / 1000), 4);
  rec.writeUInt32LE(p.data.length, 8);
  rec.writeUInt32LE(p.origlen >>> 0, 12);
  fs.writeFileSync(f, Buffer.concat([pcapFileHeader(p.linktype, false), rec, p.data]));
  return { index: at, us: Math.round(best[at] * 10) / 10, medianUs: Math.round(sorted[sorted.length >> 1] * 10) / 10, kept: f };
}

export async function campaign(opts: Options, log: (s: string) => void): Promise<Summary> {
  const t0 = Date.now();
  const work = path.join(opts.out, 'work');
  const failDir = path.join(opts.out, 'failures');
  fs.mkdirSync(work, { recursive: true });
  const seeds = await loadSeeds(path.join(ROOT, 'pcaps'));
  const allPackets = seeds.flatMap((s) => s.packets);
  log(`fuzz: ${seeds.length} seed captures, ${allPackets.length} packets; seed ${opts.seed}, target ${opts.packets} packets, out ${opts.out}`);

  const probe = startupProbe(work);
  let startup = Infinity;
  for (let i = 0; i < 3; i++) startup = Math.min(startup, (await runPicket(probe, 0, opts.timeoutS)).seconds);

  const s: Summary = {
    seed: opts.seed, files: 0, packetsWritten: 0, packetsReplayed: 0, runs: 0, crashes: 0, timeouts: 0, overMemory: 0,
    differences: 0, exitCodes: {}, peakRssMb: 0, peakRssRun: '', startupSeconds: startup, slowestFile: null,
    slowestPacket: null, wallSeconds: 0, failures: [],
  };

  const fail = (kind: FailureKind, m: MutatedFile, index: number, file: string, detail: string): void => {
    fs.mkdirSync(failDir, { recursive: true });
    const kept = path.join(failDir, `${kind}-${m.name}`);
    fs.copyFileSync(file, kept);
    const info = { kind, seed: opts.seed, index, recipe: m.recipe, packets: m.packets, detail, again: `npm run fuzz -- --seed ${opts.seed} --only ${index}`, replay: `node bin/picket.js replay --metadata [--workers ${opts.workers}] ${kept}` };
    fs.writeFileSync(`${kept}.json`, `${JSON.stringify(info, null, 2)}\n`);
    s.failures.push({ kind, index, file: kept, detail: detail.slice(0, 2000) });
    if (kind === 'crash') s.crashes++;
    else if (kind === 'timeout') s.timeouts++;
    else if (kind === 'memory') s.overMemory++;
    else s.differences++;
    log(`fuzz: ${kind} on file ${index} (${m.recipe.slice(0, 6).join(' ')}): ${detail.slice(0, 300)}`);
  };

  const check = (r: RunResult, label: string, m: MutatedFile, index: number, file: string): void => {
    s.runs++;
    const code = r.timedOut ? 'timeout' : r.signal ?? String(r.code);
    s.exitCodes[code] = (s.exitCodes[code] ?? 0) + 1;
    if (r.rssKb / 1024 > s.peakRssMb) {
      s.peakRssMb = Math.round(r.rssKb / 1024);
      s.peakRssRun = `file ${index} ${label}`;
    }
    if (r.timedOut) fail('timeout', m, index, file, `${label}: no end within ${opts.timeoutS} s`);
    else if (r.signal !== null || (r.code !== 0 && r.code !== 2) || /internal error/.test(r.stderr)) fail('crash', m, index, file, `${label}: exit ${r.signal ?? r.code}: ${r.stderr.trim().slice(0, 1500)}`);
    else if (r.rssKb > opts.maxRssMb * 1024) fail('memory', m, index, file, `${label}: peak RSS ${Math.round(r.rssKb / 1024)} MB over ${opts.maxRssMb} MB`);
  };

  let slowest: { perPacket: number; index: number; packets: number; seconds: number } | null = null;
  const slowestKept = path.join(opts.out, 'slowest-file');

  const one = async (index: number): Promise<void> => {
    const m = mutatedFile(seeds, allPackets, opts.seed, index, { maxPackets: opts.maxFilePackets });
    const file = path.join(work, m.name);
    fs.writeFileSync(file, m.bytes);
    s.files++;
    s.packetsWritten += m.packets;
    const inline = await runPicket(file, 0, opts.timeoutS);
    check(inline, 'inline', m, index, file);
    const workers = await runPicket(file, opts.workers, opts.timeoutS);
    check(workers, `--workers ${opts.workers}`, m, index, file);
    const replayed = inline.code === 0 ? packetsOf(inline.stdout) : 0;
    s.packetsReplayed += replayed;
    if (!inline.timedOut && !workers.timedOut) {
      const a = comparable(inline.stdout);
      const b = comparable(workers.stdout);
      if (inline.code !== workers.code) fail('difference', m, index, file, `exit ${inline.code} inline, ${workers.code} with workers: ${inline.stderr.trim().slice(0, 300)} | ${workers.stderr.trim().slice(0, 300)}`);
      else if (a.length !== b.length || a.some((l, i) => l !== b[i])) fail('difference', m, index, file, firstDifference(a, b));
    }
    // Start-up is most of a small file's time: only files with enough packets say anything per packet. The
    // replay's own time from its summary leaves start-up out; the wall time less the start-up probe is the fallback.
    if (inline.code === 0 && replayed >= SLOWEST_MIN_PACKETS) {
      const own = /packets, \d+ bytes in ([\d.]+) s/.exec(inline.stderr);
      const perPacket = (own !== null ? Number(own[1]) : Math.max(0, inline.seconds - startup)) / replayed;
      if (slowest === null || perPacket > slowest.perPacket) {
        slowest = { perPacket, index, packets: replayed, seconds: perPacket * replayed };
        for (const f of fs.readdirSync(opts.out)) if (f.startsWith('slowest-file')) fs.rmSync(path.join(opts.out, f));
        fs.copyFileSync(file, `${slowestKept}-${m.name}`);
      }
    }
    fs.rmSync(file);
  };

  if (opts.only !== null) {
    await one(opts.only);
  } else {
    let next = 0;
    let lastLog = Date.now();
    const lane = async (): Promise<void> => {
      while (s.packetsWritten < opts.packets) {
        await one(next++);
        if (Date.now() - lastLog > 30_000) {
          lastLog = Date.now();
          log(`fuzz: ${s.files} files, ${s.packetsWritten} packets written, ${s.packetsReplayed} replayed, ${s.runs} runs, ${s.crashes} crashes, ${s.timeouts} timeouts, ${s.differences} differences, ${s.overMemory} over memory; ${Math.round((Date.now() - t0) / 1000)} s`);
        }
      }
    };
    await Promise.all(Array.from({ length: opts.jobs }, lane));
  }
  fs.rmSync(work, { recursive: true, force: true });

  const sl = slowest as { perPacket: number; index: number; packets: number; seconds: number } | null;
  if (sl !== null) {
    const kept = fs.readdirSync(opts.out).find((f) => f.startsWith('slowest-file')) ?? '';
    s.slowestFile = { index: sl.index, packets: sl.packets, seconds: sl.seconds, usPerPacket: Math.round(sl.perPacket * 1e7) / 10, kept: path.join(opts.out, kept) };
    if (opts.slowest) s.slowestPacket = await slowestPacket(s.slowestFile.kept, opts.out);
  }
  s.wallSeconds = Math.round((Date.now() - t0) / 100) / 10;
  fs.writeFileSync(path.join(opts.out, 'summary.json'), `${JSON.stringify(s, null, 2)}\n`);
  return s;
}

async function main(): Promise<void> {
  const opts = parseOptions(process.argv.slice(2));
  const s = await campaign(opts, (l) => process.stderr.write(`${l}\n`));
  process.stdout.write(`${JSON.stringify(s, null, 2)}\n`);
  process.exitCode = s.crashes + s.timeouts + s.overMemory + s.differences === 0 ? 0 : 1;
}

if (require.main === module) void main();
