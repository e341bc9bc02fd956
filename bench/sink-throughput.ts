/**
 * Documents per second that the syslog TCP sink delivers to a local rsyslogd, and the HTTP sink to a local
 * _bulk endpoint (in a process of its own), the way a replay feeds them: every document written from one
 * synchronous loop that never lets the event loop turn, then a flush. The clock runs from the first write until
 * the target has every document (rsyslog: in its output file; HTTP: indexed and answered). The default queue
 * (10,000 documents) and a spill directory, so that what the sink cannot hold shows as spilled.
 *
 *   node dist/bench/sink-throughput.js [--docs 150000] [--runs 3] [--target rsyslog|http|both] [--work-us 0] [--sinks DIR]
 *
 * --work-us: microseconds of spinning between two documents, the packet work of a replay (20: a replay putting
 * out 50 k alerts a second); 0 writes as fast as the loop can.
 * --sinks: a compiled src/output/sinks directory to measure instead of this tree's, such as the build of an
 * earlier commit (`git archive COMMIT | tar -x -C DIR`, then tsc there): the same harness measures both.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import type { EcsDoc } from '../src/alert/ecs';
import type { createSink as CreateSink } from '../src/output/sinks/sink';
import { Rsyslog } from '../test/sink-rsyslog';

interface Run {
  seconds: number;
  spilled: number;
  /** Delivered when the writing loop ended: what the sink did while the loop held the event loop. */
  deliveredInLoop: number;
  /** Records the target has beyond one per document. */
  duplicates: number;
  missing: number;
}

function alert(seq: number): EcsDoc {
  return {
    '@timestamp': new Date(1714557600000 + seq).toISOString(),
    event: { kind: 'alert', severity: [21, 47, 73, 99][seq % 4], category: ['network'], type: ['info'] },
    rule: { id: 'scan.port', name: 'Port scan' },
    source: { ip: `10.0.${(seq >> 8) & 255}.${seq & 255}`, port: 40000 + (seq % 20000) },
    destination: { ip: '192.0.2.7', port: 443 },
    message: `reconnaissance ${seq}`,
    picket: { seq },
  };
}

function arg(argv: string[], name: string, dflt: string): string {
  const i = argv.indexOf(name);
  return i >= 0 && i + 1 < argv.length ? argv[i + 1] : dflt;
}

let workUs = 0;

function spin(us: number): void {
  const end = process.hrtime.bigint() + BigInt(Math.round(us * 1000));
  while (process.hrtime.bigint() < end);
}

/** Writes docs 0..n-1 from one synchronous loop, as a replay does, then flushes. */
async function drive(createSink: typeof CreateSink, cfg: Parameters<typeof CreateSink>[0], n: number, delivered: () => Promise<boolean>): Promise<Run> {
  const spillDir = fs.mkdtempSync(path.join(os.tmpdir(), 'picket-bench-spill-'));
  const sink = createSink(cfg, { spillDir });
  await new Promise((r) => setTimeout(r, 300)); // the sensor starts its sinks before the first capture file
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    sink.write(alert(i));
    if (workUs > 0) spin(workUs);
  }
  const deliveredInLoop = sink.stats().delivered;
  await sink.flush(600_000);
  for (;;) {
    if (await delivered()) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const st = await sink.close(10_000);
  fs.rmSync(spillDir, { recursive: true, force: true });
  if (st.delivered !== n || st.dropped + st.failures > 0) throw new Error(`sink did not deliver everything: ${JSON.stringify(st)}`);
  return { seconds, spilled: st.spilled, deliveredInLoop, duplicates: 0, missing: 0 };
}

async function rsyslogRun(createSink: typeof CreateSink, n: number): Promise<Run> {
  const rs = new Rsyslog();
  await rs.start();
  try {
    const base = rs.lineCount();
    const run = await drive(createSink, { type: 'syslog', url: `tcp://127.0.0.1:${rs.tcpPort}` }, n, async () => rs.lineCount() >= base + n);
    const seqs = rs.records().map((r) => (JSON.parse(r.msg) as { picket: { seq: number } }).picket.seq);
    const distinct = new Set(seqs).size;
    return { ...run, duplicates: seqs.length - distinct, missing: n - distinct };
  } finally {
    await rs.cleanup();
  }
}

/** A _bulk endpoint in a child process, so that it answers while this process is busy writing. */
async function bulkProcess(): Promise<{ url: string; tally(): Promise<{ records: number; distinct: number }>; stop(): void }> {
  const code = `
    const http = require('node:http');
    let records = 0;
    const seen = new Set();
    http.createServer((req, res) => {
      const parts = [];
      req.on('data', (b) => parts.push(b));
      req.on('end', () => {
        if (req.method === 'GET') return res.end(JSON.stringify({ records, distinct: seen.size }));
        const lines = Buffer.concat(parts).toString('utf8').split('\\n');
        const items = [];
        for (let i = 1; i < lines.length; i += 2) {
          records++;
          seen.add(JSON.parse(lines[i]).picket.seq);
          items.push({ create: { status: 201 } });
        }
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ errors: false, items }));
      });
    }).listen(0, '127.0.0.1', function () { console.log(this.address().port); });`;
  const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout?.once('data', (b: Buffer) => resolve(Number(b.toString().trim())));
    child.once('exit', (c) => reject(new Error(`bulk server exited: ${c}`)));
  });
  const url = `http://127.0.0.1:${port}/_bulk`;
  const tally = (): Promise<{ records: number; distinct: number }> =>
    new Promise((resolve, reject) => {
      http.get(url, (res) => {
        let body = '';
        res.on('data', (b: Buffer) => (body += b.toString()));
        res.on('end', () => resolve(JSON.parse(body) as { records: number; distinct: number }));
      }).on('error', reject);
    });
  return { url, tally, stop: () => void child.kill('SIGKILL') };
}

async function httpRun(createSink: typeof CreateSink, n: number): Promise<Run> {
  const srv = await bulkProcess();
  try {
    const run = await drive(createSink, { type: 'http', url: srv.url, bulk: { index: 'picket-bench' } }, n, async () => (await srv.tally()).distinct >= n);
    const t = await srv.tally();
    return { ...run, duplicates: t.records - t.distinct, missing: n - t.distinct };
  } finally {
    srv.stop();
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const n = Number(arg(argv, '--docs', '150000'));
  const runs = Number(arg(argv, '--runs', '3'));
  const target = arg(argv, '--target', 'both');
  workUs = Number(arg(argv, '--work-us', '0'));
  const dir = path.resolve(arg(argv, '--sinks', path.join(__dirname, '..', 'src', 'output', 'sinks')));
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { createSink } = require(path.join(dir, 'sink.js')) as { createSink: typeof CreateSink };
  console.log(`sinks from ${dir}; ${n} documents a run, ${runs} runs, ${workUs} us of work between two; load average ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}`);
  console.log('| target | documents/s (median) | seconds (median) | spilled (median) | delivered when the loop ended (median) | duplicates (max) | missing (max) |');
  console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: |');
  const targets: Array<[string, (c: typeof CreateSink, n: number) => Promise<Run>]> = [];
  if (target === 'rsyslog' || target === 'both') targets.push(['rsyslog, syslog TCP', rsyslogRun]);
  if (target === 'http' || target === 'both') targets.push(['HTTP _bulk', httpRun]);
  for (const [name, fn] of targets) {
    const rs: Run[] = [];
    for (let r = 0; r < runs; r++) rs.push(await fn(createSink, n));
    const secs = median(rs.map((x) => x.seconds));
    console.log(
      `| ${name} | ${Math.round(n / secs)} | ${secs.toFixed(2)} | ${median(rs.map((x) => x.spilled))} | ${median(rs.map((x) => x.deliveredInLoop))} | ` +
        `${Math.max(...rs.map((x) => x.duplicates))} | ${Math.max(...rs.map((x) => x.missing))} |`,
    );
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
