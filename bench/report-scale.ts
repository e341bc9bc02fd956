/**
 * picket report at scale: 100,000 alerts made from the bundled captures' alerts, copied with shifted addresses and
 * times, turned into one HTML report and opened in headless Debian chromium.
 *
 *   node dist/bench/report-scale.js [--alerts 100000] [--runs 3]
 *
 * Copy k of the alerts of `picket replay pcaps/` has every IPv4 address moved by k * 4096 (so each copy is new
 * sources, targets and clients), its times moved by k * 5 minutes and its event.id suffixed. Prints the input size,
 * `picket report`'s wall time and peak RSS (GNU time), the report's size, and the browser's time from navigation to
 * the page drawn (performance.now() when the page script ends, median of --runs), and the time a source filter takes.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { launch, open } from '../test/browser';

const ROOT = path.resolve(__dirname, '..', '..');
const BIN = path.join(ROOT, 'bin', 'picket.js');

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
}

const IPV4 = /\b(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\b/g;
const ISO = /"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?Z"/g;

function shifted(line: string, k: number): string {
  return line
    .replace(IPV4, (_m, a: string, b: string, c: string, d: string) => {
      const n = ((((+a << 24) >>> 0) + (+b << 16) + (+c << 8) + +d + k * 4096) >>> 0);
      return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
    })
    .replace(ISO, (_m, base: string, frac: string | undefined) => `"${new Date(Date.parse(`${base}Z`) + k * 300_000).toISOString().slice(0, 19)}${frac ?? ''}Z"`)
    .replace(/"id":"([0-9a-f]{32}-\d+)"/, `"id":"$1-${k}"`);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function main(): Promise<void> {
  const want = arg('alerts', 100_000);
  const runs = arg('runs', 3);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'picket-report-scale-'));
  try {
    const base = spawnSync(process.execPath, [BIN, 'replay', path.join(ROOT, 'pcaps'), '--summary', 'none'], { encoding: 'utf8', maxBuffer: 1 << 28 });
    if (base.status !== 0) throw new Error(base.stderr);
    const lines = base.stdout.split('\n').filter((l) => l.startsWith('{'));
    const alerts = lines.filter((l) => l.includes('"kind":"alert"'));
    const metric = lines.filter((l) => l.includes('"kind":"metric"'));
    const input = path.join(dir, 'alerts.ndjson');
    const fd = fs.openSync(input, 'w');
    let n = 0;
    for (let k = 0; n < want; k++) {
      const chunk: string[] = [];
      for (const l of alerts) {
        if (n >= want) break;
        chunk.push(shifted(l, k));
        n++;
      }
      fs.writeSync(fd, `${chunk.join('\n')}\n`);
    }
    fs.writeSync(fd, `${metric.join('\n')}\n`);
    fs.closeSync(fd);
    const inputBytes = fs.statSync(input).size;
    const out = path.join(dir, 'report.html');
    const times: number[] = [];
    let rss = 0;
    let stderr = '';
    for (let r = 0; r < runs; r++) {
      const t0 = process.hrtime.bigint();
      const rep = spawnSync('/usr/bin/time', ['-f', '%M', process.execPath, BIN, 'report', input, '-o', out], { encoding: 'utf8' });
      times.push(Number(process.hrtime.bigint() - t0) / 1e9);
      if (rep.status !== 0) throw new Error(rep.stderr);
      const lastLine = rep.stderr.trim().split('\n').pop() ?? '0';
      rss = Math.max(rss, Number(lastLine));
      stderr = rep.stderr.trim().split('\n')[0];
    }
    const reportBytes = fs.statSync(out).size;
    const b = await launch();
    const render: number[] = [];
    const filter: number[] = [];
    try {
      for (let r = 0; r < runs; r++) {
        const { page, errors } = await open(b, out);
        if (errors.length > 0) throw new Error(errors.join('\n'));
        render.push(Number(await page.getAttribute('body', 'data-render-ms')));
        const t0 = Date.now();
        await page.fill('#f-source', '198.18.');
        await page.locator('#f-count').textContent();
        filter.push(Date.now() - t0);
        await page.close();
      }
    } finally {
      await b.close();
    }
    const mb = (x: number): string => `${(x / 1e6).toFixed(1)} MB`;
    process.stdout.write([
      `alerts: ${n} (${alerts.length} bundled alerts, copied with shifted addresses and times)`,
      `input NDJSON: ${mb(inputBytes)}`,
      `picket report: ${stderr}`,
      `picket report wall time: median ${median(times).toFixed(2)} s of ${runs} (${times.map((t) => t.toFixed(2)).join(', ')}), peak RSS ${(rss / 1024).toFixed(0)} MB`,
      `report.html: ${mb(reportBytes)} (${(100 * reportBytes / inputBytes).toFixed(1)} % of the input)`,
      `chromium, navigation to drawn: median ${median(render)} ms of ${runs} (${render.join(', ')})`,
      `chromium, source filter over every incident: median ${median(filter)} ms (${filter.join(', ')})`,
    ].join('\n') + '\n');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
  process.exit(1);
});
