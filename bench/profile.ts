/**
 * Where one replay's time and garbage go, in three views of the same command (each its own run):
 *   - CPU: a V8 CPU profile, self time by function and by source folder, with the garbage collector's share;
 *   - allocation: V8's sampling heap profiler, keeping the objects the GC collected (what a profile of the live heap
 *     never shows: the garbage), by allocating function and its caller;
 *   - threads: CPU of every thread of the process (/proc/PID/task), sampled until it exits: the main thread, the
 *     workers, and V8's background threads (TurboFan compiling, concurrent GC), which a CPU profile does not show.
 *   node dist/bench/profile.js [--file bench/data/mix-2m.pcap] [--workers 0] [--top 25] [--only cpu,alloc,threads]
 * Nothing is timed against anything here: use it to find what to change, and run.js or paired runs to measure it.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';

const ROOT = path.resolve(__dirname, '..', '..');

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
}

interface CallFrame { functionName: string; url: string; lineNumber: number }
interface CpuNode { id: number; callFrame: CallFrame }
interface CpuProfile { nodes: CpuNode[]; samples: number[]; timeDeltas: number[] }
interface HeapNode { id: number; callFrame: CallFrame; children?: HeapNode[] }
interface HeapProfile { head: HeapNode; samples: Array<{ nodeId: number; size: number }> }

function where(cf: CallFrame): string {
  const file = cf.url.split('/').slice(-2).join('/');
  return `${cf.functionName === '' ? '(anonymous)' : cf.functionName} ${file}${file === '' ? '' : `:${cf.lineNumber + 1}`}`;
}

function folder(cf: CallFrame): string {
  const i = cf.url.indexOf('/dist/src/');
  if (i >= 0) return cf.url.slice(i + 10).split('/').slice(0, -1).join('/') || 'src';
  if (cf.url.includes('node_modules/')) return `npm:${cf.url.split('node_modules/')[1].split('/')[0]}`;
  return cf.url === '' ? cf.functionName : 'node';
}

function table(rows: Array<[string, number]>, total: number, unit: string, top: number): void {
  for (const [k, v] of rows.sort((a, b) => b[1] - a[1]).slice(0, top)) {
    console.log(`${v.toFixed(1).padStart(9)} ${unit} ${((100 * v) / total).toFixed(1).padStart(5)} %  ${k}`);
  }
}

function add(m: Map<string, number>, k: string, v: number): void {
  m.set(k, (m.get(k) ?? 0) + v);
}

function picketArgs(file: string, workers: string): string[] {
  return [path.join(ROOT, 'bin', 'picket.js'), 'replay', file, '--workers', workers, '--summary', 'none', '--out', '/dev/null'];
}

function cpu(file: string, workers: string, top: number): void {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'picket-cpuprof-'));
  try {
    const r = spawnSync(process.execPath, ['--cpu-prof', '--cpu-prof-dir', dir, ...picketArgs(file, workers)], { stdio: ['ignore', 'ignore', 'inherit'] });
    if (r.status !== 0) throw new Error(`picket exited ${r.status}`);
    for (const f of fs.readdirSync(dir).sort()) {
      const p = JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) as CpuProfile;
      const byId = new Map(p.nodes.map((n) => [n.id, n]));
      const fn = new Map<string, number>();
      const dirs = new Map<string, number>();
      let total = 0;
      p.samples.forEach((id, i) => {
        const ms = (p.timeDeltas[i] ?? 0) / 1000;
        const cf = byId.get(id)!.callFrame;
        total += ms;
        add(fn, where(cf), ms);
        add(dirs, folder(cf), ms);
      });
      console.log(`\n## CPU profile ${f} (one thread): ${total.toFixed(0)} ms sampled, garbage collector ${((100 * (fn.get('(garbage collector) ') ?? 0)) / total).toFixed(1)} %`);
      table([...dirs], total, 'ms', 12);
      console.log('');
      table([...fn], total, 'ms', top);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** The preload for the allocation view: sampling heap profiler, collected objects kept, written at exit. */
const PRELOAD = `
const inspector = require('node:inspector');
const fs = require('node:fs');
const s = new inspector.Session();
s.connect();
s.post('HeapProfiler.enable');
s.post('HeapProfiler.startSampling', { samplingInterval: 32768, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
process.on('exit', () => s.post('HeapProfiler.stopSampling', (e, r) => { if (!e) fs.writeFileSync(process.env.PICKET_ALLOC_OUT, JSON.stringify(r.profile)); }));
`;

function alloc(file: string, workers: string, top: number): void {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'picket-alloc-'));
  try {
    const preload = path.join(dir, 'preload.js');
    const out = path.join(dir, 'alloc.heapprofile');
    fs.writeFileSync(preload, PRELOAD);
    const r = spawnSync(process.execPath, ['-r', preload, ...picketArgs(file, workers)], { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, PICKET_ALLOC_OUT: out } });
    if (r.status !== 0) throw new Error(`picket exited ${r.status}`);
    const p = JSON.parse(fs.readFileSync(out, 'utf8')) as HeapProfile;
    const parentOf = new Map<number, HeapNode>();
    const byId = new Map<number, HeapNode>();
    const walk = (n: HeapNode): void => {
      byId.set(n.id, n);
      for (const c of n.children ?? []) {
        parentOf.set(c.id, n);
        walk(c);
      }
    };
    walk(p.head);
    const site = new Map<string, number>();
    let total = 0;
    for (const s of p.samples) {
      const n = byId.get(s.nodeId);
      if (n === undefined) continue;
      const parent = parentOf.get(n.id);
      add(site, `${where(n.callFrame)}  <-  ${parent === undefined ? '' : where(parent.callFrame)}`, s.size / 1e6);
      total += s.size / 1e6;
    }
    console.log(`\n## Allocation (main thread, collected objects included): ${total.toFixed(1)} MB sampled`);
    table([...site], total, 'MB', top);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function threads(file: string, workers: string): Promise<void> {
  const child = spawn(process.execPath, picketArgs(file, workers), { stdio: ['ignore', 'ignore', 'inherit'] });
  const ticks = new Map<string, number>();
  const tick = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;
  const sample = (): void => {
    let tasks: string[];
    try {
      tasks = fs.readdirSync(`/proc/${child.pid}/task`);
    } catch {
      return;
    }
    for (const t of tasks) {
      try {
        const stat = fs.readFileSync(`/proc/${child.pid}/task/${t}/stat`, 'utf8');
        const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        ticks.set(t, Number(f[11]) + Number(f[12]));
      } catch {
        // The thread ended between the listing and the read.
      }
    }
  };
  const timer = setInterval(sample, 50);
  await new Promise<void>((resolve) => child.on('exit', () => resolve()));
  clearInterval(timer);
  const main = String(child.pid);
  console.log(`\n## CPU per thread (user + sys, last sample before exit; the first row is the main thread)`);
  for (const [t, v] of [...ticks].sort((a, b) => (a[0] === main ? -1 : b[0] === main ? 1 : b[1] - a[1]))) {
    if (v * (1000 / tick) >= 20) console.log(`${((v * 1000) / tick).toFixed(0).padStart(7)} ms  thread ${t}${t === main ? ' (main)' : ''}`);
  }
}

async function main(): Promise<void> {
  const file = arg('file', path.join(ROOT, 'bench', 'data', 'mix-2m.pcap'));
  const workers = arg('workers', '0');
  const top = Number(arg('top', '25'));
  const only = arg('only', 'cpu,alloc,threads').split(',');
  if (!fs.existsSync(file)) throw new Error(`${file}: not found (node dist/bench/gen.js --packets 2000000 --seed 1 --out ${file})`);
  console.log(`# picket replay ${file} --workers ${workers}`);
  if (only.includes('cpu')) cpu(file, workers, top);
  if (only.includes('alloc')) alloc(file, workers, top);
  if (only.includes('threads')) await threads(file, workers);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : String(e));
  process.exit(1);
});
