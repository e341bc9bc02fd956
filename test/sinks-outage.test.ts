/**
 * Nothing lost, nothing twice, across an outage of both collectors in the middle of a run and a restart of
 * picket: the real CLI, a real rsyslog over TLS and the local HTTPS _bulk server, every document counted by
 * event.id.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { BulkHttps } from './bulk-https';
import { picket, picketChild, PCAPS, tmpDir } from './helpers';
import { Rsyslog, until } from './sink-rsyslog';
import { makeTestCa, type TestCa } from './test-ca';

const INDEX = 'logs-picket-outage';
const dir = tmpDir('sinks-outage');
let ca: TestCa;
let rs: Rsyslog;
let srv: BulkHttps;

before(async () => {
  ca = makeTestCa(dir);
  rs = new Rsyslog(ca);
  await rs.start();
  fs.writeFileSync(path.join(dir, 'api-key'), 'b3V0YWdlOnRlc3Q=\n', { mode: 0o600 });
  srv = new BulkHttps(ca, INDEX, 'ApiKey b3V0YWdlOnRlc3Q=');
  await srv.start();
});
after(async () => {
  await srv.stop();
  await rs.cleanup();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** A little-endian µs pcap made of `copies` copies of src's packets, each copy a second after the one before. */
function repeatPcap(src: Buffer, copies: number): Buffer {
  const first = src.readUInt32LE(24);
  const last = (() => {
    let t = first;
    for (let p = 24; p + 16 <= src.length; p += 16 + src.readUInt32LE(p + 8)) t = src.readUInt32LE(p);
    return t;
  })();
  const span = last - first + 1;
  const parts = [src.subarray(0, 24)];
  for (let c = 0; c < copies; c++) {
    const body = Buffer.from(src.subarray(24));
    for (let p = 0; p + 16 <= body.length; p += 16 + body.readUInt32LE(p + 8)) body.writeUInt32LE(body.readUInt32LE(p) + c * span, p);
    parts.push(body);
  }
  return Buffer.concat(parts);
}

/** The event.ids of one run's documents as seq numbers, by run: "<run>-<seq>". */
function byRun(ids: string[]): Map<string, number[]> {
  const m = new Map<string, number[]>();
  for (const id of ids) {
    const at = id.lastIndexOf('-');
    const run = id.slice(0, at);
    m.set(run, [...(m.get(run) ?? []), Number(id.slice(at + 1))]);
  }
  return m;
}

function syslogIds(): string[] {
  return rs.records().filter((r) => r.input === 'imtls').map((r) => (JSON.parse(r.msg) as { event: { id: string } }).event.id);
}

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

test('both collectors down in the middle of a run, picket run again: every document arrives exactly once, the spilled ones first', async (t) => {
  const input = repeatPcap(fs.readFileSync(path.join(PCAPS, 'intel-dns.pcap')), 150); // ~2.8 MB: more than the 1 MiB read window
  const inputFile = path.join(dir, 'input.pcap');
  fs.writeFileSync(inputFile, input);
  const expected = picket(['replay', inputFile, '--metadata', '--quiet']).docs.length;
  assert.ok(expected > 3000, `${expected} documents`);
  const spillDir = path.join(dir, 'spill');
  const sinkFlags = [
    '--syslog', `tls://127.0.0.1:${rs.tlsPort}`, '--http-out', srv.url, '--bulk-index', INDEX, '--http-gzip', '--http-api-key-file', path.join(dir, 'api-key'),
    '--tls-ca', ca.ca, '--tls-cert', ca.clientCert, '--tls-key', ca.clientKey, '--spill-dir', spillDir,
  ];

  // Run 1 reads standard input: the first part, then (collectors stopped) the rest.
  const run1 = picketChild(['replay', '-', '--metadata', '--quiet', ...sinkFlags]);
  const cut = 1_500_000;
  run1.child.stdin?.write(input.subarray(0, cut));
  await until('documents at both collectors while picket waits for more input', () => syslogIds().length >= 1000 && srv.indexed.length >= 500, 400);
  // Settled: picket's main thread is blocked reading its input (the kernel says where it waits: pipe_read, or
  // unix_stream_read_generic for the socket pair Node gives a child), so it hands the sinks nothing more until it
  // has more input, and the sinks' threads have sent all they had (the counts are steady).
  const pid = run1.child.pid ?? 0;
  let seen = -1;
  await until('picket blocked on its input, the collectors\' counts steady', async () => {
    const now = syslogIds().length + srv.indexed.length;
    const steady = now === seen && /read/.test(fs.readFileSync(`/proc/${pid}/wchan`, 'utf8'));
    seen = now;
    return steady;
  }, 120, 500);
  const beforeOutage = { syslog: syslogIds().length, http: srv.indexed.length };
  t.diagnostic(`${expected} documents; delivered before the outage: ${JSON.stringify(beforeOutage)}`);
  await rs.stop();
  await srv.stop();
  run1.child.stdin?.end(input.subarray(cut));
  const r1 = await run1.done;
  assert.equal(r1.code, 3, r1.stderr);
  // Said per sink: how many delivered, how many spilled to which file.
  const spillFiles = fs.readdirSync(spillDir).map((f) => path.join(spillDir, f)).sort();
  assert.equal(spillFiles.length, 2);
  const lines = (f: string): number => fs.readFileSync(f, 'utf8').split('\n').length - 1;
  for (const [name, delivered] of [[`syslog tls://127.0.0.1:${rs.tlsPort}`, beforeOutage.syslog], [`http ${srv.url}`, beforeOutage.http]] as const) {
    const file = spillFiles.find((f) => path.basename(f).startsWith(name.split(' ')[0]));
    assert.ok(file !== undefined, name);
    const n = lines(file);
    assert.equal(delivered + n, expected, `${name}: delivered before the outage + spilled`);
    assert.ok(r1.stderr.includes(`${name}: ${delivered} of ${expected} delivered, ${n} spilled to ${file}`), `${name} in:\n${r1.stderr}`);
  }
  const spilledIds = fs.readFileSync(spillFiles[0], 'utf8').split('\n').slice(0, -1).map((l) => (JSON.parse(l) as { event: { id: string } }).event.id);

  // Both back; picket run again (a restart) on another capture: the spill goes first, then the new documents.
  await rs.start();
  await srv.start();
  const second = path.join(PCAPS, 'tls-split.pcap');
  const expected2 = picket(['replay', second, '--metadata', '--quiet']).docs.length;
  const r2 = await picketChild(['replay', second, '--metadata', '--quiet', ...sinkFlags]).done;
  assert.equal(r2.code, 0, r2.stderr);
  assert.equal(r2.stderr, '');
  await until('rsyslog to write everything', () => syslogIds().length >= expected + expected2, 200);

  for (const [what, ids] of [['syslog', syslogIds()], ['http', srv.indexed]] as const) {
    assert.equal(ids.length, expected + expected2, `${what}: every document, once`);
    assert.equal(new Set(ids).size, ids.length, `${what}: no event.id twice`);
    const runs = byRun(ids);
    assert.equal(runs.size, 2, `${what}: two runs`);
    const [first, then] = [...runs.values()];
    assert.deepEqual([...first].sort((a, b) => a - b), range(expected), `${what}: run 1 whole`);
    assert.deepEqual([...then].sort((a, b) => a - b), range(expected2), `${what}: run 2 whole`);
    // The spilled documents before any of the second run's.
    const lastSpilled = Math.max(...spilledIds.map((id) => ids.indexOf(id)));
    const firstNew = ids.findIndex((id) => !id.startsWith(spilledIds[0].slice(0, spilledIds[0].lastIndexOf('-'))));
    assert.ok(lastSpilled < firstNew, `${what}: spilled first (${lastSpilled} < ${firstNew})`);
  }
  assert.equal(srv.conflicts, 0, 'nothing was sent twice to the HTTPS server');
  for (const f of spillFiles) assert.equal(fs.statSync(f).size, 0, `${f} emptied`);
});
