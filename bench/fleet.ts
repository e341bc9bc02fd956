/**
 * The fleet's figures (issue 17): summaries merged per second by one `picket correlate`, by one and by two instances
 * sharing the partitions while the summaries are published, bytes per summary, and what publishing to NATS costs a
 * sensor's replay. One nats-server with JetStream on a free loopback port, its
 * store in a temporary directory, stopped at the end.
 *
 *   node dist/bench/fleet.js [--sources N] [--runs K]
 */
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { connect, type NatsConnection } from 'nats';
import { partitionDurable, partitionOf, summarySubject } from '../src/fleet/partition';
import type { FleetSummary } from '../src/scan/fleet-summary';

const ROOT = path.resolve(__dirname, '..', '..');
const BIN = path.join(ROOT, 'bin', 'picket.js');
const SENSORS = 3;
/** fleet.partitions as bundled (rules/policy.yaml). */
const PARTITIONS = 16;

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** A summary of source i as sensor k saw it: 9 hosts of its own slice (27 together: over the medium sweep threshold, 25; no sensor alone is), 2 ports each (a sweep split three ways). */
function summary(k: number, i: number): FleetSummary {
  const src = `198.18.${(i >> 8) & 255}.${i & 255}`;
  const targets: string[] = [];
  for (let h = 0; h < 9; h++) for (const p of ['tcp/80', 'tcp/443']) targets.push(`10.${k}.${(i >> 8) & 255}.${(i + h) & 255}|${p}`);
  return {
    v: 1, kind: 'scan_summary', sensor: `s${k}`, source: src, seq: 1, first: [1_800_000_000 + i, 0], last: [1_800_000_000 + i, 500_000_000],
    attempts: 18, quick_probes: 17, outcomes: { answered: 0, half_open: 0, rejected: 18, unreachable: 0, unanswered: 0 }, targets,
    n: { targets: 18, hosts: 9, ports: 2, max_ports_one_host: 2, ping_hosts: 0, max_udp_ports_one_host: 0 },
    sample_hosts: targets.slice(0, 10).filter((_, j) => j % 2 === 0).map((t) => t.split('|')[0]), sample_ports: ['tcp/80', 'tcp/443'], tool: null,
  };
}

function timed(args: string[]): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`picket ${args.join(' ')}: exit ${r.status}: ${r.stderr}`);
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

/** A replay's wall and CPU (user + system) seconds, by /usr/bin/time: CPU time moves less with the machine's other load. */
function cpuTimed(args: string[]): { wall: number; cpu: number } {
  const r = spawnSync('/usr/bin/time', ['-f', 'FLEET_TIME %e %U %S', process.execPath, BIN, ...args], { encoding: 'utf8', maxBuffer: 64 << 20 });
  const line = r.stderr.split('\n').find((l) => l.startsWith('FLEET_TIME '));
  if (r.status !== 0 || line === undefined) throw new Error(`picket ${args.join(' ')}: exit ${r.status}: ${r.stderr}`);
  const [wall, user, sys] = line.split(' ').slice(1).map(Number);
  return { wall, cpu: user + sys };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main(): Promise<void> {
  const sources = arg('--sources', 2000);
  const runs = arg('--runs', 3);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'picket-bench-fleet-'));
  const port = await freePort();
  const server = spawn('nats-server', ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', path.join(dir, 'store')], { stdio: 'ignore' });
  const url = `nats://127.0.0.1:${port}`;
  try {
    for (let i = 0; i < 50; i++) {
      const ok = await connect({ servers: url, timeout: 500 }).then((nc) => nc.close().then(() => true), () => false);
      if (ok) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    // Streams and consumer, and the baseline: correlate with nothing to read (start-up, 1 s idle, exit).
    const out = path.join(dir, 'alerts.ndjson');
    const idle = [timed(['correlate', '--quiet', '--nats', url, '--idle-exit', '1s', '--out', out])];
    const nc = await connect({ servers: url });
    const js = nc.jetstream();
    const n = sources * SENSORS;
    const t0 = process.hrtime.bigint();
    let bytes = 0;
    for (let i = 0; i < sources; i += 100) {
      const batch: Array<Promise<unknown>> = [];
      for (let j = i; j < Math.min(sources, i + 100); j++) {
        for (let k = 0; k < SENSORS; k++) {
          const data = Buffer.from(JSON.stringify(summary(k, j)));
          bytes += data.length;
          batch.push(js.publish(summarySubject(partitionOf(summary(k, j).source, PARTITIONS), `s${k}`), data, { msgID: `s${k}:${j}:1` }));
        }
      }
      await Promise.all(batch);
    }
    const pubSec = Number(process.hrtime.bigint() - t0) / 1e9;
    const stored = await (await nc.jetstreamManager()).streams.info('PICKET_SUMMARIES');
    await nc.close();
    const busy = timed(['correlate', '--quiet', '--nats', url, '--idle-exit', '1s', '--out', out]);
    idle.push(timed(['correlate', '--quiet', '--nats', url, '--idle-exit', '1s', '--out', out]));
    const alerts = fs.readFileSync(out, 'utf8').split('\n').filter((l) => l.startsWith('{')).length;
    const base = Math.min(...idle);
    console.log(`summaries: ${n} (${sources} sources x ${SENSORS} sensors, 18 failed targets each); ${alerts} fleet alerts`);
    console.log(`bytes per summary: ${Math.round(bytes / n)} JSON, ${Math.round(stored.state.bytes / stored.state.messages)} as stored`);
    console.log(`published: ${Math.round(n / pubSec)} summaries/s from one client`);
    console.log(`correlate: ${busy.toFixed(2)} s with them, ${base.toFixed(2)} s with none (start-up + 1 s idle): ${Math.round(n / (busy - base))} summaries merged/s`);

    // One and two instances started first (leases settled: 16, then 8 each), then every summary published anew (a
    // fresh stream and bucket); the time from the first publish to the last acknowledgement. Peers of the same run.
    for (const k of [1, 2, 1, 2]) {
      const sec = await pipelined(url, dir, k, n);
      console.log(`${k} instance(s), summaries published while they merge: ${sec.toFixed(2)} s, ${Math.round(n / sec)} summaries/s`);
    }

    // A sensor's cost of publishing: the same replay without --nats, with it (policy default fleet.summary_min_targets,
    // 2), and with it summarising every source with one failed target (1, the first cut's behaviour), round-robin,
    // median of runs; the summaries each published, counted in the stream.
    const mix = path.join(ROOT, 'bench', 'data', 'mix-200k.pcap');
    if (!fs.existsSync(mix)) spawnSync(process.execPath, [path.join(ROOT, 'dist', 'bench', 'gen.js'), '--packets', '200000', '--seed', '1', '--out', mix, '--quiet'], { stdio: 'inherit' });
    const everyOne = path.join(dir, 'min1');
    fs.mkdirSync(everyOne);
    fs.writeFileSync(path.join(everyOne, 'policy.yaml'), 'kind: policy\nfleet:\n  summary_min_targets: 1\n');
    const variants: Array<{ label: string; args: (r: number) => string[]; secs: number[]; cpu: number[]; summaries: number }> = [
      { label: 'without --nats', args: () => [], secs: [], cpu: [], summaries: 0 },
      { label: 'with --nats, summary_min_targets 2 (default)', args: (r) => ['--nats', url, '--sensor-name', `bench-min2-${r}`], secs: [], cpu: [], summaries: 0 },
      { label: 'with --nats, summary_min_targets 1', args: (r) => ['--nats', url, '--sensor-name', `bench-min1-${r}`, '--rules', everyOne], secs: [], cpu: [], summaries: 0 },
    ];
    const storedSummaries = async (): Promise<number> => {
      const c = await connect({ servers: url });
      try {
        return (await (await c.jetstreamManager()).streams.info('PICKET_SUMMARIES')).state.messages;
      } finally {
        await c.close();
      }
    };
    for (let r = 0; r < runs; r++) {
      for (const v of variants) {
        const before = await storedSummaries();
        const t = cpuTimed(['replay', '--quiet', ...v.args(r), '--out', path.join(dir, 'replay.ndjson'), mix]);
        v.secs.push(t.wall);
        v.cpu.push(t.cpu);
        v.summaries = (await storedSummaries()) - before;
      }
    }
    for (const v of variants) {
      const m = median(v.secs);
      console.log(`replay of 200k-packet mix ${v.label}: ${m.toFixed(2)} s wall (${Math.round(200_000 / m / 1000)} k pps; min ${Math.min(...v.secs).toFixed(2)}), ${median(v.cpu).toFixed(2)} s CPU (min ${Math.min(...v.cpu).toFixed(2)}), ${v.summaries} summaries (median of ${runs})`);
    }
  } finally {
    server.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function publishAll(nc: NatsConnection, sources: number): Promise<void> {
  const js = nc.jetstream();
  for (let i = 0; i < sources; i += 100) {
    const batch: Array<Promise<unknown>> = [];
    for (let j = i; j < Math.min(sources, i + 100); j++) {
      for (let k = 0; k < SENSORS; k++) {
        const s = summary(k, j);
        batch.push(js.publish(summarySubject(partitionOf(s.source, PARTITIONS), `s${k}`), Buffer.from(JSON.stringify(s)), { msgID: `s${k}:${j}:1` }));
      }
    }
    await Promise.all(batch);
  }
}

async function metricValue(port: number, series: string): Promise<number | undefined> {
  const text = await fetch(`http://127.0.0.1:${port}/metrics`).then((r) => r.text(), () => '');
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

/** k correlate instances, balanced, then n summaries published: seconds until every partition acknowledged them. */
async function pipelined(url: string, dir: string, k: number, n: number): Promise<number> {
  const nc = await connect({ servers: url });
  const jsm = await nc.jetstreamManager();
  for (const s of ['PICKET_SUMMARIES', 'KV_PICKET_CORRELATE']) await jsm.streams.delete(s).catch(() => false);
  const ports: number[] = [];
  for (let i = 0; i < k; i++) ports.push(await freePort());
  const children = ports.map((port) => {
    const err = fs.openSync(path.join(dir, `pipelined-${port}.err`), 'w');
    const c = spawn(process.execPath, [BIN, 'correlate', '--nats', url, '--out', path.join(dir, `pipelined-${port}.ndjson`), '--metrics-listen', `127.0.0.1:${port}`], { stdio: ['ignore', 'ignore', err] });
    fs.closeSync(err);
    return c;
  });
  try {
    const end = Date.now() + 60_000;
    for (;;) {
      const held = await Promise.all(ports.map((p) => metricValue(p, 'picket_correlate_partitions_held')));
      if (held.every((h) => h === PARTITIONS / k)) break;
      if (Date.now() > end) throw new Error(`instances hold ${held.join(', ')} partitions`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const t0 = process.hrtime.bigint();
    await publishAll(nc, n / SENSORS);
    const last = new Map<number, number>();
    const si = await jsm.streams.info('PICKET_SUMMARIES', { subjects_filter: '>' });
    for (const subject of Object.keys(si.state.subjects ?? {})) {
      const p = Number(subject.split('.')[2]);
      if (!last.has(p)) last.set(p, (await jsm.streams.getMessage('PICKET_SUMMARIES', { last_by_subj: `picket.summaries.${p}.*` })).seq);
    }
    for (;;) {
      let done = true;
      for (const [p, seq] of last) if ((await jsm.consumers.info('PICKET_SUMMARIES', partitionDurable(p))).ack_floor.stream_seq < seq) done = false;
      if (done) break;
      if (Date.now() > end + 120_000) throw new Error('not every summary acknowledged within 3 minutes');
      await new Promise((r) => setTimeout(r, 50));
    }
    const sec = Number(process.hrtime.bigint() - t0) / 1e9;
    // What the instances said beyond their start and end (leases lost, batches failed): shown with the figure.
    for (const port of ports) {
      const noted = fs.readFileSync(path.join(dir, `pipelined-${port}.err`), 'utf8').split('\n').filter((l) => /lost|partition \d+:|given back|failed/.test(l));
      for (const l of noted.slice(0, 5)) console.log(`  instance :${port}: ${l}`);
    }
    return sec;
  } finally {
    for (const c of children) c.kill('SIGTERM');
    await Promise.all(children.map((c) => new Promise((r) => (c.exitCode !== null ? r(null) : c.once('exit', r)))));
    await nc.close();
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
