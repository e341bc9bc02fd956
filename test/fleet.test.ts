/**
 * Issue 17: a fleet of sensors on a real three-node NATS JetStream cluster (Debian's nats-server, loopback ports
 * chosen at run time, its own config files and store directories), three `picket replay` sensors each on a slice
 * of one real nmap sweep split by target host, and `picket correlate`: the sweep no sensor saw alone is raised once,
 * with the counts of one sensor replaying the whole capture; then again with a NATS node killed and restarted and
 * correlate killed and restarted.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { connect, credsAuthenticator, type NatsConnection } from 'nats';
import { partitionOf, subjectPartition } from '../src/fleet/partition';
import { fitsType, leaves, loadEcsFields } from './ecs-check';
import { makeNatsJwt } from './nats-jwt';
import { createVethLab } from './netns';
import { makeTestCa } from './test-ca';
import { freePort, get, PCAPS, picketChild, requireTool, ROOT, tmpDir, type Run } from './helpers';

const CAPTURE = path.join(PCAPS, 'scans', 'nmap-sweep.pcap');
const SCANNER = '198.18.0.66';
const NODES = 3;
/** Every wait of this test is bounded by this. */
const WAIT_MS = 30_000;

interface Node {
  name: string;
  port: number;
  clusterPort: number;
  conf: string;
  proc: ChildProcess | null;
}

let dir = '';
/** The cluster's one user (nats-server `authorization`); sensors and correlate read it from CREDS. */
const USER = 'picket';
const PASSWORD = 'fleet-pw-7Rq';
let creds = '';
const nodes: Node[] = [];
const slices: string[] = [];
/** The target hosts of each slice. */
const sliceHosts: string[][] = [];

const url = (n: Node): string => `nats://127.0.0.1:${n.port}`;
/** The three-node cluster's URLs (not the standalone servers later tests add to `nodes` for clean-up). */
const allUrls = (): string => nodes.filter((n) => n.clusterPort !== 0).map(url).join(',');

function startNode(n: Node): void {
  const log = fs.openSync(path.join(dir, `${n.name}.log`), 'a');
  n.proc = spawn('nats-server', ['-c', n.conf], { stdio: ['ignore', log, log] });
  fs.closeSync(log);
}

async function stopNode(n: Node): Promise<void> {
  const p = n.proc;
  n.proc = null;
  if (p === null || p.exitCode !== null) return;
  const gone = new Promise<void>((r) => p.once('exit', () => r()));
  p.kill('SIGKILL');
  await gone;
}

/** An `ip` command of the lab's set-up; it must succeed. */
function ip(args: string[]): void {
  const r = spawnSync('ip', args, { encoding: 'utf8', timeout: 30_000 });
  assert.equal(r.status, 0, `ip ${args.join(' ')}: ${r.stderr}`);
}

async function sleep(ms: number): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
}

/** Retries `f` until it resolves, for at most `ms` (WAIT_MS). */
async function until<T>(what: string, f: () => Promise<T>, ms = WAIT_MS): Promise<T> {
  const end = Date.now() + ms;
  let last: unknown;
  while (Date.now() < end) {
    try {
      return await f();
    } catch (e) {
      last = e;
      await sleep(250);
    }
  }
  throw new Error(`${what}: not within ${ms} ms (${String(last)})`);
}

async function withNats<T>(servers: string, f: (nc: NatsConnection) => Promise<T>): Promise<T> {
  // The standalone node of the last test has no authorization; the cluster's nodes ask for the user.
  const auth = nodes.some((n) => n.clusterPort !== 0 && servers.includes(`:${n.port}`)) ? { user: USER, pass: PASSWORD } : {};
  const nc = await connect({ servers: servers.split(','), timeout: 3000, maxReconnectAttempts: 5, ...auth });
  try {
    return await f(nc);
  } finally {
    await nc.close();
  }
}

/** JetStream is up on the node and the cluster has a meta leader (account info answers). */
async function jetStreamReady(servers: string): Promise<void> {
  await until(`JetStream on ${servers}`, () => withNats(servers, async (nc) => {
    const jsm = await nc.jetstreamManager({ timeout: 2000 });
    await jsm.getAccountInfo();
  }));
}

/** Resolves with the run; fails the test when it does not end within WAIT_MS. */
async function run(args: string[]): Promise<Run> {
  const c = picketChild(args);
  const timer = setTimeout(() => c.child.kill('SIGKILL'), WAIT_MS);
  const r = await c.done;
  clearTimeout(timer);
  return r;
}

function docsOf(file: string): Array<Record<string, unknown>> {
  if (!fs.existsSync(file)) return [];
  return fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
}

const ofRule = (docs: Array<Record<string, unknown>>, id: string): Array<Record<string, unknown>> => docs.filter((d) => get(d, 'rule.id') === id);

/** A sensor replaying a slice: NATS and its credentials from the flags, or from a picket.yaml nats output. */
async function sensor(
  name: string, slice: string, servers: string, out: string, how: 'flags' | 'config' = 'flags', notAlone: readonly string[] = ['scan.sweep'],
): Promise<Array<Record<string, unknown>>> {
  let args = ['--nats', servers, '--sensor-name', name, '--nats-creds', creds];
  if (how === 'config') {
    const cfg = path.join(dir, `${name}.yaml`);
    fs.writeFileSync(cfg, `outputs:\n  - type: file\n    path: ${out}\n  - type: nats\n    servers: [${servers}]\n    sensor_name: ${name}\n    credentials: ${path.basename(creds)}\n`);
    args = ['--config', cfg];
  }
  const r = await run(['replay', '--quiet', ...args, ...(how === 'flags' ? ['--out', out] : []), slice]);
  assert.equal(r.code, 0, `sensor ${name}: ${r.stderr}`);
  const docs = docsOf(out);
  assert.ok(docs.length > 0, `sensor ${name} wrote nothing`);
  // Alone, each sensor stays under the threshold: no scan.sweep (or what the test names), in no document's kinds.
  for (const rule of notAlone) {
    assert.deepEqual(ofRule(docs, rule), [], `sensor ${name} raised ${rule} on its own`);
    assert.ok(docs.every((d) => !((get(d, 'picket.incident.kinds') as string[] | undefined) ?? []).includes(rule)), `${rule} in an incident of sensor ${name}`);
  }
  for (const d of docs.filter((x) => get(x, 'event.kind') === 'alert')) assert.equal(get(d, 'observer.name'), name);
  return docs;
}

/** A summary as stored in PICKET_SUMMARIES: its stream sequence, the partition its subject names, its source. */
interface Stored {
  seq: number;
  partition: number | null;
  source: string;
  sensor: string;
}

async function storedSummaries(nc: NatsConnection): Promise<Stored[]> {
  const jsm = await nc.jetstreamManager({ timeout: 5000 });
  const si = await jsm.streams.info('PICKET_SUMMARIES');
  const got: Stored[] = [];
  for (let seq = si.state.first_seq; seq <= si.state.last_seq && si.state.messages > 0; seq++) {
    const m = await jsm.streams.getMessage('PICKET_SUMMARIES', { seq });
    const s = JSON.parse(Buffer.from(m.data).toString('utf8')) as { source: string; sensor: string };
    got.push({ seq, partition: subjectPartition(m.subject), source: s.source, sensor: s.sensor });
  }
  return got;
}

/**
 * At least `count` summaries stored, and every one acknowledged by its partition's durable consumer (ack floor at or
 * past the partition's last summary, nothing pending, nothing unacknowledged); throws saying what is missing.
 */
async function caughtUp(count: number): Promise<void> {
  await withNats(allUrls(), async (nc) => {
    const stored = await storedSummaries(nc);
    if (stored.length < count) throw new Error(`${stored.length} of ${count} summaries stored`);
    const last = new Map<number, number>();
    for (const m of stored) {
      assert.ok(m.partition !== null, `summary ${m.seq} on an unpartitioned subject`);
      last.set(m.partition, Math.max(last.get(m.partition) ?? 0, m.seq));
    }
    const jsm = await nc.jetstreamManager();
    for (const [p, seq] of last) {
      const ci = await jsm.consumers.info('PICKET_SUMMARIES', `picket-correlate-p${p}`);
      if (ci.ack_floor.stream_seq < seq || ci.num_pending > 0 || ci.num_ack_pending > 0) {
        throw new Error(`partition ${p}: ack floor ${ci.ack_floor.stream_seq} < ${seq}, ${ci.num_pending} pending, ${ci.num_ack_pending} unacknowledged`);
      }
    }
  });
}

/** Every partition consumer deleted: the next correlate gets every summary again (a lost consumer position). */
async function deleteConsumers(): Promise<void> {
  await withNats(allUrls(), async (nc) => {
    const jsm = await nc.jetstreamManager();
    const names: string[] = [];
    for await (const ci of jsm.consumers.list('PICKET_SUMMARIES')) names.push(ci.name);
    assert.ok(names.length > 0, 'partition consumers to delete');
    for (const n of names) await jsm.consumers.delete('PICKET_SUMMARIES', n);
  });
  await until('the consumers are gone', () => withNats(allUrls(), async (nc) => {
    const left: string[] = [];
    for await (const ci of (await nc.jetstreamManager()).consumers.list('PICKET_SUMMARIES')) left.push(ci.name);
    if (left.length > 0) throw new Error(`still there: ${left.join(', ')}`);
  }));
}

/**
 * picket correlate until the partition consumers have acknowledged `count` summaries with nothing pending, then
 * stopped with SIGTERM (no timing assumption about how soon a settling cluster delivers, or a lease left by a killed
 * instance expires).
 */
async function correlateUntilCaughtUp(out: string, count: number, extra: string[] = [], whileUp?: () => Promise<void>): Promise<Run> {
  const c = picketChild(['correlate', '--nats', allUrls(), '--nats-creds', creds, '--out', out, ...extra]);
  const timer = setTimeout(() => c.child.kill('SIGKILL'), 3 * WAIT_MS);
  try {
    await until('correlate acknowledged every summary', () => caughtUp(count), 2 * WAIT_MS);
    if (whileUp !== undefined) await whileUp();
  } catch (e) {
    throw new Error(`${(e as Error).message}\n--- correlate's stderr ---\n${c.stderr()}`);
  } finally {
    c.child.kill('SIGTERM');
  }
  const r = await c.done;
  clearTimeout(timer);
  return r;
}

/** Streams, consumer and KV bucket gone: the next part starts from nothing. */
async function resetFleet(): Promise<void> {
  // Until each is reported gone: a delete that timed out on a busy cluster may still complete later, and must not
  // take the next part's first summaries with it.
  await until('streams and bucket deleted', () => withNats(allUrls(), async (nc) => {
    const jsm = await nc.jetstreamManager({ timeout: 5000 });
    for (const s of ['PICKET_ALERTS', 'PICKET_SUMMARIES', 'KV_PICKET_CORRELATE']) {
      await jsm.streams.delete(s).catch(() => false);
      const gone = await jsm.streams.info(s).then(() => false, (e: Error) => /not found/i.test(e.message));
      if (!gone) throw new Error(`${s} still there`);
    }
  }));
}

/** What one sensor replaying the whole capture reports (no NATS): the reference. */
let whole: Record<string, unknown>;

/** Slices of a capture, one per sensor, by the scanner's target host (last octet mod n): every packet of a host in one slice. */
/** Slices of a capture by target host (last octet mod n): every packet of a target in one slice; hostsOut gets each slice's hosts. */
function sliceByHost(capture: string, name: string, n: number, hostsOut?: string[][]): string[] {
  const hosts = spawnSync('tshark', ['-r', capture, '-Y', `ip.src == ${SCANNER}`, '-T', 'fields', '-e', 'ip.dst'], { encoding: 'utf8' }).stdout.split('\n').filter((l) => l !== '');
  const targets = [...new Set(hosts)];
  assert.ok(targets.length >= 30, `${capture} has ${targets.length} targets`);
  return Array.from({ length: n }, (_, k) => {
    const mine = targets.filter((h) => Number(h.split('.')[3]) % n === k);
    hostsOut?.push(mine);
    return writeSlice(capture, `${name}${k}`, `ip.addr in {${mine.join(',')}}`);
  });
}

function writeSlice(capture: string, name: string, filter: string): string {
  const file = path.join(dir, `${name}.pcap`);
  const r = spawnSync('tshark', ['-r', capture, '-Y', filter, '-F', 'pcap', '-w', file], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return file;
}

/** One sensor replaying the whole capture, no NATS: its alert documents. */
async function referenceDocs(capture: string): Promise<Array<Record<string, unknown>>> {
  const ref = await run(['replay', '--quiet', capture]);
  assert.equal(ref.code, 0, ref.stderr);
  return ref.docs;
}

before(async () => {
  requireTool('nats-server');
  requireTool('tshark');
  requireTool('promtool');
  dir = tmpDir('fleet');
  creds = path.join(dir, 'nats.creds');
  fs.writeFileSync(creds, `${USER}:${PASSWORD}\n`, { mode: 0o600 });
  const ports: number[] = [];
  while (ports.length < 2 * NODES) {
    const p = await freePort();
    if (!ports.includes(p)) ports.push(p);
  }
  for (let i = 0; i < NODES; i++) {
    const n: Node = { name: `n${i}`, port: ports[2 * i], clusterPort: ports[2 * i + 1], conf: path.join(dir, `n${i}.conf`), proc: null };
    nodes.push(n);
  }
  for (const n of nodes) {
    const routes = nodes.filter((o) => o !== n).map((o) => `nats-route://127.0.0.1:${o.clusterPort}`);
    fs.writeFileSync(n.conf, [
      `server_name: ${n.name}`,
      `listen: 127.0.0.1:${n.port}`,
      `jetstream { store_dir: "${path.join(dir, `store-${n.name}`)}" }`,
      `authorization { user: ${USER}, password: "${PASSWORD}" }`,
      `cluster { name: picket-test, listen: 127.0.0.1:${n.clusterPort}, routes: [${routes.join(', ')}] }`,
      '',
    ].join('\n'));
    startNode(n);
  }
  slices.push(...sliceByHost(CAPTURE, 'slice', NODES, sliceHosts));
  const sweeps = ofRule(await referenceDocs(CAPTURE), 'scan.sweep');
  assert.ok(sweeps.length > 0, 'the whole capture raises scan.sweep in one sensor');
  whole = sweeps[sweeps.length - 1];
  for (const n of nodes) await jetStreamReady(url(n));
});

after(async () => {
  for (const n of nodes) await stopNode(n);
  if (dir !== '') fs.rmSync(dir, { recursive: true, force: true });
});

interface Mapping {
  type?: string;
  properties?: Record<string, Mapping>;
}

/** Every leaf of the fleet alert is an ECS 8.17 field or picket.*, and the index template maps it with a fitting type. */
function checkMapped(doc: Record<string, unknown>): void {
  const template = JSON.parse(fs.readFileSync(path.join(ROOT, 'elastic', 'index-template.json'), 'utf8')) as { template: { mappings: Mapping } };
  const ecs = loadEcsFields();
  const bad: string[] = [];
  const all = leaves(doc, () => false);
  for (const l of all) {
    let m: Mapping | undefined = template.template.mappings;
    for (const k of l.path.split('.')) m = m?.properties?.[k];
    if (!l.path.startsWith('picket.') && ecs.fields[l.path] === undefined) bad.push(`${l.path}: not an ECS field`);
    for (const v of Array.isArray(l.value) ? l.value : [l.value]) {
      if (typeof v === 'object' && v !== null) continue; // picket.fleet.sensors: objects, walked below
      if (m?.type === undefined || !fitsType(m.type, v)) bad.push(`${l.path}: mapped ${String(m?.type)}, written ${JSON.stringify(v)}`);
    }
  }
  for (const s of get(doc, 'picket.fleet.sensors') as Array<Record<string, unknown>>) {
    for (const [k, v] of Object.entries(s)) {
      const m = template.template.mappings.properties?.picket.properties?.fleet.properties?.sensors.properties?.[k];
      if (m?.type === undefined || !fitsType(m.type, v)) bad.push(`picket.fleet.sensors.${k}: mapped ${String(m?.type)}, written ${JSON.stringify(v)}`);
    }
  }
  assert.ok(all.length > 30, `${all.length} leaves`);
  assert.deepEqual(bad, []);
}

function checkFleetAlert(docs: Array<Record<string, unknown>>): void {
  const sweeps = ofRule(docs, 'scan.sweep');
  assert.equal(sweeps.length, 1, `fleet scan.sweep alerts: ${sweeps.length}`);
  assert.equal(ofRule(docs, 'scan.port').length + ofRule(docs, 'scan.mixed').length, 0);
  const a = sweeps[0];
  assert.equal(get(a, 'picket.fleet.correlated'), true);
  assert.equal(get(a, 'picket.fleet.view'), 'fleet_only');
  assert.deepEqual(get(a, 'picket.fleet.sensor_names'), ['s0', 's1', 's2']);
  const shares = get(a, 'picket.fleet.sensors') as Array<{ name: string; hosts: number; alerted: boolean }>;
  assert.equal(shares.length, 3);
  assert.deepEqual(shares.map((s) => s.alerted), [false, false, false]);
  assert.ok(shares.every((s) => s.hosts > 0 && s.hosts < Number(get(whole, 'picket.scan.hosts'))));
  assert.equal(get(a, 'source.ip'), get(whole, 'source.ip'));
  assert.equal(get(a, 'source.ip'), SCANNER);
  for (const f of ['hosts', 'ports', 'targets', 'attempts']) assert.equal(get(a, `picket.scan.${f}`), get(whole, `picket.scan.${f}`), f);
  assert.equal(shares.reduce((n, s) => n + s.hosts, 0), get(whole, 'picket.scan.hosts'));
  assert.equal(get(a, 'event.start'), get(whole, 'event.start'));
  checkMapped(a);
}

/** A series' value in an exposition, or undefined when it is not there. */
function metric(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

/** correlate's /metrics after the first test's three summaries: promtool finds no problem, and the counts are right. */
function checkCorrelateMetrics(text: string): void {
  const pt = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8', timeout: 30_000 });
  assert.equal(pt.status, 0, `promtool check metrics: ${pt.stdout}${pt.stderr}\n--- exposition ---\n${text}`);
  assert.equal(`${pt.stdout}${pt.stderr}`.trim(), '', text);
  const value = (series: string): number => {
    const v = metric(text, series);
    assert.ok(v !== undefined, `${series} in\n${text}`);
    return v;
  };
  assert.equal(value('picket_correlate_summaries_total'), 3);
  assert.equal(value('picket_correlate_acks_total'), 3);
  assert.equal(value('picket_correlate_bad_summaries_total'), 0);
  // One source: its state written once per batch that changed it (1 to 3), the last with all three sensors in it.
  const updates = value('picket_correlate_source_updates_total');
  assert.ok(updates >= 1 && updates <= 3, `${updates} source updates`);
  assert.ok(value('picket_correlate_merged_source_updates_total') >= 1);
  assert.equal(value('picket_correlate_alerts_total{rule="scan.sweep",view="fleet_only"}'), 1);
  assert.equal(value('picket_correlate_nats_connected'), 1);
  // The one instance holds every partition; the three summaries (one source) came from its partition.
  assert.equal(value('picket_correlate_partitions_held'), 16);
  assert.equal(value(`picket_correlate_partition_summaries_total{partition="${partitionOf(SCANNER, 16)}"}`), 3);
  assert.equal(value('picket_sink_delivered_total{sink="file ' + path.join(dir, 'a-correlate.ndjson') + '"}') >= 1, true);
}

test('three sensors, each under the threshold, and correlate: one fleet scan.sweep with the whole capture\'s counts', async (t) => {
  const outs = slices.map((_, k) => path.join(dir, `a-s${k}.ndjson`));
  // s2 takes NATS, its name and the credentials file from picket.yaml's nats output.
  await Promise.all(slices.map((s, k) => sensor(`s${k}`, s, allUrls(), outs[k], k === 2 ? 'config' : 'flags')));
  const info = await withNats(allUrls(), async (nc) => {
    const jsm = await nc.jetstreamManager();
    return { sum: await jsm.streams.info('PICKET_SUMMARIES'), alerts: await jsm.streams.info('PICKET_ALERTS') };
  });
  assert.equal(info.sum.config.num_replicas, 3, 'replicas = min(3, cluster size)');
  assert.equal(info.sum.state.messages, 3, 'one summary per sensor of this short scan');
  // Sizing (native-notes/fleet.md): stored bytes per summary, headers and JetStream's record overhead included.
  t.diagnostic(`bytes per summary as stored: ${Math.round(info.sum.state.bytes / info.sum.state.messages)}`);
  const alertsSent = outs.map(docsOf).flat().filter((d) => get(d, 'event.kind') === 'alert').length;
  assert.equal(info.alerts.state.messages, alertsSent, 'every alert document in PICKET_ALERTS');
  // A sensor's run again (a retry of everything it sent) is stored once: the same ids.
  await sensor('s0', slices[0], allUrls(), path.join(dir, 'a-s0-again.ndjson'));
  const again = await withNats(allUrls(), async (nc) => (await nc.jetstreamManager()).streams.info('PICKET_SUMMARIES'));
  assert.equal(again.state.messages, 3, 'the repeated summary was de-duplicated');

  const out = path.join(dir, 'a-correlate.ndjson');
  const port = await freePort();
  let exposition = '';
  const c = await correlateUntilCaughtUp(out, 3, ['--metrics-listen', `127.0.0.1:${port}`], async () => {
    // The counters may trail the acknowledgement by the few statements between them: read until they agree.
    exposition = await until('correlate /metrics', async () => {
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      if (!/^picket_correlate_acks_total 3$/m.test(text)) throw new Error('acks not yet 3');
      return text;
    });
  });
  assert.equal(c.code, 0, c.stderr);
  checkFleetAlert(docsOf(out));
  checkCorrelateMetrics(exposition);
});

test('credentials the cluster refuses, or none: sensor and correlate stop at start with exit 2, saying so', async () => {
  const wrong = path.join(dir, 'wrong.creds');
  fs.writeFileSync(wrong, `${USER}:not-the-password\n`);
  const out = path.join(dir, 'wrong.ndjson');
  const r = await run(['replay', '--quiet', '--nats', allUrls(), '--sensor-name', 'w', '--nats-creds', wrong, '--out', out, slices[0]]);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /cannot connect \(.*[Aa]uthorization.*\): the server refused the credentials of .*wrong\.creds/);
  assert.equal(fs.existsSync(out) ? fs.statSync(out).size : 0, 0, 'nothing replayed');
  const none = await run(['replay', '--quiet', '--nats', allUrls(), '--sensor-name', 'w', '--out', out, slices[0]]);
  assert.equal(none.code, 2, none.stderr);
  assert.match(none.stderr, /refused the credentials \(none given: --nats-creds FILE\)/);
  const c = await run(['correlate', '--nats', allUrls(), '--nats-creds', wrong, '--out', out]);
  assert.equal(c.code, 2, c.stderr);
  assert.match(c.stderr, /refused the credentials of .*wrong\.creds/);
  const token = path.join(dir, 'token.creds');
  fs.writeFileSync(token, 'just-a-token\n');
  const t = await run(['correlate', '--nats', allUrls(), '--nats-creds', token, '--out', out]);
  assert.equal(t.code, 2, t.stderr);
  assert.match(t.stderr, /refused the credentials of .*token\.creds/);
});

test('a summary left by a sensor from before partitioning (picket.summaries.<sensor>): correlate stops at start, naming it and the purge', async () => {
  // What a first-cut sensor published: the subject without a partition (the summary itself from this run's s0).
  const sample = await withNats(allUrls(), async (nc) => {
    const jsm = await nc.jetstreamManager();
    const first = (await storedSummaries(nc))[0];
    const m = await jsm.streams.getMessage('PICKET_SUMMARIES', { seq: first.seq });
    await nc.jetstream().publish('picket.summaries.old-sensor', m.data, { msgID: 'old-sensor-1' });
    return first;
  });
  assert.ok(sample.partition !== null);
  const out = path.join(dir, 'old.ndjson');
  const r = await run(['correlate', '--nats', allUrls(), '--nats-creds', creds, '--out', out]);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /PICKET_SUMMARIES holds 1 summaries on unpartitioned subjects \(picket\.summaries\.old-sensor\) from sensors older than partitioning.*nats stream purge PICKET_SUMMARIES --subject 'picket\.summaries\.\*'/);
  await withNats(allUrls(), async (nc) => (await nc.jetstreamManager()).streams.purge('PICKET_SUMMARIES', { filter: 'picket.summaries.*' }));
  const again = await run(['correlate', '--nats', allUrls(), '--nats-creds', creds, '--out', out, '--idle-exit', '5s']);
  assert.equal(again.code, 0, again.stderr);
});

test('a NATS node killed and restarted mid-run, correlate killed and restarted: the same alert, once', async (t) => {
  await resetFleet();
  const out = path.join(dir, 'b-correlate.ndjson');
  await sensor('s0', slices[0], allUrls(), path.join(dir, 'b-s0.ndjson'));
  // Correlate takes s0's summary (no alert: one sensor) and is killed; its state must survive it.
  const first = picketChild(['correlate', '--nats', allUrls(), '--nats-creds', creds, '--out', out]);
  await until('correlate took the first summary', () => caughtUp(1));
  first.child.kill('SIGKILL');
  await first.done;
  // A node dies; s1 publishes to the two left (quorum of the R3 streams).
  await stopNode(nodes[1]);
  await sensor('s1', slices[1], allUrls(), path.join(dir, 'b-s1.ndjson'));
  // It comes back and catches up; s2 publishes through it alone.
  startNode(nodes[1]);
  await jetStreamReady(url(nodes[1]));
  await until('the restarted node serves the stream', () => withNats(url(nodes[1]), async (nc) => {
    const i = await (await nc.jetstreamManager()).streams.info('PICKET_SUMMARIES');
    if (i.state.messages !== 2) throw new Error(`${i.state.messages} messages`);
  }));
  await sensor('s2', slices[2], url(nodes[1]), path.join(dir, 'b-s2.ndjson'));
  const second = await correlateUntilCaughtUp(out, 3);
  for (const line of second.stderr.trim().split('\n')) t.diagnostic(`correlate after the restarts: ${line}`);
  assert.equal(second.code, 0, second.stderr);
  checkFleetAlert(docsOf(out));
  // Every summary delivered again (the consumer's position lost, as when a crash comes between the alert and the
  // acknowledgement): the alert recorded in the KV bucket is not repeated.
  await deleteConsumers();
  const third = await correlateUntilCaughtUp(out, 3);
  assert.equal(third.code, 0, third.stderr);
  // Every summary delivered again: correlate judges the merged state again and, but for the record of the alert
  // made, would write it a second time.
  assert.match(third.stderr, /: 3 summaries in \d+ batch\w*, 0 not summaries, 0 fleet alerts/, 'the third run read every summary again');
  checkFleetAlert(docsOf(out));
});

test('two sensors that each raised the scan themselves: correlate raises one fleet view naming both, once per episode, also after a restart', async () => {
  await resetFleet();
  const replayWhole = async (name: string): Promise<void> => {
    const out = path.join(dir, `d-${name}.ndjson`);
    const r = await run(['replay', '--quiet', '--nats', allUrls(), '--sensor-name', name, '--nats-creds', creds, '--out', out, CAPTURE]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(ofRule(docsOf(out), 'scan.sweep').length > 0, `sensor ${name} raised scan.sweep itself`);
  };
  await replayWhole('w0');
  await replayWhole('w1');
  const out = path.join(dir, 'd-correlate.ndjson');
  const first = await correlateUntilCaughtUp(out, 2);
  assert.equal(first.code, 0, first.stderr);
  const check = (): void => {
    const docs = docsOf(out);
    assert.equal(docs.length, 1, `one fleet document, not one per sensor: ${docs.length}`);
    const a = docs[0];
    assert.equal(get(a, 'rule.id'), 'scan.sweep', 'the rule the sensors raised');
    assert.equal(get(a, 'source.ip'), SCANNER);
    assert.equal(get(a, 'picket.fleet.correlated'), true);
    assert.equal(get(a, 'picket.fleet.view'), 'reported');
    assert.deepEqual(get(a, 'picket.fleet.sensor_names'), ['w0', 'w1']);
    const shares = get(a, 'picket.fleet.sensors') as Array<{ name: string; hosts: number; alerted: boolean }>;
    assert.deepEqual(shares.map((s) => [s.name, s.hosts, s.alerted]), [['w0', get(whole, 'picket.scan.hosts'), true], ['w1', get(whole, 'picket.scan.hosts'), true]]);
    // Both saw the same targets: the merged counts are the capture's, not twice them.
    for (const f of ['hosts', 'ports', 'targets']) assert.equal(get(a, `picket.scan.${f}`), get(whole, `picket.scan.${f}`), f);
    checkMapped(a);
  };
  check();
  // A third sensor reports the same scan (same episode) and every summary is delivered again (the consumer's
  // position lost, as after a crash before the acknowledgement): still the one document.
  await replayWhole('w2');
  await deleteConsumers();
  const again = await correlateUntilCaughtUp(out, 3);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stderr, /: 3 summaries in \d+ batch\w*, 0 not summaries, 0 fleet alerts/, 'every summary read again, nothing raised');
  check();
});

/** Fleet documents of a fleet-only incident, checked for what every one of them carries. */
function incidentDocs(file: string): Array<Record<string, unknown>> {
  const docs = docsOf(file);
  for (const d of docs) {
    assert.equal(get(d, 'picket.fleet.correlated'), true);
    assert.equal(get(d, 'picket.fleet.view'), 'fleet_only');
    assert.equal(get(d, 'source.ip'), SCANNER);
    checkMapped(d);
  }
  return docs;
}

/** A sensor per slice (named tag0, tag1, ...: none raises notAlone), then correlate: its one fleet document. */
async function oneFleetDocument(tag: string, parts: readonly string[], notAlone: readonly string[]): Promise<Record<string, unknown>> {
  for (let k = 0; k < parts.length; k++) await sensor(`${tag}${k}`, parts[k], allUrls(), path.join(dir, `${tag}-s${k}.ndjson`), 'flags', notAlone);
  const out = path.join(dir, `${tag}-correlate.ndjson`);
  const c = await correlateUntilCaughtUp(out, parts.length);
  assert.equal(c.code, 0, c.stderr);
  const docs = incidentDocs(out);
  assert.equal(docs.length, 1, `${docs.length} fleet documents`);
  return docs[0];
}

test('the fleet incident follows the merged scan: a first document, an update when the merged targets cross the large level, never a document that changes nothing', async () => {
  await resetFleet();
  // The large-target level between two sensors' share (42-43 hosts) and the whole capture's 64 hosts.
  const rules = tmpDir('fleet-rules');
  fs.writeFileSync(path.join(rules, 'large.yaml'), 'kind: scan-policy\nseverity_large_hosts: 50\n');
  const out = path.join(dir, 'e-correlate.ndjson');
  await sensor('s0', slices[0], allUrls(), path.join(dir, 'e-s0.ndjson'));
  await sensor('s1', slices[1], allUrls(), path.join(dir, 'e-s1.ndjson'));
  const first = await correlateUntilCaughtUp(out, 2, ['--rules', rules]);
  assert.equal(first.code, 0, first.stderr);
  const one = incidentDocs(out);
  assert.equal(one.length, 1, `two sensors' shares: ${one.length} documents`);
  const a = one[0];
  assert.equal(get(a, 'rule.id'), 'scan.sweep');
  // nmap, named with high confidence by the sensors: one level up, as a sensor's incident.
  assert.deepEqual([get(a, 'picket.incident.document'), get(a, 'picket.update'), get(a, 'picket.severity'), get(a, 'event.severity')], [1, false, 'high', 73]);
  assert.deepEqual(get(a, 'picket.severity_reasons'), ['sweep scan', 'tool named with high confidence: nmap', 'seen across 2 sensors, under every one\'s threshold alone']);
  assert.deepEqual(get(a, 'picket.incident.kinds'), ['scan.sweep']);
  assert.ok(Number(get(a, 'picket.scan.hosts')) >= 25 && Number(get(a, 'picket.scan.hosts')) < 50, `hosts ${String(get(a, 'picket.scan.hosts'))}`);

  // The third sensor's share takes the merged scan to the capture's 64 hosts: one update of the same incident.
  await sensor('s2', slices[2], allUrls(), path.join(dir, 'e-s2.ndjson'));
  const second = await correlateUntilCaughtUp(out, 3, ['--rules', rules]);
  assert.equal(second.code, 0, second.stderr);
  const check = (): void => {
    const docs = incidentDocs(out);
    assert.equal(docs.length, 2, `after the third share: ${docs.length} documents`);
    const u = docs[1];
    assert.equal(get(u, 'rule.id'), 'scan.sweep');
    assert.equal(get(u, 'picket.incident.id'), get(a, 'picket.incident.id'));
    assert.deepEqual([get(u, 'picket.incident.document'), get(u, 'picket.update'), get(u, 'picket.severity')], [2, true, 'critical']);
    assert.notEqual(get(u, 'event.id'), get(a, 'event.id'));
    assert.ok((get(u, 'picket.severity_reasons') as string[]).includes('large target set: 64 hosts, 128 targets'), JSON.stringify(get(u, 'picket.severity_reasons')));
    for (const f of ['hosts', 'ports', 'targets', 'attempts']) assert.equal(get(u, `picket.scan.${f}`), get(whole, `picket.scan.${f}`), f);
    assert.deepEqual(get(u, 'picket.fleet.sensor_names'), ['s0', 's1', 's2']);
  };
  check();
  // Every summary delivered again (the consumers' positions lost): the incident in the bucket says both were sent.
  await deleteConsumers();
  const third = await correlateUntilCaughtUp(out, 3, ['--rules', rules]);
  assert.equal(third.code, 0, third.stderr);
  assert.match(third.stderr, /: 3 summaries in \d+ batch\w*, 0 not summaries, 0 fleet alerts/, 'every summary read again, nothing raised');
  check();
});

test('scan.ping_sweep across five sensors: nmap -sn split by target host, each under ping_hosts alone; the fleet has the whole capture\'s kind and counts', async () => {
  await resetFleet();
  const capture = path.join(PCAPS, 'scans', 'nmap-ping.pcap');
  const ref = ofRule(await referenceDocs(capture), 'scan.ping_sweep');
  assert.ok(ref.length > 0, 'the whole capture raises scan.ping_sweep in one sensor');
  const w = ref[ref.length - 1];
  // 64 hosts: five slices of 12-13 stay under ping_hosts (15 at medium).
  const parts = sliceByHost(capture, 'ping', 5);
  const a = await oneFleetDocument('p', parts, ['scan.ping_sweep', 'scan.sweep']);
  assert.equal(get(a, 'rule.id'), 'scan.ping_sweep');
  assert.deepEqual(get(a, 'picket.incident.kinds'), ((get(w, 'picket.incident.kinds') as string[]).filter((k) => k !== 'scan.tool')));
  assert.deepEqual(get(a, 'picket.fleet.sensor_names'), ['p0', 'p1', 'p2', 'p3', 'p4']);
  for (const f of ['ping_hosts', 'hosts', 'ports', 'targets', 'attempts']) assert.equal(get(a, `picket.scan.${f}`), get(w, `picket.scan.${f}`), f);
  assert.equal(get(a, 'picket.scan.ping_hosts'), 64);
  const shares = get(a, 'picket.fleet.sensors') as Array<{ name: string; alerted: boolean }>;
  assert.deepEqual(shares.map((s) => s.alerted), [false, false, false, false, false]);
});

test('scan.slow across three sensors: nmap --scan-delay 3s split by target port, each paced but under slow_min_targets alone; the fleet has the whole capture\'s kinds and counts', async () => {
  await resetFleet();
  const capture = path.join(PCAPS, 'scans', 'nmap-slow.pcap');
  const ref = await referenceDocs(capture);
  const slow = ofRule(ref, 'scan.slow');
  assert.ok(slow.length > 0, 'the whole capture raises scan.slow in one sensor');
  const w = slow[slow.length - 1];
  // One host, ports 20-40: each sensor sees every third port (7 targets, 9 s apart, over the same minute).
  const parts = [0, 1, 2].map((k) => writeSlice(capture, `slow${k}`, `tcp.port in {${Array.from({ length: 21 }, (_, i) => 20 + i).filter((p) => p % 3 === k).join(',')}}`));
  const a = await oneFleetDocument('w', parts, ['scan.slow', 'scan.port']);
  const kinds = (get(w, 'picket.incident.kinds') as string[]).filter((k) => k !== 'scan.tool');
  assert.ok(kinds.includes('scan.slow'), JSON.stringify(kinds));
  assert.deepEqual(get(a, 'picket.incident.kinds'), kinds);
  assert.equal(get(a, 'rule.id'), kinds[0], 'named by its first kind, as the sensor names its first document');
  for (const f of ['hosts', 'ports', 'targets', 'attempts', 'duration_seconds']) assert.equal(get(a, `picket.scan.${f}`), get(w, `picket.scan.${f}`), f);
  assert.deepEqual(get(a, 'picket.fleet.sensor_names'), ['w0', 'w1', 'w2']);
});

test('fleet.summary_min_targets: a source with fewer failed targets is not summarised (default 2), with 1 it is', async () => {
  await resetFleet();
  // One target of the nmap sweep (10.90.0.7 port 80) and both of its ports: one and two failed targets.
  const oneTarget = writeSlice(CAPTURE, 'one-target', 'ip.addr == 10.90.0.7 && tcp.port == 80');
  const twoTargets = writeSlice(CAPTURE, 'two-targets', 'ip.addr == 10.90.0.7');
  const min1 = tmpDir('fleet-min1');
  fs.writeFileSync(path.join(min1, 'fleet.yaml'), 'kind: policy\nfleet:\n  summary_min_targets: 1\n');
  const replay = async (name: string, file: string, extra: string[] = []): Promise<void> => {
    const r = await run(['replay', '--quiet', '--nats', allUrls(), '--sensor-name', name, '--nats-creds', creds, '--out', path.join(dir, `h-${name}.ndjson`), ...extra, file]);
    assert.equal(r.code, 0, r.stderr);
  };
  await replay('one', oneTarget);
  await replay('one-min1', oneTarget, ['--rules', min1]);
  await replay('two', twoTargets);
  const subjects = await withNats(allUrls(), async (nc) => (await (await nc.jetstreamManager()).streams.info('PICKET_SUMMARIES', { subjects_filter: '>' })).state.subjects ?? {});
  const p = partitionOf(SCANNER, 16);
  assert.deepEqual(subjects, { [`picket.summaries.${p}.one-min1`]: 1, [`picket.summaries.${p}.two`]: 1 });
});

/** A correlate instance left running, its /metrics on a port of its own. */
function startCorrelate(out: string, port: number): ReturnType<typeof picketChild> {
  return picketChild(['correlate', '--nats', allUrls(), '--nats-creds', creds, '--out', out, '--sensitivity', 'low', '--metrics-listen', `127.0.0.1:${port}`]);
}

async function scrape(port: number): Promise<string> {
  return (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
}

/** f(), or its error with the instances' stderr so far. */
async function runOrSay(instances: Array<ReturnType<typeof picketChild>>, f: () => Promise<void>): Promise<void> {
  try {
    await f();
  } catch (e) {
    throw new Error(`${(e as Error).message}\n${instances.map((c, i) => `--- instance ${i}'s stderr ---\n${c.stderr()}`).join('\n')}`);
  }
}

/** The lease holders in the KV bucket, by partition. */
async function leaseHolders(): Promise<Map<number, string>> {
  return withNats(allUrls(), async (nc) => {
    const kv = await nc.jetstream().views.kv('PICKET_CORRELATE', { bindOnly: true });
    const holders = new Map<number, string>();
    for (let p = 0; p < 16; p++) {
      const e = await kv.get(`lease.${p}`);
      if (e !== null && e.operation === 'PUT') holders.set(p, (JSON.parse(Buffer.from(e.value).toString('utf8')) as { holder: string }).holder);
    }
    return holders;
  });
}

test('two correlate instances share the partitions by source; one killed mid-run: the other takes its partitions, the same alerts as one instance, none lost, none duplicated', async () => {
  // Sixteen scanners, one in each partition (fleet.partitions 16): the capture's scanner address rewritten by
  // tcprewrite in each slice, the sixteen copies of a slice merged into that sensor's capture.
  const scanners: string[] = [];
  const parts = new Set<number>();
  for (let x = 1; x < 255 && parts.size < 16; x++) {
    const a = `198.18.1.${x}`;
    if (!parts.has(partitionOf(a, 16))) {
      parts.add(partitionOf(a, 16));
      scanners.push(a);
    }
  }
  assert.equal(scanners.length, 16);
  // Judged at low sensitivity (scan.sweep from 50 hosts): no two slices reach it, the three do, so each fleet alert
  // is raised on the summary that completes its source, whichever batch and instance that is: comparable runs.
  const n = sliceHosts.map((h) => h.length);
  assert.ok(n[0] + n[1] < 50 && n[0] + n[2] < 50 && n[1] + n[2] < 50 && n[0] + n[1] + n[2] >= 50, `slice hosts ${n.join(', ')}`);
  const multi = slices.map((slice, k) => {
    const copies = scanners.map((a, i) => {
      const f = path.join(dir, `m${k}-${i}.pcap`);
      const r = spawnSync('tcprewrite', [`--pnat=${SCANNER}/32:${a}/32`, '--fixcsum', `--infile=${slice}`, `--outfile=${f}`], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      return f;
    });
    const f = path.join(dir, `multi${k}.pcap`);
    const r = spawnSync('mergecap', ['-F', 'pcap', '-w', f, ...copies], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    return f;
  });
  const sweepsById = (docs: Array<Record<string, unknown>>): Map<string, Record<string, unknown>> => {
    const m = new Map<string, Record<string, unknown>>();
    for (const d of ofRule(docs, 'scan.sweep')) {
      assert.ok(!m.has(String(get(d, 'event.id'))), `${String(get(d, 'event.id'))} twice`);
      m.set(String(get(d, 'event.id')), d);
    }
    return m;
  };

  // The reference: the three sensors, then one instance.
  await resetFleet();
  for (let k = 0; k < 3; k++) await sensor(`s${k}`, multi[k], allUrls(), path.join(dir, `e-ref-s${k}.ndjson`));
  const refOut = path.join(dir, 'e-ref.ndjson');
  const ref = await correlateUntilCaughtUp(refOut, 48, ['--sensitivity', 'low']);
  assert.equal(ref.code, 0, ref.stderr);
  const expected = sweepsById(docsOf(refOut));
  assert.equal(expected.size, 16, 'one fleet scan.sweep per scanner');
  assert.deepEqual([...expected.values()].map((d) => get(d, 'source.ip')).sort(), [...scanners].sort());
  for (const d of expected.values()) {
    assert.deepEqual(get(d, 'picket.fleet.sensor_names'), ['s0', 's1', 's2']);
    for (const f of ['hosts', 'ports', 'targets', 'attempts']) assert.equal(get(d, `picket.scan.${f}`), get(whole, `picket.scan.${f}`), f);
  }

  // Two instances; they balance to eight partitions each before any summary is published.
  await resetFleet();
  const outA = path.join(dir, 'e-a.ndjson');
  const outB = path.join(dir, 'e-b.ndjson');
  const [portA, portB] = [await freePort(), await freePort()];
  const a = startCorrelate(outA, portA);
  const b = startCorrelate(outB, portB);
  try {
    await runOrSay([a, b], async () => {
      await until('both instances hold eight partitions', async () => {
        const held = [metric(await scrape(portA), 'picket_correlate_partitions_held'), metric(await scrape(portB), 'picket_correlate_partitions_held')];
        if (held[0] !== 8 || held[1] !== 8) throw new Error(`held ${held.join(' and ')}`);
      }, 2 * WAIT_MS);
      await sensor('s0', multi[0], allUrls(), path.join(dir, 'e-s0.ndjson'));
      await until('both instances merged s0', () => caughtUp(16));
      // Every summary went to its source's partition, and was merged by the holder of that partition's lease alone.
      const stored = await withNats(allUrls(), storedSummaries);
      assert.equal(stored.length, 16);
      for (const m of stored) assert.equal(m.partition, partitionOf(m.source, 16), `${m.source}'s summary in partition ${m.partition}`);
      assert.equal(new Set(stored.map((m) => m.partition)).size, 16);
      const holders = await leaseHolders();
      const texts = [await scrape(portA), await scrape(portB)];
      const ids = texts.map((t) => /^picket_correlate_instance_info\{instance="([^"]+)"\} 1$/m.exec(t)?.[1]);
      assert.ok(ids[0] !== undefined && ids[1] !== undefined && ids[0] !== ids[1], `instances ${ids.join(', ')}`);
      const merged = [0, 0];
      for (const m of stored) {
        const p = m.partition!;
        const i = ids.indexOf(holders.get(p));
        assert.ok(i >= 0, `partition ${p} held by ${holders.get(p)}`);
        const series = `picket_correlate_partition_summaries_total{partition="${p}"}`;
        assert.equal(metric(texts[i], series), 1, `${series} of its holder`);
        assert.equal(metric(texts[1 - i], series), undefined, `${series} of the other instance`);
        merged[i]++;
      }
      assert.deepEqual(merged, [8, 8], 'each instance merged the sources of its eight partitions');
      for (const t of texts) assert.equal(metric(t, 'picket_correlate_lease_changes_total{change="lost"}'), 0);

      await sensor('s1', multi[1], allUrls(), path.join(dir, 'e-s1.ndjson'));
      await until('both instances merged s1', () => caughtUp(32));
      assert.equal(ofRule(docsOf(outA), 'scan.sweep').length + ofRule(docsOf(outB), 'scan.sweep').length, 0, 'two slices stay under the threshold');
      // A dies holding its leases; the third sensor's summaries, half of them in its partitions, wait for B.
      a.child.kill('SIGKILL');
      await a.done;
      await sensor('s2', multi[2], allUrls(), path.join(dir, 'e-s2.ndjson'));
      await until('B took A\'s partitions and merged s2', async () => {
        await caughtUp(48);
        const held = metric(await scrape(portB), 'picket_correlate_partitions_held');
        if (held !== 16) throw new Error(`B holds ${held}`);
      }, 3 * WAIT_MS);
    });
  } finally {
    a.child.kill('SIGKILL');
    b.child.kill('SIGTERM');
  }
  const rb = await b.done;
  assert.equal(rb.code, 0, rb.stderr);
  assert.match(rb.stderr, /partitions [\d ]+ taken over from \S+ \(its leases not renewed for 10 s\)/);
  assert.equal(docsOf(outA).length, 0, 'A made no alert before it died');
  const got = sweepsById(docsOf(outB));
  assert.deepEqual([...got.keys()].sort(), [...expected.keys()].sort(), 'the same alerts by event.id');
  for (const [id, d] of got) {
    const e = expected.get(id)!;
    for (const f of ['source.ip', 'event.start', 'event.end', 'picket.fleet.sensor_names', 'picket.scan.hosts', 'picket.scan.ports', 'picket.scan.targets', 'picket.scan.attempts']) {
      assert.deepEqual(get(d, f), get(e, f), `${id} ${f}`);
    }
  }
});

test('NATS unreachable: the sensor spills and exits 3; next run, with NATS back, sends the backlog first, in order, and a retried summary once', async () => {
  const port = await freePort();
  const standalone: Node = { name: 'solo', port, clusterPort: 0, conf: path.join(dir, 'solo.conf'), proc: null };
  fs.writeFileSync(standalone.conf, `server_name: solo\nlisten: 127.0.0.1:${port}\njetstream { store_dir: "${path.join(dir, 'store-solo')}" }\n`);
  nodes.push(standalone); // stopped by after() with the others
  const spill = path.join(dir, 'spill');
  fs.mkdirSync(spill);
  const args = (out: string): string[] => ['replay', '--quiet', '--nats', url(standalone), '--sensor-name', 'away', '--spill-dir', spill, '--out', out, slices[0]];
  const first = await run(args(path.join(dir, 'c-1.ndjson')));
  assert.equal(first.code, 3, first.stderr);
  assert.match(first.stderr, /cannot connect/);
  assert.match(first.stderr, /nats nats:\/\/127\.0\.0\.1:\d+: 0 of 3 delivered, 3 spilled/);
  startNode(standalone);
  await jetStreamReady(url(standalone));
  const second = await run(args(path.join(dir, 'c-2.ndjson')));
  assert.equal(second.code, 0, second.stderr);
  const ids = (f: string): string[] => docsOf(path.join(dir, f)).filter((d) => get(d, 'event.kind') === 'alert').map((d) => String(get(d, 'event.id')));
  const expected = [...ids('c-1.ndjson'), ...ids('c-2.ndjson')];
  assert.equal(expected.length, 4);
  const stored = await withNats(url(standalone), async (nc) => {
    const jsm = await nc.jetstreamManager();
    const got: string[] = [];
    const n = (await jsm.streams.info('PICKET_ALERTS')).state.messages;
    for (let seq = 1; seq <= n; seq++) got.push(String((JSON.parse(Buffer.from((await jsm.streams.getMessage('PICKET_ALERTS', { seq })).data).toString()) as { event: { id: string } }).event.id));
    return { got, summaries: (await jsm.streams.info('PICKET_SUMMARIES')).state.messages };
  });
  assert.deepEqual(stored.got, expected, 'the spilled alerts first, then the new run\'s, each once');
  assert.equal(stored.summaries, 1, 'the spilled summary and the new run\'s are the same summary: stored once');
  assert.equal(fs.statSync(path.join(spill, fs.readdirSync(spill).find((f) => f.startsWith('nats'))!)).size, 0, 'spill file emptied');
});

test('a NATS .creds file (operator mode, JWT) and tls.ca against a TLS nats-server: sensor and correlate connect; a wrong CA, no CA, or a user of an unknown account stop them at start with exit 2', async () => {
  const sub = path.join(dir, 'secure');
  fs.mkdirSync(path.join(sub, 'ca'), { recursive: true });
  const ca = makeTestCa(path.join(sub, 'ca'));
  const jwt = makeNatsJwt(sub);
  const port = await freePort();
  const node: Node = { name: 'secure', port, clusterPort: 0, conf: path.join(sub, 'secure.conf'), proc: null };
  fs.writeFileSync(node.conf, [
    'server_name: secure', `listen: 127.0.0.1:${port}`, `jetstream { store_dir: "${path.join(sub, 'store')}" }`,
    `tls { cert_file: "${ca.serverCert}", key_file: "${ca.serverKey}" }`, jwt.serverConf, '',
  ].join('\n'));
  nodes.push(node); // stopped by after() with the others
  startNode(node);
  const server = `nats://127.0.0.1:${port}`;
  const secure = async <T>(f: (nc: NatsConnection) => Promise<T>): Promise<T> => {
    const nc = await connect({ servers: [server], timeout: 3000, authenticator: credsAuthenticator(fs.readFileSync(jwt.userCreds)), tls: { caFile: ca.ca } });
    try {
      return await f(nc);
    } finally {
      await nc.close();
    }
  };
  await until('JetStream on the TLS, operator-mode server', () => secure(async (nc) => {
    await (await nc.jetstreamManager({ timeout: 2000 })).getAccountInfo();
  }));
  /** picket.yaml with the nats output (credentials and tls.ca relative to it) and a file output. */
  const config = (name: string, credsFile: string, caFile: string | null): string => {
    const f = path.join(sub, `${name}.yaml`);
    fs.writeFileSync(f, [
      'outputs:', '  - type: file', `    path: ${path.join(sub, `${name}.ndjson`)}`, '  - type: nats', `    servers: ${server}`, `    sensor_name: ${name}`,
      `    credentials: ${path.relative(sub, credsFile)}`, ...(caFile === null ? [] : [`    tls: { ca: ${path.relative(sub, caFile)} }`]), '',
    ].join('\n'));
    return f;
  };

  const good = await run(['replay', '--quiet', '--config', config('sec', jwt.userCreds, ca.ca), slices[0]]);
  assert.equal(good.code, 0, good.stderr);
  const sent = docsOf(path.join(sub, 'sec.ndjson')).filter((d) => get(d, 'event.kind') === 'alert').length;
  assert.ok(sent > 0, 'the sensor raised alerts');
  const stored = await secure(async (nc) => {
    const jsm = await nc.jetstreamManager();
    return { alerts: (await jsm.streams.info('PICKET_ALERTS')).state.messages, summaries: await storedSummaries(nc) };
  });
  assert.equal(stored.alerts, sent, 'every alert stored, through TLS, as the JWT user');
  assert.deepEqual(stored.summaries.map((m) => [m.sensor, m.source, m.partition]), [['sec', SCANNER, partitionOf(SCANNER, 16)]]);
  const c = await run(['correlate', '--config', config('corr', jwt.userCreds, ca.ca), '--idle-exit', '8s']);
  assert.equal(c.code, 0, c.stderr);
  assert.match(c.stderr, /: 1 summaries in 1 batches, 0 not summaries, 0 fleet alerts/);

  const wrongCa = config('wrong-ca', jwt.userCreds, path.join(ca.dir, 'stranger-ca.crt'));
  for (const cmd of [['replay', '--quiet', '--config', wrongCa, slices[0]], ['correlate', '--config', wrongCa]]) {
    const r = await run(cmd);
    assert.equal(r.code, 2, `${cmd[0]}: ${r.stderr}`);
    assert.match(r.stderr, /cannot connect \(.+\): the server's TLS certificate was not verified against the CA of tls\.ca \S*stranger-ca\.crt/, cmd[0]);
  }
  const noCa = await run(['replay', '--quiet', '--config', config('no-ca', jwt.userCreds, null), slices[0]]);
  assert.equal(noCa.code, 2, noCa.stderr);
  assert.match(noCa.stderr, /the server's TLS certificate was not verified \(no CA given: the nats output's tls: \{ ca: FILE \}\)/);
  const stranger = config('stranger', jwt.strangerCreds, ca.ca);
  for (const cmd of [['replay', '--quiet', '--config', stranger, slices[0]], ['correlate', '--config', stranger]]) {
    const r = await run(cmd);
    assert.equal(r.code, 2, `${cmd[0]}: ${r.stderr}`);
    assert.match(r.stderr, /the server refused the credentials of \S*stranger\.creds/, cmd[0]);
  }
  assert.equal(docsOf(path.join(sub, 'wrong-ca.ndjson')).length + docsOf(path.join(sub, 'stranger.ndjson')).length, 0, 'nothing replayed by the refused sensors');
});

test('a live `picket capture` sensor in the fleet: nmap in the test\'s namespaces sweeps the third slice\'s hosts; with two replay sensors for the other slices, correlate raises the one sweep', async () => {
  requireTool('nmap');
  await resetFleet();
  // Scanner and targets in two namespaces of the test's own joined by a veth pair; the targets are the third
  // slice's hosts of the capture (10.90.0.x) on the target end, where picket captures, as pcaps/make-scans.sh did.
  const lab = createVethLab('pkfl', `${SCANNER}/24`, '198.18.0.1/24');
  // NATS listens on the host's loopback, out of the namespace's reach: a relay on the namespace's own loopback to a
  // Unix socket (files cross namespaces), and from it to the first node. No route between the namespaces and the host.
  const sockPath = path.join(dir, 'nats-relay.sock');
  const relay = net.createServer((c) => {
    const up = net.connect(nodes[0].port, '127.0.0.1');
    c.pipe(up).pipe(c);
    c.on('error', () => up.destroy());
    up.on('error', () => c.destroy());
  });
  await new Promise<void>((r) => relay.listen(sockPath, r));
  const inB = (argv: string[]): ChildProcess => spawn('ip', ['netns', 'exec', lab.nsB, ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
  const procs: ChildProcess[] = [];
  try {
    const hosts = sliceHosts[2];
    for (const h of hosts) ip(['-n', lab.nsB, 'addr', 'add', `${h}/32`, 'dev', lab.ifB]);
    ip(['-n', lab.nsA, 'route', 'add', '10.90.0.0/24', 'via', '198.18.0.1', 'dev', lab.ifA]);
    const relayPort = 4222;
    // Bounded: it exits by itself after two minutes, and lab.remove() kills what runs in the namespace.
    const relayCode = 'const net=require("net");const [s,p]=process.argv.slice(1);setTimeout(()=>process.exit(0),120000);'
      + 'net.createServer((c)=>{const u=net.connect(s);c.pipe(u).pipe(c);c.on("error",()=>u.destroy());u.on("error",()=>c.destroy());})'
      + '.listen(Number(p),"127.0.0.1",()=>console.log("ready"));';
    const inner = inB([process.execPath, '-e', relayCode, sockPath, String(relayPort)]);
    procs.push(inner);
    const ready = new Promise<void>((r) => inner.stdout!.once('data', () => r()));
    await Promise.race([ready, sleep(WAIT_MS).then(() => Promise.reject(new Error('the relay in the namespace did not start')))]);
    await sensor('s0', slices[0], allUrls(), path.join(dir, 'f-s0.ndjson'));
    await sensor('s1', slices[1], allUrls(), path.join(dir, 'f-s1.ndjson'));
    const liveOut = path.join(dir, 'f-live.ndjson');
    // --duration: a backstop only; the test stops it with SIGTERM once nmap is done.
    const pk = inB([process.execPath, path.join(ROOT, 'bin', 'picket.js'), 'capture', '-i', lab.ifB, '--nats', `nats://127.0.0.1:${relayPort}`, '--sensor-name', 'live',
      '--nats-creds', creds, '--out', liveOut, '--duration', '90s']);
    procs.push(pk);
    let pkErr = '';
    pk.stderr!.on('data', (b: Buffer) => (pkErr += b.toString()));
    const pkDone = new Promise<number | null>((r) => pk.once('close', (code) => r(code)));
    await until('picket capturing', async () => {
      if (!/capturing on /.test(pkErr)) throw new Error(pkErr);
    });
    const nmap = spawnSync('ip', ['netns', 'exec', lab.nsA, 'nmap', '-sS', '-n', '-Pn', '-e', lab.ifA, '-p', '80,443', ...hosts], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(nmap.status, 0, nmap.stderr);
    await sleep(1000); // the last replies through picket's capture batch
    pk.kill('SIGTERM');
    assert.equal(await pkDone, 0, pkErr);
    const liveDocs = docsOf(liveOut);
    assert.deepEqual(ofRule(liveDocs, 'scan.sweep'), [], 'the live sensor alone stays under the threshold');
    for (const d of liveDocs.filter((x) => get(x, 'event.kind') === 'alert')) assert.equal(get(d, 'observer.name'), 'live');
    const stored = await withNats(allUrls(), storedSummaries);
    assert.deepEqual(stored.map((m) => [m.sensor, m.source, m.partition]), ['s0', 's1', 'live'].map((n) => [n, SCANNER, partitionOf(SCANNER, 16)]), 'the live sensor\'s summary, through the relay');

    const out = path.join(dir, 'f-correlate.ndjson');
    const c = await correlateUntilCaughtUp(out, 3);
    assert.equal(c.code, 0, c.stderr);
    const sweeps = ofRule(docsOf(out), 'scan.sweep');
    assert.equal(sweeps.length, 1, `fleet scan.sweep alerts: ${sweeps.length}`);
    const a = sweeps[0];
    assert.equal(get(a, 'source.ip'), SCANNER);
    assert.equal(get(a, 'picket.fleet.view'), 'fleet_only');
    assert.deepEqual([...(get(a, 'picket.fleet.sensor_names') as string[])].sort(), ['live', 's0', 's1']);
    const shares = get(a, 'picket.fleet.sensors') as Array<{ name: string; hosts: number; targets: number }>;
    const liveShare = shares.find((s) => s.name === 'live');
    assert.ok(liveShare !== undefined);
    assert.equal(liveShare.hosts, hosts.length, 'the live sensor saw every host nmap swept');
    assert.equal(liveShare.targets, 2 * hosts.length, 'two ports each');
    // The slices and the live sweep cover the capture's hosts and ports: the merged counts are the capture's.
    for (const f of ['hosts', 'ports']) assert.equal(get(a, `picket.scan.${f}`), get(whole, `picket.scan.${f}`), f);
  } finally {
    for (const p of procs) p.kill('SIGKILL');
    relay.close();
    lab.remove();
  }
});
