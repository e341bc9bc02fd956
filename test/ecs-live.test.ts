import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as dgram from 'node:dgram';
import * as path from 'node:path';
import { leafFits, leaves, loadEcsFields } from './ecs-check';
import { get, ROOT } from './helpers';

const BIN = path.join(ROOT, 'bin', 'picket.js');

/** A DNS query for `name` (type A), as a resolver sends it. */
function dnsQuery(id: number, name: string): Buffer {
  const labels = name.split('.').map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)]));
  const head = Buffer.alloc(12);
  head.writeUInt16BE(id, 0);
  head.writeUInt16BE(0x0100, 2);
  head.writeUInt16BE(1, 4);
  return Buffer.concat([head, ...labels, Buffer.from([0, 0, 1, 0, 1])]);
}

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
