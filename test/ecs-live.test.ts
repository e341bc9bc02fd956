import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as dgram from 'node:dgram';
import * as path from 'node:path';
import { leafFits, leaves, loadEcsFields } from './ecs-check';
import { dnsQuery, get, ROOT } from './helpers';
import { createVethLab } from './netns';

const BIN = path.join(ROOT, 'bin', 'picket.js');

// --workers 2: a fanout socket per worker; the final stats document then has each socket's counters too.
for (const workers of ['0', '2']) test(`live capture on one interface (--workers ${workers}): exact ECS, with observer.ingress.interface.name`, { timeout: 60_000 }, async () => {
  const ecs = loadEcsFields();
  // No DNS server has to answer: the queries only have to cross lo.
  const proc = spawn(process.execPath, [BIN, 'capture', '-i', 'lo', '--metadata', '--stats-interval', '0', '--bpf', 'udp and dst port 53 and dst host 127.0.0.1', '--count', '3', '--workers', workers], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  proc.stdout.setEncoding('utf8').on('data', (d: string) => { out += d; });
  proc.stderr.setEncoding('utf8').on('data', (d: string) => { err += d; });
  const exited = new Promise<number>((resolve) => proc.on('exit', (c) => resolve(c ?? -1)));
  let done = false;
  void exited.then(() => { done = true; });
  const sock = dgram.createSocket('udp4');
  // Until the capture has its three packets and exits: it may start listening after the first few are sent.
  for (let id = 1; !done && id < 600; id++) {
    sock.send(dnsQuery(id, 'api.shodan.io'), 53, '127.0.0.1');
    await new Promise((r) => setTimeout(r, 50));
  }
  sock.close();
  assert.equal(await exited, 0, err);
  const docs = out.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.ok(docs.filter((d) => get(d, 'event.dataset') === 'picket.dns').length >= 1, out);
  assert.ok(docs.some((d) => get(d, 'rule.id') === 'intel.dns'), 'the live intel.dns alert');
  assert.equal(get(docs[docs.length - 1], 'event.kind'), 'metric');
  const bad: string[] = [];
  for (const d of docs) {
    assert.equal(get(d, 'observer.ingress.interface.name'), 'lo');
    assert.equal(get(d, 'ecs.version'), ecs.ecs_version);
    for (const l of leaves(d, (p) => ecs.fields[p]?.type === 'nested')) {
      if (l.path.startsWith('picket.')) continue;
      const f = ecs.fields[l.path];
      if (f === undefined || !leafFits(f.type, l.value)) bad.push(`${l.path}: ${JSON.stringify(l.value)}`);
    }
  }
  assert.deepEqual(bad, []);
  assert.equal(new Set(docs.map((d) => get(d, 'event.id'))).size, docs.length);
  const sockets = get(docs[docs.length - 1], 'picket.stats.capture.lo.sockets') as Array<Record<string, number>> | undefined;
  if (workers === '0') {
    assert.equal(sockets, undefined);
  } else {
    assert.deepEqual(sockets?.map((x) => x.worker), [0, 1]);
    assert.equal(sockets.reduce((n, x) => n + x.received, 0), get(docs[docs.length - 1], 'picket.stats.capture.lo.received'));
  }
});

// --workers 2: the workers number their own packets; each says which socket each of its batches came from.
for (const workers of ['0', '2']) test(`live capture on two interfaces (--workers ${workers}): each packet's documents name the interface it came in on`, { timeout: 60_000 }, async () => {
  const lab = createVethLab('pkin', '10.231.7.1/24', '10.231.7.2/24');
  const sender = spawn('ip', ['netns', 'exec', lab.nsA, process.execPath, '-e', `
    const s = require('node:dgram').createSocket('udp4');
    const q = ${dnsQuery.toString()};
    let id = 0;
    const t = setInterval(() => {
      s.send(q(++id, 'via-lo.example.org'), 53, '127.0.0.1');
      s.send(q(++id, 'via-veth.example.org'), 53, '10.231.7.2');
      if (id > 1200) clearInterval(t);
    }, 50);`], { stdio: 'ignore' });
  try {
    const r = spawnSync('ip', ['netns', 'exec', lab.nsA, process.execPath, BIN, 'capture', '-i', 'lo', '-i', lab.ifA, '--metadata', '--stats-interval', '0',
      '--bpf', 'udp and dst port 53', '--count', '12', '--workers', workers], { encoding: 'utf8', timeout: 45_000 });
    assert.equal(r.status, 0, r.stderr);
    const docs = r.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
    const via = (name: string): Array<Record<string, unknown>> => docs.filter((d) => get(d, 'dns.question.name') === name);
    assert.ok(via('via-lo.example.org').length >= 1 && via('via-veth.example.org').length >= 1, r.stdout);
    // --count may let the last batch of the other interface through: at least 12.
    const events = docs.filter((d) => get(d, 'event.dataset') === 'picket.dns');
    assert.ok(events.length >= 12, `${events.length} events`);
    assert.equal(via('via-lo.example.org').length + via('via-veth.example.org').length, events.length);
    for (const d of via('via-lo.example.org')) assert.equal(get(d, 'observer.ingress.interface.name'), 'lo');
    for (const d of via('via-veth.example.org')) assert.equal(get(d, 'observer.ingress.interface.name'), lab.ifA);
    // The final counters span both interfaces: none named (picket.stats.capture has them one by one).
    const last = docs[docs.length - 1];
    assert.equal(get(last, 'event.kind'), 'metric');
    assert.equal(get(last, 'observer.ingress'), undefined);
    assert.deepEqual(Object.keys(get(last, 'picket.stats.capture') as object).sort(), [lab.ifA, 'lo'].sort());
  } finally {
    sender.kill('SIGKILL');
    lab.remove();
  }
});
