import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as dgram from 'node:dgram';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import type { EcsDoc } from '../src/alert/ecs';
import { PicketError } from '../src/errors';
import { createFanout, createSink, type Sink, type SinkStats } from '../src/output/sinks/sink';
import { TCP_BATCH_DOCS } from '../src/output/sinks/syslog';
import { tmpDir } from './helpers';
import { freeTcpPort, freeUdpPort, Rsyslog, sleep, until, type RsyslogRecord } from './sink-rsyslog';

/**
 * The burst tests' packet work between two alerts, in microseconds: a replay putting out 50 k alerts a second
 * (one every 25 packets at the benchmark's 1.25 M packets/s), slow enough for two shared, busy cores to keep up
 * with. The original sinks spill all but queueDocs of a burst at any rate, since they send nothing until the
 * loop yields; bench/sink-throughput.ts measures top rates.
 */
const REPLAY_US = 20;
const SEVERITIES = [21, 47, 73, 99];
const RULES = ['intel.dns', 'intel.tls', 'scan.sweep', 'scan.port'];
/** RFC 5424 severity expected for each ECS severity above: notice, warning, err, crit. */
const SYSLOG_SEVERITY: Record<number, number> = { 21: 5, 47: 4, 73: 3, 99: 2 };

/** An alert shaped like picket's, numbered so that loss, duplication and order can be checked. */
function alert(seq: number, run: string): EcsDoc {
  const sec = 1714557600 + seq;
  return {
    '@timestamp': `${new Date(sec * 1000).toISOString().slice(0, 19)}.${String((seq * 7919) % 1_000_000).padStart(6, '0')}Z`,
    event: { kind: 'alert', severity: SEVERITIES[seq % 4], category: ['network'], type: ['info'] },
    rule: { id: RULES[seq % 4], name: `Rule ${seq % 4}` },
    source: { ip: `10.0.${(seq >> 8) & 255}.${seq & 255}`, port: 40000 + (seq % 20000) },
    destination: { ip: '192.0.2.7', port: 443, domain: 'api.shodan.io' },
    message: `reconnaissance "${seq}"\nsecond line\ttab`,
    picket: { seq, run, name_unicode: 'bücher.例え.jp', count: seq },
  };
}

function metric(seq: number, run: string): EcsDoc {
  return { '@timestamp': '2024-05-01T10:00:00.000001Z', event: { kind: 'metric' }, picket: { seq, run, stats: { packets: 123 } } };
}

function seqOf(doc: unknown): number {
  return (doc as { picket: { seq: number } }).picket.seq;
}

function runOf(doc: unknown): string {
  return (doc as { picket: { run: string } }).picket.run;
}

/** No silent loss: every accepted document is somewhere. */
function balanced(s: SinkStats): void {
  assert.equal(s.accepted, s.delivered + s.failures + s.dropped + s.queued + s.spillPending, `counters do not add up: ${JSON.stringify(s)}`);
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from }, (_, i) => from + i);
}

// ---------------------------------------------------------------------------------------------------------
// syslog against a real rsyslogd

const rs = new Rsyslog();
before(async () => {
  await rs.start();
});
after(async () => {
  await rs.cleanup();
});

/** rsyslog's records of one test run, with the document each carried. */
function received(run: string): Array<{ r: RsyslogRecord; doc: EcsDoc }> {
  const out: Array<{ r: RsyslogRecord; doc: EcsDoc }> = [];
  for (const r of rs.records()) {
    const doc = JSON.parse(r.msg) as EcsDoc; // the MSG must be the JSON document, intact
    if (runOf(doc) === run) out.push({ r, doc });
  }
  return out;
}

test('syslog over UDP and TCP (octet-counting and newline framing): rsyslog parses each message as RFC 5424', async () => {
  const common = { hostname: 'sensor-1', appName: 'picket-test' };
  const runs = [
    { run: 'udp', input: 'imudp', facility: 16, sink: createSink({ type: 'syslog', url: `udp://127.0.0.1:${rs.udpPort}`, ...common }, {}) },
    { run: 'tcp', input: 'imtcp', facility: 4, sink: createSink({ type: 'syslog', url: `tcp://127.0.0.1:${rs.tcpPort}`, ...common, facility: 4 }, {}) },
    { run: 'tcp-nl', input: 'imtcp', facility: 16, sink: createSink({ type: 'syslog', url: `tcp://127.0.0.1:${rs.tcpPort}`, ...common, octetCounting: false }, {}) },
  ];
  assert.equal(runs[0].sink.name, `syslog udp://127.0.0.1:${rs.udpPort}`);
  const sent = new Map<string, EcsDoc>();
  for (const { run, sink } of runs) {
    for (let i = 0; i < 20; i++) {
      const doc = i % 5 === 4 ? metric(i, run) : alert(i, run);
      sent.set(`${run}/${i}`, doc);
      sink.write(doc);
    }
  }
  // Over 64 KiB: cannot go in one datagram, so it goes cut down, still JSON, and counted.
  const big: EcsDoc = { ...alert(20, 'udp'), payload: 'x'.repeat(100_000) };
  runs[0].sink.write(big);
  const stats = await Promise.all(runs.map((x) => x.sink.close(20_000)));
  for (const s of stats) balanced(s);
  assert.equal(stats[0].delivered, 21);
  assert.equal(stats[0].truncated, 1);
  assert.equal(stats[1].delivered, 20);
  assert.equal(stats[2].delivered, 20);

  await until('all 61 messages in rsyslog', () => runs.every(({ run }) => received(run).length >= (run === 'udp' ? 21 : 20)));
  for (const { run, input, facility } of runs) {
    const got = received(run);
    assert.equal(got.length, run === 'udp' ? 21 : 20, run);
    for (const { r, doc } of got) {
      const seq = seqOf(doc);
      assert.equal(r.version, '1', `${run}: rsyslog parsed it as RFC 5424`);
      assert.equal(r.input, input);
      assert.equal(r.app, 'picket-test');
      assert.equal(r.host, 'sensor-1');
      assert.equal(r.procid, String(process.pid));
      assert.equal(r.sd, '-');
      assert.equal(r.facility, String(facility));
      if (seq === 20) {
        // The cut-down big one: what happened and to whom survives, with the mark and the original size.
        const p = (doc as { picket: { truncated: boolean; original_bytes: number; removed_fields: string[] } }).picket;
        assert.equal(p.truncated, true);
        assert.ok(p.original_bytes > 100_000);
        assert.deepEqual(p.removed_fields, ['payload']);
        assert.equal(r.time, big['@timestamp']);
        assert.deepEqual(doc.source, big.source);
        assert.equal(r.msgid, 'intel.dns');
        assert.equal((doc as { payload?: string }).payload, undefined);
        continue;
      }
      const want = sent.get(`${run}/${seq}`) as EcsDoc;
      assert.deepEqual(doc, want, `${run}/${seq}: the JSON document arrived intact`);
      assert.equal(r.time, want['@timestamp'], 'TIMESTAMP is the document @timestamp');
      const ev = want.event as { kind: string; severity?: number };
      if (ev.kind === 'metric') {
        assert.equal(r.msgid, '-');
        assert.equal(r.severity, '6');
      } else {
        assert.equal(r.msgid, (want.rule as { id: string }).id);
        assert.equal(r.severity, String(SYSLOG_SEVERITY[ev.severity as number]));
      }
    }
  }
});

test('syslog TCP: rsyslog stopped and killed mid-stream, restarted; every document arrives, in order, retries counted', async (t) => {
  const spillDir = tmpDir('spill-kill');
  // A queue smaller than what is written while rsyslog is down (400..600), so that the spill file takes part.
  const queueDocs = 100;
  const sink = createSink(
    { type: 'syslog', url: `tcp://127.0.0.1:${rs.tcpPort}`, hostname: 'sensor-1', appName: 'picket-kill' },
    { queueDocs, spillDir, retryMaxMs: 200 },
  );
  const N = 1200;
  let unread = 0;
  try {
    for (let i = 0; i < N; i++) {
      sink.write(alert(i, 'kill'));
      if (i % 25 === 24 && !(i >= 900 && i < 950)) await sleep(5); // a stream, not one burst
      if (i === 400) await rs.stop('SIGTERM'); // a service restart while documents are in flight
      if (i === 600 || i === 1100) await rs.start();
      if (i === 899) {
        // Everything so far is in rsyslog's file; then the collector hangs (stops reading) ...
        await sink.flush(60_000);
        await until('0..899 in rsyslog', () => new Set(received('kill').map((x) => seqOf(x.doc))).size === 900, 1200);
        rs.pause();
      }
      if (i === 949) {
        // ... 900..949 reach its receive buffer (the kernel accepted them: plain TCP syslog's "sent") ...
        await until('the burst in the stopped rsyslog receive buffer', () => (unread = rs.unreadBytes()) > 0);
        await rs.stop('SIGKILL'); // ... and it dies with them unread
      }
    }
    await sink.flush(60_000);
    await until('all documents in rsyslog after the restarts', () => new Set(received('kill').map((x) => seqOf(x.doc))).size === N, 1200);
  } finally {
    await sink.close(5000);
    fs.rmSync(spillDir, { recursive: true, force: true });
  }
  const seqs = received('kill').map((x) => seqOf(x.doc));
  // At-least-once: batches written shortly before a break may come twice; none is missing, and the first
  // arrival of each is in the order written.
  const seen = new Set<number>();
  const firsts: number[] = [];
  for (const s of seqs) {
    if (!seen.has(s)) firsts.push(s);
    seen.add(s);
  }
  assert.deepEqual(firsts, range(0, N));
  const st = sink.stats();
  t.diagnostic(`kill/restart: ${unread} bytes died unread in rsyslog; ${seqs.length - N} duplicates; ${JSON.stringify(st)}`);
  balanced(st);
  assert.equal(st.delivered, N);
  assert.equal(st.dropped, 0);
  assert.equal(st.queued + st.spillPending, 0);
  assert.ok(st.retries >= 2, `retries counted: ${JSON.stringify(st)}`);
  // Down for a while with a 100-document queue: the overflow went through the spill file.
  assert.ok(st.spilled > 0, `spilled: ${JSON.stringify(st)}`);
  // Duplicates only around the two breaks: at most the one batch in flight at each (which the queue bounds too).
  assert.ok(seqs.length - N <= 2 * Math.min(TCP_BATCH_DOCS, queueDocs), `${seqs.length - N} duplicates`);
});

/** Distinct seqs of a run in rsyslog's file, and how many records it has in all: parsed once, not polled. */
function tally(run: string, n: number): { seqs: number[]; missing: number[]; duplicates: number } {
  const seqs = received(run).map((x) => seqOf(x.doc));
  const seen = new Set(seqs);
  return { seqs, missing: range(0, n).filter((x) => !seen.has(x)), duplicates: seqs.length - seen.size };
}

test('syslog TCP: rsyslog killed mid-stream and restarted; nothing lost, at most one batch (TCP_BATCH_DOCS) twice', async (t) => {
  const spillDir = tmpDir('spill-restart');
  const sink = createSink({ type: 'syslog', url: `tcp://127.0.0.1:${rs.tcpPort}`, appName: 'picket-restart' }, { spillDir, retryMaxMs: 200 });
  const N = 20_000;
  const base = rs.lineCount();
  let unconfirmedAtKill = 0;
  try {
    let stopping: Promise<void> = Promise.resolve();
    for (let i = 0; i < N; i++) {
      sink.write(alert(i, 'restart'));
      if (i % 200 === 199) await sleep(2); // a steady stream, about as fast as rsyslog writes its file
      if (i === N / 2) {
        // `kill`: SIGTERM, as a service restart sends; the stream goes on while rsyslog exits.
        unconfirmedAtKill = sink.stats().queued;
        stopping = rs.stop('SIGTERM');
      }
    }
    await stopping;
    await rs.start();
    await sink.flush(60_000);
    const expected = base + N + 1; // + the restart's probe datagram
    // Lines first (cheap), then every seq: duplicates can make up the count while rsyslog still writes the last.
    await until(`${N} documents in rsyslog`, () => rs.lineCount() >= expected && tally('restart', N).missing.length === 0, 120, 250);
  } finally {
    await sink.close(5000);
    fs.rmSync(spillDir, { recursive: true, force: true });
  }
  const { seqs, missing, duplicates } = tally('restart', N);
  const st = sink.stats();
  t.diagnostic(`restart: ${unconfirmedAtKill} documents unconfirmed at the kill, ${duplicates} duplicates, ${missing.length} missing; ${JSON.stringify(st)}`);
  assert.ok(unconfirmedAtKill > 0, 'the kill came with documents in flight');
  assert.deepEqual(missing, [], 'every document arrives');
  assert.ok(duplicates <= TCP_BATCH_DOCS, `${duplicates} duplicates: more than the one batch that was in flight (${TCP_BATCH_DOCS})`);
  assert.equal(seqs.length, N + duplicates);
  const firsts = seqs.filter((x, i) => seqs.indexOf(x) === i);
  assert.deepEqual(firsts, range(0, N), 'first arrivals in the order written');
  balanced(st);
  assert.equal(st.delivered, N);
  assert.equal(st.dropped + st.failures + st.queued + st.spillPending, 0);
  assert.ok(st.retries >= 1, `the break was noticed: ${JSON.stringify(st)}`);
});

/** Spins for `us` microseconds: the packet work a replay does between two alerts, without yielding. */
function busy(us: number): void {
  const end = process.hrtime.bigint() + BigInt(us * 1000);
  while (process.hrtime.bigint() < end);
}

test('syslog TCP: a replay-sized burst from a loop that never yields reaches a healthy rsyslog, none of it spilled', async (t) => {
  const spillDir = tmpDir('spill-burst');
  // queueDocs is the default: the burst is five times what memory may hold.
  const sink = createSink({ type: 'syslog', url: `tcp://127.0.0.1:${rs.tcpPort}`, appName: 'picket-burst' }, { spillDir });
  const N = 50_000;
  const docs = range(0, N).map((i) => alert(i, 'burst'));
  const base = rs.lineCount();
  let during: SinkStats;
  let peak = 0;
  try {
    await sleep(200); // the sensor starts its sinks before it reads the first capture file
    // As a replay does: every document written from one synchronous run, the event loop never turning.
    for (let i = 0; i < N; i++) {
      sink.write(docs[i]);
      busy(REPLAY_US);
      if (i % 1000 === 0) peak = Math.max(peak, sink.stats().queued);
    }
    during = sink.stats();
    await sink.flush(60_000);
    await until(`${N} documents in rsyslog`, () => rs.lineCount() >= base + N, 600);
  } finally {
    await sink.close(5000);
    fs.rmSync(spillDir, { recursive: true, force: true });
  }
  const st = sink.stats();
  const { seqs } = tally('burst', N);
  t.diagnostic(`burst: at most ${peak} in memory, at the end of the loop ${during.delivered} delivered, ${during.queued} queued; ${JSON.stringify(st)}`);
  assert.equal(st.spilled, 0, `nothing went through the spill file: ${JSON.stringify(st)}`);
  // Delivered while the loop was still running: the transport was not waiting for the event loop.
  assert.ok(during.delivered >= N - 10_000, `${during.delivered} delivered before the loop ended`);
  balanced(st);
  assert.equal(st.delivered, N);
  assert.equal(st.retries + st.dropped + st.failures + st.queued + st.spillPending, 0);
  assert.equal(seqs.length, N, 'each document once: a healthy collector sees no duplicates');
  assert.deepEqual(seqs, range(0, N), 'in order');
});

// ---------------------------------------------------------------------------------------------------------
// HTTP against a local server that speaks Elasticsearch's _bulk

interface BulkServer {
  url: string;
  requests: Array<{ contentType: string; docs: number[] }>;
  /** seqs indexed (answered 201), in the order indexed. */
  indexed: number[];
  close(): Promise<void>;
}

/**
 * Parses each _bulk body for real (action line, then document line) and answers per item. The first
 * `unavailable` requests get 503; in the next one, with `partial`, seq 5 gets a 400 mapping error and seqs = 3
 * mod 7 get 429. Request number `cut` is indexed in full and then its connection is cut instead of answered (a
 * proxy restarting).
 */
async function bulkServer(index: string, { unavailable = 0, partial = true, cut = 0 } = {}): Promise<BulkServer> {
  const s: BulkServer = { url: '', requests: [], indexed: [], close: async () => undefined };
  const server = http.createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (b: Buffer) => parts.push(b));
    req.on('end', () => {
      const body = Buffer.concat(parts).toString('utf8');
      const n = s.requests.length + 1;
      const lines = body.split('\n');
      assert.equal(lines.pop(), '', 'a _bulk body ends with a newline');
      const docs: EcsDoc[] = [];
      for (let i = 0; i < lines.length; i += 2) {
        const action = JSON.parse(lines[i]) as { create?: { _index?: string } };
        if (action.create?._index !== index) {
          res.writeHead(400, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ error: { type: 'illegal_argument_exception', reason: `bad action line ${lines[i]}` }, status: 400 }));
          return;
        }
        docs.push(JSON.parse(lines[i + 1]) as EcsDoc);
      }
      s.requests.push({ contentType: String(req.headers['content-type']), docs: docs.map(seqOf) });
      if (n <= unavailable) {
        res.writeHead(503);
        res.end('cluster busy');
        return;
      }
      if (n === cut) {
        for (const d of docs) s.indexed.push(seqOf(d));
        req.socket.destroy();
        return;
      }
      const items = docs.map((d) => {
        const seq = seqOf(d);
        if (partial && n === unavailable + 1 && seq === 5) {
          return { create: { _index: index, status: 400, error: { type: 'document_parsing_exception', reason: '[1:2] failed to parse field [source.ip] of type [ip]' } } };
        }
        if (partial && n === unavailable + 1 && seq % 7 === 3) {
          return { create: { _index: index, status: 429, error: { type: 'es_rejected_execution_exception', reason: 'rejected execution' } } };
        }
        s.indexed.push(seq);
        return { create: { _index: index, _id: `id${seq}`, status: 201, result: 'created' } };
      });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ took: 3, errors: items.some((i) => i.create.status !== 201), items }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  s.url = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}/_bulk`;
  s.close = () => new Promise<void>((r) => server.close(() => r()));
  return s;
}

/** 200 alerts through an HTTP _bulk sink of batchDocs to the server, flushed; both closed; the sink's balanced stats. */
async function bulk200(srv: Awaited<ReturnType<typeof bulkServer>>, tag: string, batchDocs: number): Promise<ReturnType<ReturnType<typeof createSink>['stats']>> {
  const sink = createSink({ type: 'http', url: srv.url, bulk: { index: 'picket-alerts' }, batchDocs, batchMs: 20 }, { retryMaxMs: 100 });
  try {
    for (let i = 0; i < 200; i++) sink.write(alert(i, tag));
    await sink.flush(30_000);
  } finally {
    await sink.close(5000);
    await srv.close();
  }
  const st = sink.stats();
  balanced(st);
  return st;
}

test('http _bulk: 503s are retried, 429 items retried ahead of newer documents, a 400 item counted as a failure with its reason', async () => {
  const srv = await bulkServer('picket-alerts', { unavailable: 2 });
  const st = await bulk200(srv, 'http', 50);
  assert.equal(st.delivered, 199);
  assert.equal(st.failures, 1);
  assert.match(st.lastError ?? '', /400 document_parsing_exception: \[1:2\] failed to parse field \[source\.ip\]/);
  assert.ok(st.retries >= 3, `two 503s and one partial: ${st.retries}`);
  assert.equal(st.queued + st.spillPending + st.dropped, 0);
  // Every document indexed exactly once, except the refused one.
  assert.deepEqual([...srv.indexed].sort((a, b) => a - b), range(0, 200).filter((x) => x !== 5));
  // The first batch went three times (503, 503, partial); its 429 items before any newer document.
  assert.deepEqual(srv.requests[0].docs, range(0, 50));
  assert.deepEqual(srv.requests[2].docs, range(0, 50));
  const retried = range(0, 50).filter((x) => x % 7 === 3);
  const firstNew = srv.indexed.findIndex((x) => x >= 50);
  for (const x of retried) assert.ok(srv.indexed.indexOf(x) < firstNew, `429 item ${x} retried before newer documents`);
  for (const r of srv.requests) assert.equal(r.contentType, 'application/x-ndjson');
});

test('http _bulk: a batch indexed but never answered (connection cut) is the only one sent again', async () => {
  const srv = await bulkServer('picket-alerts', { partial: false, cut: 3 });
  const batchDocs = 50;
  const st = await bulk200(srv, 'http-cut', batchDocs);
  assert.equal(st.delivered, 200);
  assert.equal(st.failures + st.dropped + st.queued + st.spillPending, 0);
  assert.equal(st.retries, 1);
  // No answer, no confirmation: the third batch (100..149) went twice, every other document once.
  assert.deepEqual(srv.requests.map((r) => r.docs.length), [batchDocs, batchDocs, batchDocs, batchDocs, batchDocs]);
  assert.deepEqual(srv.requests[2].docs, range(100, 150));
  assert.deepEqual(srv.requests[3].docs, range(100, 150));
  assert.equal(srv.indexed.length, 200 + batchDocs);
  const twice = range(0, 200).filter((x) => srv.indexed.filter((y) => y === x).length === 2);
  assert.deepEqual(twice, range(100, 150));
  assert.deepEqual([...new Set(srv.indexed)].sort((a, b) => a - b), range(0, 200));
});

/**
 * A _bulk endpoint in a process of its own, so that it answers while this one is busy: records the seqs it
 * indexed, in order, and hands them over on GET.
 */
async function bulkProcess(): Promise<{ url: string; seqs(): Promise<number[]>; stop(): void }> {
  const code = `
    const http = require('node:http');
    const seqs = [];
    const srv = http.createServer((req, res) => {
      const parts = [];
      req.on('data', (b) => parts.push(b));
      req.on('end', () => {
        if (req.method === 'GET') return res.end(JSON.stringify(seqs));
        const lines = Buffer.concat(parts).toString('utf8').split('\\n');
        const items = [];
        for (let i = 1; i < lines.length; i += 2) {
          seqs.push(JSON.parse(lines[i]).picket.seq);
          items.push({ create: { status: 201 } });
        }
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ errors: false, items }));
      });
    });
    srv.listen(0, '127.0.0.1', () => console.log(srv.address().port));`;
  const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout?.once('data', (b: Buffer) => resolve(Number(b.toString().trim())));
    child.once('exit', (c) => reject(new Error(`bulk server exited: ${c}`)));
  });
  const url = `http://127.0.0.1:${port}/_bulk`;
  return {
    url,
    seqs: async () => JSON.parse(await new Promise<string>((resolve, reject) => {
      http.get(url, (res) => {
        let body = '';
        res.on('data', (b: Buffer) => (body += b.toString()));
        res.on('end', () => resolve(body));
      }).on('error', reject);
    })) as number[],
    stop: () => void child.kill('SIGKILL'),
  };
}

test('http _bulk: a replay-sized burst from a loop that never yields reaches a healthy server, none of it spilled', async (t) => {
  const srv = await bulkProcess();
  const spillDir = tmpDir('spill-http-burst');
  const sink = createSink({ type: 'http', url: srv.url, bulk: { index: 'picket-alerts' } }, { spillDir });
  const N = 50_000;
  const docs = range(0, N).map((i) => alert(i, 'http-burst'));
  let during: SinkStats;
  let peak = 0;
  try {
    await sleep(200);
    for (let i = 0; i < N; i++) {
      sink.write(docs[i]);
      busy(REPLAY_US);
      if (i % 1000 === 0) peak = Math.max(peak, sink.stats().queued);
    }
    during = sink.stats();
    await sink.flush(60_000);
  } finally {
    await sink.close(5000);
    fs.rmSync(spillDir, { recursive: true, force: true });
  }
  const seqs = await srv.seqs();
  srv.stop();
  const st = sink.stats();
  t.diagnostic(`http burst: at most ${peak} in memory, at the end of the loop ${during.delivered} delivered, ${during.queued} queued; ${JSON.stringify(st)}`);
  assert.equal(st.spilled, 0, `nothing went through the spill file: ${JSON.stringify(st)}`);
  assert.ok(during.delivered >= N - 10_000, `${during.delivered} delivered before the loop ended`);
  balanced(st);
  assert.equal(st.delivered, N);
  assert.equal(st.retries + st.dropped + st.failures + st.queued + st.spillPending, 0);
  assert.equal(seqs.length, N);
  assert.deepEqual(seqs, range(0, N));
});

test('http without bulk: plain NDJSON batches, one document a line', async () => {
  const bodies: string[] = [];
  const server = http.createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (b: Buffer) => parts.push(b));
    req.on('end', () => {
      assert.equal(req.headers['content-type'], 'application/x-ndjson');
      assert.equal(req.headers['x-api-key'], 'k1');
      bodies.push(Buffer.concat(parts).toString('utf8'));
      res.writeHead(204);
      res.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}/ingest`;
  const sink = createSink({ type: 'http', url, headers: { 'x-api-key': 'k1' }, batchDocs: 30, batchMs: 10 }, {});
  for (let i = 0; i < 100; i++) sink.write(alert(i, 'ndjson'));
  const st = await sink.close(10_000);
  await new Promise<void>((r) => server.close(() => r()));
  balanced(st);
  assert.equal(st.delivered, 100);
  const lines = bodies.join('').split('\n').filter((l) => l !== '');
  assert.deepEqual(lines.map((l) => seqOf(JSON.parse(l))), range(0, 100));
  assert.ok(bodies.every((b) => b.split('\n').length - 1 <= 30), 'batches of at most batchDocs');
});

// ---------------------------------------------------------------------------------------------------------
// file rotation

function readRotated(p: string): { files: string[]; seqs: number[] } {
  const dir = path.dirname(p);
  const base = path.basename(p);
  const files = fs.readdirSync(dir).filter((f) => f === base || f.startsWith(`${base}.`));
  // Oldest first: the highest number, ..., .1, then the live file.
  const order = (f: string): number => (f === base ? 0 : -Number(f.slice(base.length + 1)));
  files.sort((a, b) => order(a) - order(b));
  const seqs: number[] = [];
  for (const f of files) {
    const text = fs.readFileSync(path.join(dir, f), 'utf8');
    assert.ok(text === '' || text.endsWith('\n'), `${f} ends with a whole line`);
    for (const line of text.split('\n').slice(0, -1)) seqs.push(seqOf(JSON.parse(line)));
  }
  return { files, seqs };
}

test('file sink rotates by size: every line once, whole, in order across the files; no file over the size', async () => {
  const dir = tmpDir('rotate');
  const p = path.join(dir, 'alerts.ndjson');
  const sink = createSink({ type: 'file', path: p, rotateBytes: 8192, keep: 50 }, {});
  for (let i = 0; i < 200; i++) sink.write(alert(i, 'rotate'));
  await sink.flush();
  for (let i = 200; i < 400; i++) sink.write(alert(i, 'rotate'));
  const st = await sink.close();
  balanced(st);
  assert.equal(st.delivered, 400);
  const { files, seqs } = readRotated(p);
  assert.ok(files.length >= 10, `rotated several times: ${files.length} files`);
  assert.ok(files.length <= 51);
  for (const f of files) assert.ok(fs.statSync(path.join(dir, f)).size <= 8192, `${f} within rotateBytes`);
  assert.deepEqual(seqs, range(0, 400));
  fs.rmSync(dir, { recursive: true, force: true });
});

test('file sink honours keep: the oldest files go, what remains is the newest lines, whole and in order', async () => {
  const dir = tmpDir('keep');
  const p = path.join(dir, 'alerts.ndjson');
  const sink = createSink({ type: 'file', path: p, rotateBytes: 4096, keep: 3 }, {});
  for (let i = 0; i < 300; i++) sink.write(alert(i, 'keep'));
  await sink.close();
  const { files, seqs } = readRotated(p);
  assert.deepEqual(files, ['alerts.ndjson.3', 'alerts.ndjson.2', 'alerts.ndjson.1', 'alerts.ndjson']);
  assert.ok(seqs.length > 0 && seqs.length < 300);
  assert.deepEqual(seqs, range(300 - seqs.length, 300));
  fs.rmSync(dir, { recursive: true, force: true });
});

test('file sink rotates by age', async () => {
  const dir = tmpDir('age');
  const p = path.join(dir, 'alerts.ndjson');
  const sink = createSink({ type: 'file', path: p, rotateSeconds: 0.2 }, {});
  for (let i = 0; i < 10; i++) sink.write(alert(i, 'age'));
  await sink.flush();
  await sleep(300); // past rotateSeconds: the next batch starts a new file
  for (let i = 10; i < 20; i++) sink.write(alert(i, 'age'));
  await sink.close();
  const { files, seqs } = readRotated(p);
  assert.deepEqual(files, ['alerts.ndjson.1', 'alerts.ndjson']);
  assert.deepEqual(seqs, range(0, 20));
  assert.equal(fs.readFileSync(`${p}.1`, 'utf8').split('\n').length - 1, 10);
  fs.rmSync(dir, { recursive: true, force: true });
});

// ---------------------------------------------------------------------------------------------------------
// spill and replay

/** A TCP syslog collector in a few lines: RFC 6587 octet-counted frames, each an RFC 5424 message. */
class FrameServer {
  seqs: number[] = [];
  private server: net.Server | null = null;
  private conns = new Set<net.Socket>();

  async start(port: number): Promise<void> {
    this.server = net.createServer((c) => {
      this.conns.add(c);
      c.on('close', () => this.conns.delete(c));
      let buf = Buffer.alloc(0);
      c.on('data', (b: Buffer) => {
        buf = Buffer.concat([buf, b]);
        for (;;) {
          const sp = buf.indexOf(0x20);
          if (sp < 0) break;
          const len = Number(buf.toString('latin1', 0, sp));
          assert.ok(Number.isInteger(len) && len > 0, `octet count, not ${buf.toString('latin1', 0, sp)}`);
          if (buf.length < sp + 1 + len) break;
          const msg = buf.toString('latin1', sp + 1, sp + 1 + len);
          buf = buf.subarray(sp + 1 + len);
          const m = /^<\d{1,3}>1 \S+ \S+ \S+ \S+ \S+ - (\{.*\})$/s.exec(msg);
          assert.ok(m !== null, `an RFC 5424 message: ${msg.slice(0, 100)}`);
          this.seqs.push(seqOf(JSON.parse(m[1])));
        }
      });
    });
    await new Promise<void>((r) => this.server?.listen(port, '127.0.0.1', r));
  }

  async stop(): Promise<void> {
    const srv = this.server;
    this.server = null;
    if (srv === null) return;
    for (const c of this.conns) c.destroy();
    await new Promise<void>((r) => srv.close(() => r()));
  }
}

test('spill: a dead target and a tiny queue spill to disk; when it comes up the spill replays in order; counters add up', async () => {
  const port = await freeTcpPort(); // nothing listens there yet
  const spillDir = tmpDir('spill');
  const mk = (): Sink => createSink({ type: 'syslog', url: `tcp://127.0.0.1:${port}`, confirmMs: 50 }, { queueDocs: 20, spillDir, retryMaxMs: 100 });
  const spillFile = path.join(spillDir, `syslog_tcp___127.0.0.1_${port}.spill.ndjson`);
  const spilled = (): number[] => fs.readFileSync(spillFile, 'utf8').split('\n').slice(0, -1).map((l) => seqOf(JSON.parse(l)));
  const srv = new FrameServer();
  let sink = mk();
  try {
    for (let i = 0; i < 300; i++) sink.write(alert(i, 'spill'));
    // The queue holds 20; the rest is on disk, in order, while the target refuses connections.
    await until('connection attempts to fail', () => sink.stats().retries >= 3);
    let st = sink.stats();
    balanced(st);
    assert.equal(st.delivered, 0);
    assert.equal(st.queued, 20);
    assert.equal(st.spillPending, 280);
    assert.match(st.lastError ?? '', /ECONNREFUSED/);
    await until('the spill file on disk', () => fs.existsSync(spillFile) && spilled().length === 280);
    assert.deepEqual(spilled(), range(20, 300));

    // Up: memory first, then the spill, then what is written meanwhile.
    await srv.start(port);
    for (let i = 300; i < 350; i++) sink.write(alert(i, 'spill'));
    await until('the replay', () => sink.stats().delivered === 350, 1200);
    assert.deepEqual(srv.seqs, range(0, 350));
    st = sink.stats();
    balanced(st);
    assert.equal(st.spillPending, 0);
    assert.ok(st.spilled >= 280);
    assert.equal(fs.statSync(spillFile).size, 0, 'an emptied spill is truncated');

    // Down again, and the sink closed before it comes back: what it held is kept on disk for the next run.
    await srv.stop();
    for (let i = 350; i < 450; i++) sink.write(alert(i, 'spill'));
    st = await sink.close(1500);
    balanced(st);
    assert.equal(st.queued, 0);
    assert.equal(st.spillPending, 100);
    assert.equal(st.delivered, 350);
    assert.deepEqual(spilled(), range(350, 450));

    // The next run replays the leftover before anything new.
    await srv.start(port);
    sink = mk();
    assert.equal(sink.stats().spillPending, 100);
    for (let i = 450; i < 500; i++) sink.write(alert(i, 'spill'));
    await until('the leftover replayed', () => sink.stats().delivered === 150, 1200);
    st = await sink.close();
    balanced(st);
    assert.deepEqual(srv.seqs, range(0, 500));
  } finally {
    await sink.close(100);
    await srv.stop();
    fs.rmSync(spillDir, { recursive: true, force: true });
  }
});

test('syslog UDP: a collector that is not listening (ICMP port unreachable) is retried, spilled, and replayed when it listens', async () => {
  const port = await freeUdpPort();
  const spillDir = tmpDir('spill-udp');
  const sink = createSink({ type: 'syslog', url: `udp://127.0.0.1:${port}`, confirmMs: 100 }, { queueDocs: 10, spillDir, retryMaxMs: 100 });
  const got: number[] = [];
  const listener = dgram.createSocket('udp4');
  try {
    for (let i = 0; i < 50; i++) sink.write(alert(i, 'udp-dead'));
    await until('the refusals to be counted', () => sink.stats().retries >= 3);
    let st = sink.stats();
    balanced(st);
    assert.equal(st.delivered, 0, 'nothing counted as delivered while the kernel says the port is closed');
    assert.match(st.lastError ?? '', /ECONNREFUSED/);
    listener.on('message', (m) => got.push(seqOf(JSON.parse(/ - (\{.*\})$/s.exec(m.toString('latin1'))?.[1] ?? 'null'))));
    await new Promise<void>((r) => listener.bind(port, '127.0.0.1', r));
    await until('all 50 datagrams', () => new Set(got).size === 50 && sink.stats().delivered === 50);
    st = sink.stats();
    balanced(st);
    assert.equal(st.spillPending + st.queued, 0);
    const firsts = got.filter((x, i) => got.indexOf(x) === i);
    assert.deepEqual(firsts, range(0, 50));
  } finally {
    await sink.close(100);
    listener.close();
    fs.rmSync(spillDir, { recursive: true, force: true });
  }
});

test('spill file capped: beyond the cap documents are counted as dropped and lastError says so', async () => {
  const port = await freeTcpPort();
  const spillDir = tmpDir('spillcap');
  const sink = createSink({ type: 'syslog', url: `tcp://127.0.0.1:${port}` }, { queueDocs: 10, spillDir, spillMaxBytes: 20_000 });
  for (let i = 0; i < 200; i++) sink.write(alert(i, 'cap'));
  const st = sink.stats();
  balanced(st);
  assert.equal(st.queued, 10);
  assert.ok(st.spillPending > 10 && st.spillPending < 100, `${st.spillPending} spilled within 20000 bytes`);
  assert.equal(st.dropped, 200 - 10 - st.spillPending);
  assert.match(st.lastError ?? '', /spill file .* is full \(20000 bytes\)/);
  await sink.close(100);
  assert.ok(fs.statSync(path.join(spillDir, `syslog_tcp___127.0.0.1_${port}.spill.ndjson`)).size <= 20_000 + 10 * 1000);
  fs.rmSync(spillDir, { recursive: true, force: true });
});

// ---------------------------------------------------------------------------------------------------------
// the packet path never waits

/** Time spent inside write() for `n` documents, in ns. */
function timeWrites(sink: Sink, docs: EcsDoc[], n: number): number {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) sink.write(docs[i % docs.length]);
  return Number(process.hrtime.bigint() - t0);
}

test('write() to a dead sink costs no more than writing to /dev/null (ratio, not a time)', async (t) => {
  const docs = range(0, 1000).map((i) => alert(i, 'ratio'));
  const N = 100_000;
  const port = await freeTcpPort();
  const best = async (make: () => Sink, includeFlush: boolean): Promise<{ ns: number; st: SinkStats }> => {
    let ns = Infinity;
    let st: SinkStats | null = null;
    for (let round = 0; round < 5; round++) {
      const sink = make();
      // Started, as a sensor's sinks are before the first packet: a network sink's thread boots meanwhile, and
      // on two cores its start-up is not the cost of a write.
      await sleep(200);
      const t0 = process.hrtime.bigint();
      const w = timeWrites(sink, docs, N);
      if (includeFlush) await sink.flush(60_000);
      ns = Math.min(ns, includeFlush ? Number(process.hrtime.bigint() - t0) : w);
      st = sink.stats(); // what the writes did, before close() deals with the rest
      await sink.close(200);
    }
    return { ns, st: st as SinkStats };
  };
  // The baseline: the same documents all the way to /dev/null (serialised and written).
  const devnull = await best(() => createSink({ type: 'file', path: '/dev/null' }, { queueDocs: N }), true);
  assert.equal(devnull.st.delivered, N);
  // A dead TCP collector with a small queue: everything past 100 documents is serialised into the spill file.
  const spillDir = tmpDir('ratio');
  const deadTcp = await best(() => {
    fs.rmSync(spillDir, { recursive: true, force: true });
    return createSink({ type: 'syslog', url: `tcp://127.0.0.1:${port}` }, { queueDocs: 100, spillDir });
  }, false);
  balanced(deadTcp.st);
  assert.ok(deadTcp.st.spilled >= N - 100);
  // A dead HTTP endpoint without a spill directory: the overflow is counted as dropped.
  const deadHttp = await best(() => createSink({ type: 'http', url: `http://127.0.0.1:${port}/_bulk` }, { queueDocs: 100 }), false);
  balanced(deadHttp.st);
  assert.equal(deadHttp.st.dropped, N - 100);
  fs.rmSync(spillDir, { recursive: true, force: true });
  const r1 = deadTcp.ns / devnull.ns;
  const r2 = deadHttp.ns / devnull.ns;
  t.diagnostic(`write 100k: /dev/null ${(devnull.ns / 1e6).toFixed(0)} ms (with flush), dead tcp+spill ${(deadTcp.ns / 1e6).toFixed(0)} ms (ratio ${r1.toFixed(2)}), dead http ${(deadHttp.ns / 1e6).toFixed(0)} ms (ratio ${r2.toFixed(2)})`);
  assert.ok(r1 < 3, `dead tcp sink with spill: ratio ${r1.toFixed(2)}`);
  assert.ok(r2 < 3, `dead http sink: ratio ${r2.toFixed(2)}`);
});

test('stdout sink: NDJSON through a pipe, more than its buffer holds, every line whole and in order', () => {
  // A child process, so that the sink owns a real fd 1: a pipe whose 64 KiB buffer 2000 alerts overflow.
  const code = `
    const { createSink } = require(${JSON.stringify(path.join(__dirname, '..', 'src', 'output', 'sinks', 'sink.js'))});
    const sink = createSink({ type: 'stdout' }, {});
    for (let i = 0; i < 2000; i++) sink.write({ picket: { seq: i, run: 'stdout' }, message: 'x'.repeat(300) });
    sink.close(30000).then((st) => process.stderr.write(JSON.stringify(st)));`;
  const r = spawnSync(process.execPath, ['-e', code], { encoding: 'utf8', maxBuffer: 64 << 20, timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  const st = JSON.parse(r.stderr) as SinkStats;
  balanced(st);
  assert.equal(st.delivered, 2000);
  const lines = r.stdout.split('\n');
  assert.equal(lines.pop(), '');
  assert.deepEqual(lines.map((l) => seqOf(JSON.parse(l))), range(0, 2000));
});

// ---------------------------------------------------------------------------------------------------------
// several at once, and configuration errors

test('fanout: a dead sink does not hold up a live one; counters summed', async () => {
  const dir = tmpDir('fanout');
  const p = path.join(dir, 'alerts.ndjson');
  const port = await freeTcpPort();
  const fan = createFanout([
    createSink({ type: 'file', path: p }, {}),
    createSink({ type: 'syslog', url: `tcp://127.0.0.1:${port}` }, { queueDocs: 10 }),
  ]);
  for (let i = 0; i < 50; i++) fan.write(alert(i, 'fan'));
  await until('the file sink to deliver', () => fs.existsSync(p) && fs.readFileSync(p, 'utf8').split('\n').length - 1 === 50);
  const st = await fan.close(200);
  balanced(st);
  assert.equal(st.accepted, 100);
  assert.equal(st.delivered, 50);
  // 40 past the dead sink's queue of 10, and at close its 10, with no spill directory to keep them in.
  assert.equal(st.dropped, 50);
  assert.match(st.lastError ?? '', /syslog tcp/);
  fs.rmSync(dir, { recursive: true, force: true });
});

test('createSink: bad configuration is a PicketError naming the problem', () => {
  const bad: Array<[Parameters<typeof createSink>[0], RegExp]> = [
    [{ type: 'syslog', url: 'udp://127.0.0.1' }, /bad url/],
    [{ type: 'syslog', url: 'http://127.0.0.1:514' }, /bad url/],
    [{ type: 'syslog', url: 'tcp://127.0.0.1:514', facility: 24 }, /facility/],
    [{ type: 'http', url: 'ftp://127.0.0.1/x' }, /bad url/],
    [{ type: 'http', url: 'not a url' }, /bad url/],
    [{ type: 'file', path: '/dev/null/a.ndjson' }, /cannot open/],
    [{ type: 'file', path: '/dev/null', keep: -1 }, /keep/],
  ];
  for (const [cfg, re] of bad) assert.throws(() => createSink(cfg, {}), (e: unknown) => e instanceof PicketError && re.test(e.message), JSON.stringify(cfg));
  assert.throws(() => createSink({ type: 'stdout' }, { queueDocs: 0 }), PicketError);
});
