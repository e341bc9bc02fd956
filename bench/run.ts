/**
 * Benchmark runner: picket against tcpdump, tshark and ndpiReader on the same generated capture.
 *
 *   node dist/bench/run.js [--packets N] [--seed S] [--workers 0,1,2] [--runs 3] [--timeout 600]
 *                          [--skip-peers] [--no-tshark-app] [--file PCAP] [--results bench/RESULTS.md]
 *
 * Generates bench/data/mix-<N>.pcap (+ .truth.json) if it is missing or stale, reads it once (cat > /dev/null)
 * so that every tool reads from the page cache, then runs each tool up to --runs times (round-robin) under
 * GNU time: wall time is measured here (hrtime around the child), peak RSS and CPU come from `time -f`. A tool
 * that exceeds --timeout seconds is killed (its whole process group) and reported as timed out.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { spawn, spawnSync } from 'child_process';
import { defaultTruthPath, generate, label, parseCount, type Truth } from './gen';

const ROOT = path.resolve(__dirname, '..', '..');

interface Options {
  packets: number;
  seed: number;
  pps: number;
  workers: number[];
  runs: number;
  timeoutS: number;
  skipPeers: boolean;
  tsharkApp: boolean;
  file: string | null;
  results: string | null;
}

interface Tool {
  name: string;
  cmd: string[];
  /** picket rows keep stderr for the summary line. */
  keepStderr: boolean;
}

interface RunResult {
  wallS: number;
  rssKb: number | null;
  cpuS: number | null;
  exit: number | null;
  timedOut: boolean;
  stderrTail: string;
}

interface Row {
  tool: Tool;
  runs: RunResult[];
  skipped: string | null;
}

function usage(): string {
  return 'usage: node dist/bench/run.js [--packets N] [--seed S] [--pps R] [--workers 0,1,2] [--runs 3] [--timeout 600] [--skip-peers] [--no-tshark-app] [--file PCAP] [--results FILE.md]';
}

function parseArgs(argv: string[]): Options {
  const o: Options = { packets: 2000000, seed: 1, pps: 100000, workers: [0, 1, 2], runs: 3, timeoutS: 600, skipPeers: false, tsharkApp: true, file: null, results: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value\n${usage()}`);
      return v;
    };
    switch (a) {
      case '--packets':
        o.packets = parseCount(next());
        break;
      case '--seed':
        o.seed = parseInt(next(), 10) >>> 0;
        break;
      case '--pps':
        o.pps = parseCount(next());
        break;
      case '--workers': {
        const v = next();
        o.workers = v === '' || v === 'none' ? [] : v.split(',').map((w) => {
          if (!/^\d{1,2}$/.test(w)) throw new Error(`--workers: bad worker count "${w}"`);
          return Number(w);
        });
        break;
      }
      case '--runs':
        o.runs = Math.max(1, parseInt(next(), 10));
        break;
      case '--timeout':
        o.timeoutS = Math.max(1, Number(next()));
        break;
      case '--skip-peers':
        o.skipPeers = true;
        break;
      case '--no-tshark-app':
        o.tsharkApp = false;
        break;
      case '--file':
        o.file = next();
        break;
      case '--results':
        o.results = next();
        break;
      case '--help':
      case '-h':
        process.stdout.write(usage() + '\n');
        process.exit(0);
        break;
      default:
        throw new Error(`unknown argument ${a}\n${usage()}`);
    }
  }
  return o;
}

// ------------------------------------------------------------------------------------------------ capture file

interface Capture {
  file: string;
  packets: number;
  bytes: number;
  fileBytes: number;
  durationS: number | null;
  truth: Truth | null;
  generatedNow: boolean;
}

function readTruth(file: string): Truth | null {
  const t = defaultTruthPath(file);
  if (!fs.existsSync(t)) return null;
  try {
    return JSON.parse(fs.readFileSync(t, 'utf8')) as Truth;
  } catch {
    return null;
  }
}

/** Counts records of a classic pcap (for --file without a truth file). */
function countPcap(file: string): { packets: number; bytes: number } {
  const fd = fs.openSync(file, 'r');
  const size = fs.fstatSync(fd).size;
  const hdr = Buffer.alloc(24);
  fs.readSync(fd, hdr, 0, 24, 0);
  const magic = hdr.readUInt32LE(0);
  let le: boolean;
  if (magic === 0xa1b2c3d4 || magic === 0xa1b23c4d) le = true;
  else if (magic === 0xd4c3b2a1 || magic === 0x4d3cb2a1) le = false;
  else throw new Error(`${file}: not a classic pcap (pcapng is not counted here; give a generated file or one with a truth file)`);
  const rec = Buffer.alloc(16);
  let pos = 24;
  let packets = 0;
  let bytes = 0;
  while (pos + 16 <= size) {
    fs.readSync(fd, rec, 0, 16, pos);
    const caplen = le ? rec.readUInt32LE(8) : rec.readUInt32BE(8);
    pos += 16 + caplen;
    if (pos > size) break;
    packets++;
    bytes += caplen;
  }
  fs.closeSync(fd);
  return { packets, bytes };
}

function prepareCapture(o: Options): Capture {
  if (o.file !== null) {
    const file = o.file;
    if (!fs.existsSync(file)) throw new Error(`${file}: no such file`);
    const truth = readTruth(file);
    const fileBytes = fs.statSync(file).size;
    if (truth !== null && fileBytes === 24 + 16 * truth.packets + truth.bytes) {
      return { file, packets: truth.packets, bytes: truth.bytes, fileBytes, durationS: truth.durationS, truth, generatedNow: false };
    }
    process.stderr.write(`counting packets in ${file} ...\n`);
    const c = countPcap(file);
    return { file, packets: c.packets, bytes: c.bytes, fileBytes, durationS: null, truth: null, generatedNow: false };
  }
  const file = path.join(ROOT, 'bench', 'data', `mix-${label(o.packets)}${o.seed === 1 ? '' : `-s${o.seed}`}.pcap`);
  const truth = fs.existsSync(file) ? readTruth(file) : null;
  const fresh =
    truth !== null &&
    truth.packets === o.packets &&
    truth.seed === o.seed &&
    truth.ppsNominal === o.pps &&
    fs.statSync(file).size === 24 + 16 * truth.packets + truth.bytes;
  if (fresh && truth !== null) {
    return { file, packets: truth.packets, bytes: truth.bytes, fileBytes: fs.statSync(file).size, durationS: truth.durationS, truth, generatedNow: false };
  }
  process.stderr.write(`generating ${path.relative(process.cwd(), file)} (${o.packets} packets, seed ${o.seed}) ...\n`);
  const t0 = process.hrtime.bigint();
  const t = generate({ packets: o.packets, seed: o.seed, out: file, pps: o.pps });
  const dt = Number(process.hrtime.bigint() - t0) / 1e9;
  process.stderr.write(`  done in ${dt.toFixed(2)} s (${Math.round(t.packets / dt).toLocaleString('en-US')} packets/s)\n`);
  return { file, packets: t.packets, bytes: t.bytes, fileBytes: t.fileBytes, durationS: t.durationS, truth: t, generatedNow: true };
}

/** Reads the whole file once so that every tool reads it from the page cache. */
function warmCache(file: string): string {
  const t0 = process.hrtime.bigint();
  const r = spawnSync('sh', ['-c', 'cat -- "$1" > /dev/null', 'sh', file], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`warm-up read of ${file} failed`);
  const dt = Number(process.hrtime.bigint() - t0) / 1e9;
  let cached = '';
  const f = spawnSync('fincore', ['--noheadings', '--bytes', '--output', 'RES', file], { encoding: 'utf8' });
  if (f.status === 0 && /^\s*\d+/.test(f.stdout)) {
    const res = Number(f.stdout.trim());
    cached = `, ${((100 * res) / fs.statSync(file).size).toFixed(0)}% in page cache (fincore)`;
  }
  return `warm-up read ${dt.toFixed(2)} s${cached}`;
}

// ------------------------------------------------------------------------------------------------ running

const GNU_TIME = '/usr/bin/time';

function hasGnuTime(): boolean {
  if (!fs.existsSync(GNU_TIME)) return false;
  const r = spawnSync(GNU_TIME, ['-f', '%M', 'true'], { encoding: 'utf8' });
  return r.status === 0 && /^\d+\s*$/m.test(r.stderr);
}

/** Peak RSS of a live process from /proc (fallback when GNU time is missing). */
function vmHwmKb(pid: number): number | null {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

function runOnce(tool: Tool, timeoutS: number, gnuTime: boolean): Promise<RunResult> {
  return new Promise((resolve) => {
    const timeFile = path.join(os.tmpdir(), `picket-bench-time-${process.pid}-${Date.now()}.txt`);
    const argv = gnuTime ? [GNU_TIME, '-f', '%e %M %U %S', '-o', timeFile, '--', ...tool.cmd] : tool.cmd;
    const t0 = process.hrtime.bigint();
    const child = spawn(argv[0], argv.slice(1), { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'], detached: true });
    let tail = '';
    child.stderr?.on('data', (d: Buffer) => {
      tail += d.toString('utf8');
      if (tail.length > 65536) tail = tail.slice(-32768);
    });
    let timedOut = false;
    let polledRss: number | null = null;
    const poll = gnuTime
      ? null
      : setInterval(() => {
        if (child.pid !== undefined) {
          const v = vmHwmKb(child.pid);
          if (v !== null) polledRss = Math.max(polledRss ?? 0, v);
        }
      }, 20);
    const killer = setTimeout(() => {
      timedOut = true;
      if (child.pid !== undefined) {
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {
          /* already gone */
        }
      }
    }, timeoutS * 1000);
    child.on('error', (e) => {
      tail += `\nspawn failed: ${e.message}`;
    });
    child.on('close', (code) => {
      const wallS = Number(process.hrtime.bigint() - t0) / 1e9;
      clearTimeout(killer);
      if (poll !== null) clearInterval(poll);
      let rssKb: number | null = polledRss;
      let cpuS: number | null = null;
      if (gnuTime && fs.existsSync(timeFile)) {
        const txt = fs.readFileSync(timeFile, 'utf8');
        fs.unlinkSync(timeFile);
        // GNU time prefixes "Command exited with non-zero status N" when the tool fails
        const m = /(\d+(?:\.\d+)?) (\d+) (\d+(?:\.\d+)?) (\d+(?:\.\d+)?)\s*$/.exec(txt.trim());
        if (m) {
          rssKb = Number(m[2]);
          cpuS = Number(m[3]) + Number(m[4]);
        }
      }
      resolve({ wallS, rssKb, cpuS, exit: code, timedOut, stderrTail: tail });
    });
  });
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  return n % 2 === 1 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

function picketBuilt(): boolean {
  return fs.existsSync(path.join(ROOT, 'dist', 'src', 'cli', 'main.js')) && fs.existsSync(path.join(ROOT, 'bin', 'picket.js'));
}

function toolList(o: Options, cap: Capture): Row[] {
  const rows: Row[] = [];
  const f = cap.file;
  const built = picketBuilt();
  for (const w of o.workers) {
    rows.push({
      tool: { name: `picket --workers ${w}`, cmd: ['node', 'bin/picket.js', 'replay', f, '--out', '/dev/null', '--workers', String(w)], keepStderr: true },
      runs: [],
      skipped: built ? null : 'not built (dist/src/cli/main.js missing: run npx tsc -p tsconfig.json)',
    });
  }
  if (!o.skipPeers) {
    rows.push({ tool: { name: 'tcpdump', cmd: ['tcpdump', '-n', '-r', f, '-w', '/dev/null'], keepStderr: false }, runs: [], skipped: null });
    // With -q and neither a filter nor a tap, tshark does not dissect at all (it only reads the records): that row
    // is kept as tshark's read floor. A tap (-z io,stat,0) forces the dissection of every packet, without a tree.
    rows.push({ tool: { name: 'tshark -q (reads, no dissection)', cmd: ['tshark', '-n', '-r', f, '-q'], keepStderr: false }, runs: [], skipped: null });
    rows.push({ tool: { name: 'tshark -q -z io,stat,0 (dissects)', cmd: ['tshark', '-n', '-r', f, '-q', '-z', 'io,stat,0'], keepStderr: false }, runs: [], skipped: null });
    if (o.tsharkApp) {
      rows.push({ tool: { name: 'tshark -Y dns.qry.name', cmd: ['tshark', '-n', '-r', f, '-q', '-Y', 'dns.qry.name'], keepStderr: false }, runs: [], skipped: null });
    }
    rows.push({ tool: { name: 'ndpiReader', cmd: ['ndpiReader', '-i', f, '-q'], keepStderr: false }, runs: [], skipped: null });
  }
  for (const r of rows) {
    if (r.skipped !== null) continue;
    const bin = r.tool.cmd[0];
    const which = spawnSync('sh', ['-c', 'command -v "$1"', 'sh', bin], { encoding: 'utf8' });
    if (which.status !== 0) r.skipped = `${bin} not installed`;
  }
  return rows;
}

// ------------------------------------------------------------------------------------------------ reporting

function firstLine(cmd: string, args: string[], re?: RegExp): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.error) return 'not installed';
  const out = `${r.stdout ?? ''}\n${r.stderr ?? ''}`;
  if (re) {
    const m = re.exec(out);
    return m ? m[0].trim() : 'unknown';
  }
  return out.split('\n').find((l) => l.trim() !== '')?.trim() ?? 'unknown';
}

interface Machine {
  cpus: string;
  cpuModel: string;
  memGiB: string;
  kernel: string;
  node: string;
  tools: string;
  picket: string;
}

function machine(): Machine {
  let model = 'unknown';
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(fs.readFileSync('/proc/cpuinfo', 'utf8'));
    if (m) model = m[1].trim();
  } catch {
    /* not Linux */
  }
  const nproc = spawnSync('nproc', [], { encoding: 'utf8' });
  const cpus = nproc.status === 0 ? nproc.stdout.trim() : String(os.cpus().length);
  const tcpdumpV = firstLine('tcpdump', ['--version']);
  const libpcapV = firstLine('tcpdump', ['--version'], /libpcap version [^\s]+/);
  const tsharkV = firstLine('tshark', ['--version'], /TShark \(Wireshark\) [^\s]+/);
  const ndpiV = firstLine('ndpiReader', ['-h'], /nDPI v?\(?[0-9][^\s)]*/);
  let picketV = 'unknown';
  try {
    picketV = (JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    /* ignore */
  }
  const git = spawnSync('git', ['-C', ROOT, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' });
  const dirty = spawnSync('git', ['-C', ROOT, 'status', '--porcelain', '--', 'src', 'bin'], { encoding: 'utf8' });
  const rev = git.status === 0 ? git.stdout.trim() : 'no commit yet';
  const dirt = dirty.status === 0 && dirty.stdout.trim() !== '' ? ', uncommitted changes in src/' : '';
  return {
    cpus,
    cpuModel: model,
    memGiB: (os.totalmem() / 2 ** 30).toFixed(1),
    kernel: `${os.type()} ${os.release()}`,
    node: process.version,
    tools: `${tcpdumpV} (${libpcapV}), ${tsharkV}, ${ndpiV}`,
    picket: `picket ${picketV} (git ${rev}${dirt})`,
  };
}

function fmt(n: number, digits: number): string {
  return n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function si(n: number): string {
  if (n >= 1e6) return `${fmt(n / 1e6, 2)} M`;
  if (n >= 1e3) return `${fmt(n / 1e3, 0)} k`;
  return fmt(n, 0);
}

interface Summary {
  wall: number | null;
  pps: number | null;
}

function summarize(r: Row): Summary {
  const ok = r.runs.filter((x) => !x.timedOut && x.exit === 0);
  if (r.skipped !== null || ok.length === 0) return { wall: null, pps: null };
  const wall = median(ok.map((x) => x.wallS));
  return { wall, pps: null };
}

function table(rows: Row[], cap: Capture, o: Options): string {
  const sums = new Map<Row, Summary>();
  for (const r of rows) {
    const s = summarize(r);
    if (s.wall !== null) s.pps = cap.packets / s.wall;
    sums.set(r, s);
  }
  const ref = (name: string): number | null => {
    const r = rows.find((x) => x.tool.name === name);
    return r ? (sums.get(r)?.pps ?? null) : null;
  };
  const tcpdumpPps = ref('tcpdump');
  const ndpiPps = ref('ndpiReader');
  const lines = [
    `| tool | wall s (median of ≤${o.runs}) | packets/s | Mbit/s | peak RSS MB | CPU s (user+sys) | vs tcpdump | vs ndpiReader |`,
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const r of rows) {
    const name = r.tool.name;
    if (r.skipped !== null) {
      lines.push(`| ${name} | skipped: ${r.skipped} | | | | | | |`);
      continue;
    }
    const s = sums.get(r) as Summary;
    const timedOut = r.runs.find((x) => x.timedOut);
    const failed = r.runs.find((x) => !x.timedOut && x.exit !== 0);
    if (s.wall === null || s.pps === null) {
      const why = timedOut ? `timed out after ${o.timeoutS} s` : failed ? `failed (exit ${failed.exit}): ${lastLines(failed.stderrTail, 1)}` : 'no result';
      lines.push(`| ${name} | ${why} | | | | | | |`);
      continue;
    }
    const rss = r.runs.map((x) => x.rssKb).filter((x): x is number => x !== null);
    const cpu = r.runs.filter((x) => !x.timedOut && x.exit === 0).map((x) => x.cpuS).filter((x): x is number => x !== null);
    const mbit = (cap.bytes * 8) / s.wall / 1e6;
    const note = timedOut ? ' (one run timed out)' : failed ? ' (one run failed)' : '';
    lines.push(
      `| ${name}${note} | ${fmt(s.wall, 2)} | ${si(s.pps)} | ${fmt(mbit, 0)} | ${rss.length > 0 ? fmt(Math.max(...rss) / 1024, 0) : '?'} | ` +
        `${cpu.length > 0 ? fmt(median(cpu), 2) : '?'} | ${tcpdumpPps !== null ? `${fmt(s.pps / tcpdumpPps, 2)}×` : '–'} | ${ndpiPps !== null ? `${fmt(s.pps / ndpiPps, 2)}×` : '–'} |`,
    );
  }
  return lines.join('\n');
}

function lastLines(s: string, n: number): string {
  return s
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '')
    .slice(-n)
    .join(' / ');
}

/** picket's own summary, whatever its format: the first stderr line that mentions packets, else the last lines. */
function picketSays(r: Row): string | null {
  const run = r.runs.find((x) => x.exit === 0 && !x.timedOut);
  if (!run) return null;
  const lines = run.stderrTail.split('\n').map((l) => l.trimEnd()).filter((l) => l.trim() !== '');
  if (lines.length === 0) return null;
  const i = lines.findIndex((l) => /packets/i.test(l));
  return (i >= 0 ? lines.slice(i, i + 8) : lines.slice(-6)).join('\n');
}

function captureLine(cap: Capture): string {
  const rel = path.relative(ROOT, cap.file);
  const t = cap.truth;
  const parts = [
    `\`${rel}\``,
    `${cap.packets.toLocaleString('en-US')} packets`,
    `${cap.bytes.toLocaleString('en-US')} bytes (sum of caplen; ${fmt(cap.fileBytes / 1e6, 1)} MB on disk)`,
  ];
  if (t !== null) {
    parts.push(`seed ${t.seed}`, `${fmt(t.durationS, 2)} s of packet time`, `mean frame ${fmt(t.frameSizes.meanOrigLen, 0)} B`, `up to ${t.tcpFlows.maxConcurrent.toLocaleString('en-US')} concurrent TCP flows`);
  }
  return parts.join(', ');
}

function appendResults(file: string, m: Machine, cap: Capture, o: Options, tbl: string, notes: string[]): void {
  const abs = path.isAbsolute(file) ? file : path.join(process.cwd(), file);
  if (!fs.existsSync(abs)) {
    fs.mkdirSync(path.dirname(abs), { recursive: true });
    fs.writeFileSync(
      abs,
      '# picket benchmark results\n\n' +
        'Sections are appended by `node dist/bench/run.js --results bench/RESULTS.md` (method and caveats: `bench/README.md`).\n' +
        'Each tool reads the same generated capture from the page cache; wall time is the median of the runs, peak RSS the\n' +
        'largest of them (GNU time `%M`).\n',
    );
  }
  const when = new Date().toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
  const s = [
    '',
    `## ${when} — ${path.basename(cap.file)}`,
    '',
    `- machine: ${m.cpus} CPUs (${m.cpuModel}), ${m.memGiB} GiB RAM, ${m.kernel}, Node ${m.node}`,
    `- tools: ${m.tools}; ${m.picket}`,
    `- capture: ${captureLine(cap)}`,
    `- method: warm page cache, up to ${o.runs} runs per tool (round-robin), timeout ${o.timeoutS} s`,
    '',
    tbl,
    '',
    ...notes.map((n) => `${n}`),
    '',
  ];
  fs.appendFileSync(abs, s.join('\n'));
}

// ------------------------------------------------------------------------------------------------ main

async function main(argv: string[]): Promise<number> {
  const o = parseArgs(argv);
  const cap = prepareCapture(o);
  const rows = toolList(o, cap);
  const m = machine();
  process.stderr.write(`capture: ${captureLine(cap)}\n`);
  process.stderr.write(`${warmCache(cap.file)}\n`);
  const gnuTime = hasGnuTime();
  if (!gnuTime) process.stderr.write('GNU time (/usr/bin/time) not usable: peak RSS is polled from /proc (apt-get install time for exact figures)\n');
  for (let run = 0; run < o.runs; run++) {
    for (const r of rows) {
      if (r.skipped !== null) continue;
      if (r.runs.some((x) => x.timedOut || (x.exit !== 0 && x.exit !== null))) continue; // do not repeat a failure
      process.stderr.write(`run ${run + 1}/${o.runs}: ${r.tool.name} ... `);
      const res = await runOnce(r.tool, o.timeoutS, gnuTime);
      r.runs.push(res);
      process.stderr.write(
        res.timedOut
          ? `timed out after ${o.timeoutS} s\n`
          : res.exit !== 0
            ? `exit ${res.exit}: ${lastLines(res.stderrTail, 2)}\n`
            : `${res.wallS.toFixed(2)} s, ${res.rssKb !== null ? `${(res.rssKb / 1024).toFixed(0)} MB` : '? MB'}\n`,
      );
    }
  }
  const tbl = table(rows, cap, o);
  const notes: string[] = [];
  for (const r of rows) {
    if (r.skipped !== null && r.tool.name.startsWith('picket')) {
      notes.push(`- ${r.tool.name}: skipped (${r.skipped})`);
      continue;
    }
    if (r.runs.length > 0) notes.push(`- ${r.tool.name}: \`${r.tool.cmd.join(' ').replace(cap.file, 'FILE')}\`; runs ${r.runs.map((x) => (x.timedOut ? 'timeout' : x.wallS.toFixed(2))).join(', ')} s`);
  }
  const said: string[] = [];
  for (const r of rows) {
    if (!r.tool.keepStderr) continue;
    const s = picketSays(r);
    if (s !== null) said.push(`${r.tool.name} reported:\n\n\`\`\`\n${s}\n\`\`\``);
  }
  process.stdout.write(`\n${captureLine(cap)}\n${m.cpus} CPUs (${m.cpuModel}), Node ${m.node}; ${m.tools}\n\n${tbl}\n\n${notes.join('\n')}\n`);
  if (said.length > 0) process.stdout.write(`\n${said.join('\n\n')}\n`);
  if (o.results !== null) {
    appendResults(o.results, m, cap, o, tbl, [...notes, ...(said.length > 0 ? ['', ...said] : [])]);
    process.stderr.write(`appended to ${o.results}\n`);
  }
  return 0;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
      process.exitCode = 2;
    },
  );
}
