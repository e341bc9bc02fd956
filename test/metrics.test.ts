import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { PicketError } from '../src/errors';
import { createRegistry, EXPOSITION_CONTENT_TYPE, parseListen, serveMetrics, type MetricFamily, type Sample } from '../src/output/metrics';
import * as dgram from 'node:dgram';
import { dnsQuery, freePort, picketChild, tmpDir } from './helpers';
import { freeTcpPort, Rsyslog, until } from './sink-rsyslog';

const PROMTOOL = '/usr/bin/promtool';
const PROMETHEUS = '/usr/bin/prometheus';

/** Debian's prometheus package ships both binaries; without them these tests fail, saying what to install. */
function requirePrometheus(): void {
  for (const bin of [PROMTOOL, PROMETHEUS]) {
    if (!fs.existsSync(bin)) throw new Error(`${bin} is missing: apt-get install prometheus (scripts/ensure-tools.sh does it)`);
  }
}

/** `promtool check metrics` over an exposition: its exit status and everything it said. */
function promtool(text: string): { status: number; said: string } {
  requirePrometheus();
  const r = spawnSync(PROMTOOL, ['check', 'metrics'], { input: text, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status ?? -1, said: `${r.stdout ?? ''}${r.stderr ?? ''}`.trim() };
}

function assertLintsClean(text: string): void {
  const r = promtool(text);
  assert.equal(r.said, '', `promtool check metrics reported problems:\n${r.said}\n--- exposition ---\n${text}`);
  assert.equal(r.status, 0);
}

const PACKETS: MetricFamily = { name: 'picket_test_packets_total', help: 'Packets read, by worker.', type: 'counter' };
const QUEUE: MetricFamily = { name: 'picket_test_queue_depth', help: 'Batches waiting.\nA second line, and a backslash: \\.', type: 'gauge' };
const PATHS: MetricFamily = { name: 'picket_test_files_total', help: 'Files read, by path.', type: 'counter' };
const ODD: MetricFamily = { name: 'picket_test_odd_values', help: 'Values that need care.', type: 'gauge' };

/** A label value with each character the format escapes: backslash, double quote, newline. */
const TRICKY = 'C:\\caps\\"q"\nline2 ü';

/**
 * The lines of an exposition by family: checks that every family has exactly one HELP and one TYPE, both before
 * its samples, and that its samples are contiguous (grouped), and returns the sample lines per family.
 */
function families(text: string): Map<string, { help: string; type: string; samples: string[] }> {
  assert.ok(text.endsWith('\n'), 'the exposition ends with a newline');
  const out = new Map<string, { help: string; type: string; samples: string[] }>();
  const closed = new Set<string>();
  let current = '';
  for (const line of text.slice(0, -1).split('\n')) {
    const m = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(line);
    const name = m !== null ? m[2] : /^([a-zA-Z_:][a-zA-Z0-9_:]*)[{ ]/.exec(line)?.[1];
    assert.ok(name !== undefined, `not a HELP, TYPE or sample line: ${JSON.stringify(line)}`);
    if (name !== current) {
      assert.ok(!closed.has(name), `${name} appears in two places: families must be grouped`);
      if (current !== '') closed.add(current);
      current = name;
    }
    let f = out.get(name);
    if (m !== null) {
      if (f === undefined) {
        assert.equal(m[1], 'HELP', `${name}: HELP comes first`);
        f = { help: m[3], type: '', samples: [] };
        out.set(name, f);
      } else {
        assert.equal(m[1], 'TYPE', `${name}: a second ${m[1]} line`);
        assert.equal(f.type, '', `${name}: a second TYPE line`);
        assert.equal(f.samples.length, 0, `${name}: TYPE after samples`);
        f.type = m[3];
      }
    } else {
      assert.ok(f !== undefined && f.type !== '', `${name}: a sample before HELP and TYPE`);
      f.samples.push(line);
    }
  }
  return out;
}

/** The value of one sample line as written. */
function valueOf(sampleLine: string): string {
  return sampleLine.slice(sampleLine.lastIndexOf(' ') + 1);
}

test('render: HELP and TYPE once per family, families grouped across collectors, labels escaped, values as Prometheus reads them; promtool finds no problem', () => {
  const reg = createRegistry();
  const state = { w0: 1000, w1: 2500, queue: 3 };
  // Two collectors write the same family (one per worker) with another family in between: the output groups them.
  reg.register((): Sample[] => [
    { family: PACKETS, labels: { worker: '0' }, value: state.w0 },
    { family: QUEUE, value: state.queue },
    { family: PATHS, labels: { path: TRICKY, format: 'pcap' }, value: 7 },
  ]);
  reg.register((): Sample[] => [
    { family: PACKETS, labels: { worker: '1' }, value: state.w1 },
    { family: ODD, labels: { kind: 'nan' }, value: NaN },
    { family: ODD, labels: { kind: 'pos_inf' }, value: Infinity },
    { family: ODD, labels: { kind: 'neg_inf' }, value: -Infinity },
    { family: ODD, labels: { kind: 'small' }, value: 1.5e-7 },
    { family: ODD, labels: { kind: 'big' }, value: 2 ** 53 - 1 },
    { family: ODD, labels: { kind: 'negative' }, value: -42.25 },
  ]);
  const text = reg.render();
  const fams = families(text);
  assert.deepEqual([...fams.keys()], [PACKETS.name, QUEUE.name, PATHS.name, ODD.name, 'picket_metrics_collector_errors_total']);
  assert.equal(fams.get(PACKETS.name)?.type, 'counter');
  assert.equal(fams.get(QUEUE.name)?.type, 'gauge');
  assert.deepEqual(fams.get(PACKETS.name)?.samples, [`${PACKETS.name}{worker="0"} ${state.w0}`, `${PACKETS.name}{worker="1"} ${state.w1}`]);
  // HELP escapes backslash and newline (so the help stays one line).
  assert.equal(fams.get(QUEUE.name)?.help, 'Batches waiting.\\nA second line, and a backslash: \\\\.');
  // Label values escape backslash, double quote and newline, and nothing else (UTF-8 is written as it is).
  assert.deepEqual(fams.get(PATHS.name)?.samples, [`${PATHS.name}{path="C:\\\\caps\\\\\\"q\\"\\nline2 ü",format="pcap"} 7`]);
  const odd = new Map(fams.get(ODD.name)?.samples.map((l) => [/kind="(\w+)"/.exec(l)?.[1], valueOf(l)]));
  assert.equal(odd.get('nan'), 'NaN');
  assert.equal(odd.get('pos_inf'), '+Inf');
  assert.equal(odd.get('neg_inf'), '-Inf');
  assert.equal(odd.get('big'), '9007199254740991', 'integers are written as plain digits');
  assert.equal(Number(odd.get('small')), 1.5e-7);
  assert.equal(odd.get('negative'), '-42.25');
  assert.deepEqual(fams.get('picket_metrics_collector_errors_total')?.samples, ['picket_metrics_collector_errors_total 0']);
  assertLintsClean(text);

  // The collectors are read at render time: a changed number shows in the next render, nothing cached.
  state.w1 += 1;
  assert.match(reg.render(), new RegExp(`worker="1"} ${state.w1}\\n`));

  // promtool is a real check: the same text with one escape undone, or a counter without _total, is refused.
  const broken = text.replace('\\"q\\"', '"q"');
  assert.notEqual(broken, text);
  assert.notEqual(promtool(broken).status, 0, 'promtool refuses an unescaped double quote');
  const unsuffixed = text.split(PATHS.name).join('picket_test_files');
  assert.match(promtool(unsuffixed).said, /_total/);
});

test('register() calls the collector once and throws on invalid names, labels, help, types and counter values', () => {
  const fam = (name: string, type: 'counter' | 'gauge' = 'gauge', help = 'Some help.'): MetricFamily => ({ name, help, type });
  const cases: Array<[string, () => Sample[], RegExp]> = [
    ['metric name with a dash', () => [{ family: fam('picket-packets'), value: 1 }], /metric name "picket-packets"/],
    ['metric name starting with a digit', () => [{ family: fam('1picket'), value: 1 }], /metric name "1picket"/],
    ['metric name with a colon (recording rules only)', () => [{ family: fam('picket:rate'), value: 1 }], /metric name "picket:rate"/],
    ['camelCase metric name', () => [{ family: fam('picketPackets'), value: 1 }], /metric name "picketPackets"/],
    ['counter without _total', () => [{ family: fam('picket_packets', 'counter'), value: 1 }], /picket_packets: a counter's name must end in _total/],
    ['empty help', () => [{ family: fam('picket_x', 'gauge', ' '), value: 1 }], /picket_x: empty HELP/],
    ['unknown type', () => [{ family: { name: 'picket_x', help: 'h', type: 'histogram' as 'gauge' }, value: 1 }], /type "histogram"/],
    ['label name with a dash', () => [{ family: fam('picket_x'), labels: { 'link-type': 'en10mb' }, value: 1 }], /label name "link-type"/],
    ['reserved label name', () => [{ family: fam('picket_x'), labels: { __name__: 'x' }, value: 1 }], /label name "__name__" starts with __/],
    ['negative counter', () => [{ family: fam('picket_x_total', 'counter'), value: -1 }], /counter value -1/],
    ['NaN counter', () => [{ family: fam('picket_x_total', 'counter'), value: NaN }], /counter value NaN/],
    ['value that is not a number', () => [{ family: fam('picket_x'), value: undefined as unknown as number }], /not a number/],
    ['same name, two types', () => [{ family: fam('picket_x_total', 'gauge'), value: 1 }, { family: fam('picket_x_total', 'counter'), value: 1 }], /picket_x_total: declared twice/],
    ['same series twice', () => [{ family: fam('picket_x'), labels: { a: '1', b: '2' }, value: 1 }, { family: fam('picket_x'), labels: { b: '2', a: '1' }, value: 2 }], /the same series twice/],
    ['picket\'s own metric', () => [{ family: fam('picket_metrics_collector_errors_total', 'counter'), value: 1 }], /picket's own metric/],
  ];
  for (const [what, c, re] of cases) {
    const reg = createRegistry();
    assert.throws(() => reg.register(c), (e: Error) => re.test(e.message), what);
    // Nothing of a refused collector stays registered.
    assert.equal(families(reg.render()).size, 1, what);
  }
  // A valid collector with the same shapes, for contrast, is accepted.
  const reg = createRegistry();
  reg.register(() => [{ family: fam('picket_x_total', 'counter'), labels: { link_type: 'en10mb' }, value: 0 }]);
  assert.equal(families(reg.render()).size, 2);
});

test('a collector that throws, or returns invalid samples, at scrape time is left out whole and counted; the rest of the scrape stands', async () => {
  const seen: string[] = [];
  const reg = createRegistry({ onCollectorError: (e) => seen.push(e.message) });
  let mode: 'ok' | 'throw' | 'invalid' = 'ok';
  reg.register(() => [{ family: PACKETS, labels: { worker: '0' }, value: 5 }]);
  reg.register((): Sample[] => {
    if (mode === 'throw') throw new Error('worker 1 is gone');
    // When invalid, the first sample is fine and the second is not: neither may appear.
    return [
      { family: QUEUE, value: 9 },
      { family: PATHS, labels: mode === 'invalid' ? { 'bad-name': 'x' } : { path: 'a.pcap' }, value: 1 },
    ];
  });
  reg.register(() => [{ family: PACKETS, labels: { worker: '1' }, value: 6 }]);
  const server = await serveMetrics('127.0.0.1:0', reg);
  try {
    const scrape = async (): Promise<Map<string, { help: string; type: string; samples: string[] }>> => {
      const r = await fetch(`http://${server.address}/metrics`);
      assert.equal(r.status, 200);
      const text = await r.text();
      assertLintsClean(text);
      return families(text);
    };
    const errors = (f: Map<string, { samples: string[] }>): number => Number(valueOf(f.get('picket_metrics_collector_errors_total')?.samples[0] ?? 'x NaN'));

    let f = await scrape();
    assert.equal(errors(f), 0);
    assert.ok(f.has(QUEUE.name) && f.has(PATHS.name));

    mode = 'throw';
    f = await scrape();
    assert.equal(errors(f), 1);
    assert.ok(!f.has(QUEUE.name) && !f.has(PATHS.name), 'the throwing collector contributes nothing');
    assert.equal(f.get(PACKETS.name)?.samples.length, 2, 'the collectors before and after it still count');

    mode = 'invalid';
    f = await scrape();
    assert.equal(errors(f), 2);
    assert.ok(!f.has(QUEUE.name) && !f.has(PATHS.name), 'an invalid sample drops its collector\'s valid samples too');
    assert.equal(f.get(PACKETS.name)?.samples.length, 2);

    mode = 'ok';
    f = await scrape();
    assert.equal(errors(f), 2, 'the counter keeps its count once the collector recovers');
    assert.ok(f.has(QUEUE.name) && f.has(PATHS.name));
    assert.equal(seen.length, 2);
    assert.match(seen[0], /worker 1 is gone/);
    assert.match(seen[1], /label name "bad-name"/);
  } finally {
    await server.close();
  }
});

test('parseListen: the accepted forms, and errors that name the bad value', () => {
  assert.deepEqual(parseListen('127.0.0.1:9464'), { host: '127.0.0.1', port: 9464 });
  assert.deepEqual(parseListen('[::1]:0'), { host: '::1', port: 0 });
  assert.deepEqual(parseListen(':9464'), { host: '', port: 9464 });
  assert.deepEqual(parseListen('localhost:65535'), { host: 'localhost', port: 65535 });
  assert.deepEqual(parseListen('[fe80::1]:80'), { host: 'fe80::1', port: 80 });
  const bad: Array<[string, RegExp]> = [
    ['9464', /no port/],
    ['127.0.0.1', /no port/],
    ['127.0.0.1:', /no port/],
    ['127.0.0.1:http', /port "http" is not a number/],
    ['127.0.0.1:-1', /port "-1" is not a number/],
    ['127.0.0.1:65536', /port 65536 is above 65535/],
    ['127.0.0.1:123456', /port "123456" is not a number/],
    ['300.1.2.3:9464', /"300\.1\.2\.3" is not a valid IPv4 address/],
    ['::1:9464', /IPv6 address needs brackets/],
    ['[::1:9464', /no closing "\]"/],
    ['[::1]9464', /no ":PORT" after "\]"/],
    ['[10.0.0.1]:9464', /"10\.0\.0\.1" inside brackets is not an IPv6 address/],
    ['bad_host!:9464', /neither an IP address nor a host name/],
    ['', /no port/],
  ];
  for (const [s, re] of bad) {
    assert.throws(() => parseListen(s), (e: Error) => {
      assert.ok(e instanceof PicketError, `${s}: a PicketError`);
      assert.ok(e.message.includes(`"${s}"`), `${s}: the message names the value: ${e.message}`);
      assert.match(e.message, re, s);
      return true;
    });
  }
});

test('the server: GET and HEAD /metrics with the exposition content type, 404 elsewhere, 405 for other methods; IPv6 and all-interface binds', async () => {
  const reg = createRegistry();
  reg.register(() => [{ family: PATHS, labels: { path: TRICKY }, value: 3 }]);
  const server = await serveMetrics('127.0.0.1:0', reg);
  try {
    assert.match(server.address, /^127\.0\.0\.1:[1-9]\d*$/, 'the real port, not 0');
    const url = `http://${server.address}`;
    const get = await fetch(`${url}/metrics`);
    assert.equal(get.status, 200);
    assert.equal(get.headers.get('content-type'), EXPOSITION_CONTENT_TYPE);
    assert.equal(EXPOSITION_CONTENT_TYPE, 'text/plain; version=0.0.4; charset=utf-8');
    const body = await get.text();
    assert.equal(body, reg.render());
    assertLintsClean(body);
    // A query string (Prometheus's params:) does not change the path.
    assert.equal((await fetch(`${url}/metrics?format=text`)).status, 200);

    const head = await fetch(`${url}/metrics`, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('content-type'), EXPOSITION_CONTENT_TYPE);
    assert.equal(Number(head.headers.get('content-length')), Buffer.byteLength(body, 'utf8'));
    assert.equal(await head.text(), '');

    for (const p of ['/', '/metric', '/metrics/', '/api/v1/query']) {
      const r = await fetch(`${url}${p}`);
      assert.equal(r.status, 404, p);
      await r.text();
    }
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH']) {
      const r = await fetch(`${url}/metrics`, { method, body: method === 'DELETE' ? undefined : 'x' });
      assert.equal(r.status, 405, method);
      assert.equal(r.headers.get('allow'), 'GET, HEAD');
      await r.text();
    }
  } finally {
    await server.close();
  }
  // After close, nothing answers on that port.
  await assert.rejects(fetch(`http://${server.address}/metrics`));

  const v6 = await serveMetrics('[::1]:0', reg);
  try {
    assert.match(v6.address, /^\[::1\]:[1-9]\d*$/);
    assert.equal((await fetch(`http://${v6.address}/metrics`)).status, 200);
  } finally {
    await v6.close();
  }
  const any = await serveMetrics(':0', reg);
  try {
    const port = /:(\d+)$/.exec(any.address)?.[1];
    assert.match(any.address, /^(\[::\]|0\.0\.0\.0):\d+$/);
    assert.equal((await fetch(`http://127.0.0.1:${port}/metrics`)).status, 200, 'all interfaces include the IPv4 loopback');
  } finally {
    await any.close();
  }
});

test('a port in use: serveMetrics rejects with a PicketError naming the address', async () => {
  const reg = createRegistry();
  const first = await serveMetrics('127.0.0.1:0', reg);
  try {
    const taken = first.address;
    await assert.rejects(serveMetrics(taken, reg), (e: Error) => {
      assert.ok(e instanceof PicketError);
      assert.ok(e.message.includes(taken), e.message);
      assert.match(e.message, /already in use/);
      return true;
    });
    // The first server still answers.
    assert.equal((await fetch(`http://${taken}/metrics`)).status, 200);
  } finally {
    await first.close();
  }
  // A bad value never reaches the socket.
  await assert.rejects(serveMetrics('127.0.0.1:99999', reg), PicketError);
});

interface PromSample {
  metric: Record<string, string>;
  value: [number, string];
}

test('a real Prometheus scrapes the endpoint: values, NaN and infinities, escaped labels read back whole, and a changed value', async (t) => {
  requirePrometheus();
  const dir = tmpDir('prometheus');
  let prom: ChildProcess | null = null;
  let server: { close(): Promise<void> } | null = null;
  t.after(async () => {
    if (server !== null) await server.close();
    if (prom !== null && prom.exitCode === null && prom.signalCode === null) {
      const p = prom;
      const exited = new Promise<void>((resolve) => p.once('exit', () => resolve()));
      p.kill('SIGTERM');
      const timer = setTimeout(() => p.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const state = { queue: 42, packets: 1000 };
  const reg = createRegistry();
  reg.register((): Sample[] => [
    { family: QUEUE, value: state.queue },
    { family: PACKETS, labels: { worker: '0' }, value: state.packets },
    { family: PATHS, labels: { path: TRICKY }, value: 7 },
    { family: ODD, labels: { kind: 'nan' }, value: NaN },
    { family: ODD, labels: { kind: 'pos_inf' }, value: Infinity },
    { family: ODD, labels: { kind: 'neg_inf' }, value: -Infinity },
    { family: ODD, labels: { kind: 'big' }, value: 2 ** 53 - 1 },
    { family: ODD, labels: { kind: 'small' }, value: 1.5e-7 },
  ]);
  const s = await serveMetrics('127.0.0.1:0', reg);
  server = s;

  const promPort = await freePort();
  const config = path.join(dir, 'prometheus.yml');
  fs.writeFileSync(config, [
    'global:',
    '  scrape_interval: 1s',
    '  scrape_timeout: 1s',
    'scrape_configs:',
    '  - job_name: picket',
    '    static_configs:',
    `      - targets: ['${s.address}']`,
    '',
  ].join('\n'));
  const log = fs.openSync(path.join(dir, 'prometheus.log'), 'w');
  prom = spawn(PROMETHEUS, [
    `--config.file=${config}`,
    `--storage.tsdb.path=${path.join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${promPort}`,
  ], { stdio: ['ignore', log, log] });
  fs.closeSync(log);
  const p = prom;
  const api = `http://127.0.0.1:${promPort}`;
  const logTail = (): string => fs.readFileSync(path.join(dir, 'prometheus.log'), 'utf8').split('\n').slice(-20).join('\n');

  /** Polls until `probe` returns a value (at most 150 tries, 200 ms apart: 30 s), failing with Prometheus's log. */
  const waitFor = async <T>(what: string, probe: () => Promise<T | undefined>): Promise<T> => {
    for (let i = 0; i < 150; i++) {
      if (p.exitCode !== null || p.signalCode !== null) assert.fail(`prometheus exited (${p.exitCode ?? p.signalCode}) while waiting for ${what}:\n${logTail()}`);
      try {
        const v = await probe();
        if (v !== undefined) return v;
      } catch {
        // Not listening yet, or not ready: try again.
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    return assert.fail(`gave up waiting for ${what} after 150 tries:\n${logTail()}`);
  };
  const query = async (q: string): Promise<PromSample[]> => {
    const r = await fetch(`${api}/api/v1/query?query=${encodeURIComponent(q)}`);
    const j = (await r.json()) as { status: string; data: { resultType: string; result: PromSample[] } };
    assert.equal(j.status, 'success', `query ${q}`);
    return j.data.result;
  };
  /** The one sample of `q` once its value is `want` (as Prometheus's API writes it). */
  const until = (q: string, want: (v: string) => boolean): Promise<PromSample> =>
    waitFor(`${q} to satisfy ${want.toString()}`, async () => {
      const r = await query(q);
      return r.length === 1 && want(r[0].value[1]) ? r[0] : undefined;
    });

  await until(QUEUE.name, (v) => Number(v) === 42);
  // The target is healthy: the whole scrape parsed, with no error from Prometheus.
  const targets = await waitFor('the target to report a scrape', async () => {
    const r = (await (await fetch(`${api}/api/v1/targets`)).json()) as { data: { activeTargets: Array<{ health: string; lastError: string; scrapeUrl: string }> } };
    return r.data.activeTargets.length === 1 && r.data.activeTargets[0].health !== 'unknown' ? r.data.activeTargets : undefined;
  });
  assert.equal(targets[0].scrapeUrl, `http://${s.address}/metrics`);
  assert.equal(targets[0].lastError, '');
  assert.equal(targets[0].health, 'up');

  const packets = await until(PACKETS.name, (v) => Number(v) === 1000);
  assert.equal(packets.metric.worker, '0');
  assert.equal(packets.metric.job, 'picket');
  // The label value with backslashes, quotes, a newline and UTF-8 comes back exactly as it was set.
  const files = await until(PATHS.name, (v) => Number(v) === 7);
  assert.equal(files.metric.path, TRICKY);
  const odd = new Map((await query(ODD.name)).map((r) => [r.metric.kind, r.value[1]]));
  assert.equal(odd.get('nan'), 'NaN');
  assert.equal(odd.get('pos_inf'), '+Inf');
  assert.equal(odd.get('neg_inf'), '-Inf');
  assert.equal(odd.get('big'), String(2 ** 53 - 1));
  assert.equal(Number(odd.get('small')), 1.5e-7);
  assert.equal(Number((await query('picket_metrics_collector_errors_total'))[0]?.value[1]), 0);

  // Change the values; the next scrapes carry them.
  state.queue = 17.25;
  state.packets = 1500;
  await until(QUEUE.name, (v) => Number(v) === 17.25);
  await until(PACKETS.name, (v) => Number(v) === 1500);
  // Prometheus saw the counter go up, not reset: increase() over the window is positive.
  const inc = await query(`increase(${PACKETS.name}[1m])`);
  assert.equal(inc.length, 1);
  assert.ok(Number(inc[0].value[1]) > 0, `increase is ${inc[0].value[1]}`);
});

test('a live sensor whose syslog collector goes down and comes back: per-sink health on /metrics (promtool clean) and on stderr, even with --quiet', async (t) => {
  const rs = new Rsyslog();
  await rs.start();
  await rs.stop(); // its port known, nothing listening: the collector is down
  const metricsPort = await freeTcpPort();
  const spillDir = tmpDir('health-spill');
  const sinkName = `syslog tcp://127.0.0.1:${rs.tcpPort}`;
  const pk = picketChild(['capture', '-i', 'lo', '--bpf', 'udp and dst port 53 and host 127.0.0.1', '--metadata', '--quiet', '--stats-interval', '0',
    '--syslog', `tcp://127.0.0.1:${rs.tcpPort}`, '--spill-dir', spillDir, '--metrics-listen', `127.0.0.1:${metricsPort}`]);
  const scrape = async (): Promise<string> => {
    const res = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
    return res.text();
  };
  const value = (text: string, family: string): number => {
    const line = text.split('\n').find((l) => l.startsWith(`${family}{sink="${sinkName}"} `));
    assert.ok(line !== undefined, `${family} for ${sinkName} in:\n${text}`);
    return Number(line.split(' ').pop());
  };
  const udp = dgram.createSocket('udp4');
  let id = 0;
  const query = (): void => udp.send(dnsQuery(++id, 'api.shodan.io'), 53, '127.0.0.1');
  try {
    await until('the metrics endpoint', async () => (await scrape().catch(() => '')).includes('picket_sink_up'));
    let text = await scrape();
    assertLintsClean(text);
    assert.equal(value(text, 'picket_sink_up'), 1, 'nothing sent yet, nothing failed');
    // Queries make protocol events, which the dead collector cannot take.
    await until('picket to say the output is failing', () => {
      query();
      return pk.stderr().includes(`output ${sinkName} is failing`);
    });
    text = await scrape();
    assertLintsClean(text);
    assert.equal(value(text, 'picket_sink_up'), 0);
    assert.equal(value(text, 'picket_sink_delivered_total'), 0);
    const accepted = value(text, 'picket_sink_accepted_total');
    assert.ok(accepted > 0);
    assert.equal(value(text, 'picket_sink_queued') + value(text, 'picket_sink_spill_pending'), accepted, 'everything accepted is in memory or spilled');
    assert.match(pk.stderr(), /ECONNREFUSED/);

    await rs.start();
    await until('picket to say the output delivers again', () => pk.stderr().includes(`output ${sinkName} delivers again`));
    text = await scrape();
    assertLintsClean(text);
    assert.equal(value(text, 'picket_sink_up'), 1);
    assert.ok(value(text, 'picket_sink_delivered_total') >= accepted);
    t.diagnostic(pk.stderr());
  } finally {
    udp.close();
    pk.child.kill('SIGTERM');
  }
  const r = await pk.done;
  assert.equal(r.code, 0, r.stderr);
  // Every query's event and the final counters reached rsyslog.
  const events = rs.records().map((x) => JSON.parse(x.msg) as { event: { kind: string }; dns?: { id?: string } });
  assert.equal(events.filter((e) => e.event.kind === 'metric').length, 1);
  assert.equal(events.filter((e) => e.event.kind === 'event').length, id);
  await rs.cleanup();
  fs.rmSync(spillDir, { recursive: true, force: true });
});
