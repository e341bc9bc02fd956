/**
 * The network sinks over TLS, against real servers with a CA made for the run by openssl: syslog over TLS
 * (RFC 5425) into rsyslog's OpenSSL driver, and Elasticsearch-style _bulk over HTTPS into a local server that
 * verifies client certificates. Verification is on unless switched off in so many words.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import type { EcsDoc } from '../src/alert/ecs';
import { createSink, type Sink, type SinkStats } from '../src/output/sinks/sink';
import { BulkHttps } from './bulk-https';
import { tmpDir } from './helpers';
import { Rsyslog, until } from './sink-rsyslog';
import { makeTestCa, type TestCa } from './test-ca';

const INDEX = 'logs-picket-test';
const dir = tmpDir('sinks-tls');
let ca: TestCa;
let rs: Rsyslog;

before(async () => {
  ca = makeTestCa(dir);
  rs = new Rsyslog(ca);
  await rs.start();
});
after(async () => {
  await rs.cleanup();
  fs.rmSync(dir, { recursive: true, force: true });
});

function doc(run: string, seq: number): EcsDoc {
  return { '@timestamp': '2024-05-01T10:00:00.000001Z', event: { kind: 'alert', severity: 47, id: `${run}-${seq}` }, rule: { id: 'intel.dns' }, picket: { seq } };
}

function idOf(d: unknown): string {
  return (d as { event: { id: string } }).event.id;
}

function balanced(s: SinkStats): void {
  assert.equal(s.accepted, s.delivered + s.failures + s.dropped + s.queued + s.spillPending, JSON.stringify(s));
}

/** Writes n documents, waits until the sink has failed at least twice, closes it; returns its stats. */
async function refused(sink: Sink, run: string): Promise<SinkStats> {
  try {
    for (let i = 0; i < 5; i++) sink.write(doc(run, i));
    await until(`${run}: two failed attempts`, () => sink.stats().retries >= 2, 300);
    const st = sink.stats();
    assert.equal(st.delivered, 0, run);
    assert.equal(st.failing, true, run);
    return st;
  } finally {
    balanced(await sink.close(100));
  }
}

test('syslog over TLS (RFC 5425) into rsyslog\'s OpenSSL driver: delivered with a client certificate, refused without one or by an unknown CA', async () => {
  const url = `tls://127.0.0.1:${rs.tlsPort}`;
  const sink = createSink({ type: 'syslog', url, tls: { ca: ca.ca, cert: ca.clientCert, key: ca.clientKey } }, { retryMaxMs: 100 });
  const N = 2500; // more than two TCP_BATCH_DOCS batches, so more than one connection
  try {
    for (let i = 0; i < N; i++) sink.write(doc('tls', i));
    await sink.flush(20_000);
  } finally {
    await sink.close(1000);
  }
  const st = sink.stats();
  balanced(st);
  assert.equal(st.delivered, N);
  assert.equal(st.retries + st.failures + st.dropped, 0);
  await until('rsyslog to write every message', () => rs.records().filter((r) => r.input === 'imtls').length >= N, 200);
  const got = rs.records().filter((r) => r.input === 'imtls');
  assert.equal(got.length, N, 'each once');
  // Octet-counted frames parsed as RFC 5424, the MSG the whole document, in order.
  assert.deepEqual(got.map((r) => idOf(JSON.parse(r.msg))), Array.from({ length: N }, (_, i) => `tls-${i}`));
  assert.ok(got.every((r) => r.version === '1' && r.app === 'picket' && r.msgid === 'intel.dns' && r.severity === '4'));

  // No client certificate: rsyslog (x509/certvalid) refuses the handshake; nothing counts as delivered.
  const noCert = await refused(createSink({ type: 'syslog', url, tls: { ca: ca.ca } }, { retryMaxMs: 100 }), 'no-cert');
  assert.match(noCert.lastError ?? '', /certificate required/);
  // A certificate from another CA: refused too.
  const stranger = await refused(createSink({ type: 'syslog', url, tls: { ca: ca.ca, cert: ca.strangerCert, key: ca.strangerKey } }, { retryMaxMs: 100 }), 'stranger');
  assert.match(stranger.lastError ?? '', /alert|reset|ECONNRESET|closed/i);
  // Verification on by default: the system's CAs do not know the test CA.
  const noCa = await refused(createSink({ type: 'syslog', url, tls: { cert: ca.clientCert, key: ca.clientKey } }, { retryMaxMs: 100 }), 'no-ca');
  assert.match(noCa.lastError ?? '', /self[- ]signed|unable to (get|verify)/i);
  // ... unless switched off in so many words.
  const insecure = createSink({ type: 'syslog', url, tls: { insecure: true, cert: ca.clientCert, key: ca.clientKey } }, { retryMaxMs: 100 });
  insecure.write(doc('insecure', 0));
  await insecure.flush(5000);
  assert.equal((await insecure.close(100)).delivered, 1);
  assert.equal(rs.records().filter((r) => r.input === 'imtls').length, N + 1);
  for (const run of ['no-cert', 'stranger', 'no-ca']) assert.equal(rs.records().filter((r) => r.msg.includes(`"${run}-`)).length, 0, run);

  // tls:// without a port is RFC 5425's 6514.
  const dflt = createSink({ type: 'syslog', url: 'tls://127.0.0.1', tls: { ca: ca.ca } }, {});
  assert.equal(dflt.name, 'syslog tls://127.0.0.1:6514');
  await dflt.close(10);
});

test('https _bulk: verified TLS with a client certificate, credentials from a file, gzip bodies; _id = event.id, so a batch sent again is not indexed twice', async () => {
  const basic = path.join(dir, 'es-basic');
  fs.writeFileSync(basic, 'picket:s3cr3t pass\n', { mode: 0o600 });
  const apiKey = path.join(dir, 'es-api-key');
  fs.writeFileSync(apiKey, 'VnVhQ2ZHY0JDZGJrUW0tZTVhT3g6dWkybHAyYXhUTm1zeWFrdzl0dk5udw==\n', { mode: 0o600 });
  const srv = new BulkHttps(ca, INDEX, `Basic ${Buffer.from('picket:s3cr3t pass').toString('base64')}`);
  srv.cutRequest = 2; // the second batch is indexed, then its answer is lost
  await srv.start();
  const tls = { ca: ca.ca, cert: ca.clientCert, key: ca.clientKey };
  const mk = (extra: object): Sink => createSink({ type: 'http', url: srv.url, bulk: { index: INDEX }, tls, batchDocs: 50, batchMs: 20, ...extra }, { retryMaxMs: 100 });
  try {
    const sink = mk({ auth: { basicFile: basic }, gzip: true });
    const N = 200;
    for (let i = 0; i < N; i++) sink.write(doc('https', i));
    await sink.flush(20_000);
    const st = await sink.close(1000);
    balanced(st);
    assert.equal(st.delivered, N);
    assert.equal(st.failures + st.dropped + st.spillPending, 0);
    assert.equal(st.retries, 1, 'the batch whose answer was lost');
    // Five requests: the second went twice; the server answered its second copy with 50 conflicts, indexed nothing twice.
    assert.equal(srv.requests.length, 5);
    assert.deepEqual(srv.requests[2].ids, srv.requests[1].ids);
    assert.equal(srv.conflicts, 50);
    assert.deepEqual([...srv.indexed].sort(), Array.from({ length: N }, (_, i) => `https-${i}`).sort());
    assert.equal(srv.docs.get('https-7')?.['@timestamp'], '2024-05-01T10:00:00.000001Z');
    for (const r of srv.requests) {
      assert.equal(r.encoding, 'gzip');
      assert.equal(r.client, 'picket sensor', 'the client certificate was presented and verified');
    }

    // An API key from its file, no gzip.
    srv.authorization = 'ApiKey VnVhQ2ZHY0JDZGJrUW0tZTVhT3g6dWkybHAyYXhUTm1zeWFrdzl0dk5udw==';
    const before = srv.requests.length;
    const keyed = mk({ auth: { apiKeyFile: apiKey } });
    for (let i = 0; i < 10; i++) keyed.write(doc('apikey', i));
    await keyed.flush(5000);
    assert.equal((await keyed.close(100)).delivered, 10);
    assert.equal(srv.requests.slice(before).every((r) => r.encoding === ''), true);
    assert.equal(srv.requests.length - before, 1);

    // Refusals: wrong credentials (401, retried: credentials get fixed), no client certificate, an unknown CA.
    const wrong = await refused(mk({ auth: { basicFile: basic } }), 'wrong-auth');
    assert.match(wrong.lastError ?? '', /HTTP 401/);
    const noCert = await refused(mk({ tls: { ca: ca.ca }, auth: { apiKeyFile: apiKey } }), 'https-no-cert');
    assert.match(noCert.lastError ?? '', /certificate required|socket hang up|ECONNRESET/);
    const noCa = await refused(mk({ tls: { cert: ca.clientCert, key: ca.clientKey }, auth: { apiKeyFile: apiKey } }), 'https-no-ca');
    assert.match(noCa.lastError ?? '', /self[- ]signed|unable to (get|verify)/i);
    for (const run of ['wrong-auth', 'https-no-cert', 'https-no-ca']) assert.equal(srv.indexed.filter((id) => id.startsWith(`${run}-`)).length, 0, run);
  } finally {
    await srv.stop();
  }
});
