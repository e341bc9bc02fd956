import assert from 'node:assert/strict';
import * as path from 'node:path';
import { test } from 'node:test';
import { createDnsQuestion, MAX_ANSWER_NAMES, readDnsHeader, readDnsUpdateNames } from '../src/app/dns/dns';
import { get, PCAPS, picket, prng, tshark } from './helpers';

const file = path.join(PCAPS, 'dnsupdate', 'update-notify.pcap');

test('DNS UPDATE and NOTIFY (nsupdate against named): the zone, the prerequisite and update names equal tshark\'s', () => {
  const r = picket(['replay', '--metadata', '--quiet', file]);
  assert.equal(r.code, 0, r.stderr);
  const events = r.docs.filter((d) => get(d, 'event.dataset') === 'picket.dns' && get(d, 'dns.op_code') !== undefined);
  // Requests only (QR=0), not the copies quoted in ICMP errors.
  const theirs = tshark(file, '!icmp && dns.flags.response == 0 && (dns.flags.opcode == 4 || dns.flags.opcode == 5)',
    ['frame.number', 'dns.flags.opcode', 'dns.qry.name', 'dns.count.prerequisites', 'dns.count.updates', 'ip.src']);
  assert.equal(theirs.length, 4, 'two UPDATEs (UDP, TCP) and two NOTIFYs');
  assert.deepEqual(events.map((d) => `${String(get(d, 'picket.packet'))} ${String(get(d, 'dns.op_code'))} ${String(get(d, 'dns.question.name'))} ${String(get(d, 'source.ip'))}`),
    theirs.map(([f, op, zone, , , src]) => `${f} ${op === '5' ? 'UPDATE' : 'NOTIFY'} ${zone} ${src}`));
  for (const [f, op, , pre, upd] of theirs) {
    const d = events.find((e) => String(get(e, 'picket.packet')) === f);
    assert.ok(d !== undefined);
    if (op !== '5') {
      assert.equal(get(d, 'picket.dns'), undefined, 'a NOTIFY has no update names');
      continue;
    }
    const ours = get(d, 'picket.dns.update') as { prerequisites: string[]; updates: string[] };
    assert.equal(ours.prerequisites.length, Number(pre), `frame ${f}: prerequisites`);
    assert.equal(ours.updates.length, Number(upd), `frame ${f}: updates`);
  }
  // The names themselves (tshark: new.lab.test three times, www.lab.test twice, prerequisites first).
  const upd = events.filter((d) => get(d, 'dns.op_code') === 'UPDATE').map((d) => get(d, 'picket.dns.update'));
  assert.deepEqual(upd, [{ prerequisites: ['new.lab.test'], updates: ['new.lab.test', 'new.lab.test'] }, { prerequisites: ['www.lab.test'], updates: ['www.lab.test'] }]);
  // The ordinary queries after them are ordinary events (every one of their responses follows its query: no answer
  // events), and only the question for an intel name alerts.
  assert.deepEqual(r.docs.filter((d) => get(d, 'event.dataset') === 'picket.dns' && get(d, 'dns.op_code') === undefined).map((d) => `${String(get(d, 'dns.type'))} ${String(get(d, 'dns.question.name'))}`),
    ['query new.lab.test', 'query new.lab.test', 'query www.lab.test', 'query api.shodan.io', 'query ns1.lab.test']);
  assert.deepEqual(r.docs.filter((d) => get(d, 'event.kind') === 'alert').map((d) => `${String(get(d, 'rule.id'))} ${String(get(d, 'dns.question.name'))}`), ['intel.dns api.shodan.io']);
});

test('non-QUERY opcodes are counted: NOTIFY, UPDATE and the rest (UDP both ways, TCP requests)', () => {
  const r = picket(['replay', '--quiet', file]);
  assert.equal(r.code, 0, r.stderr);
  const stats = r.docs.find((d) => get(d, 'event.kind') === 'metric');
  assert.ok(stats !== undefined);
  const n = (filter: string): number => tshark(file, `!icmp && (${filter}) && (udp || dns.flags.response == 0)`, ['frame.number']).length;
  assert.equal(get(stats, 'picket.stats.dns.opcode_update'), n('dns.flags.opcode == 5'));
  assert.equal(get(stats, 'picket.stats.dns.opcode_update'), 3);
  assert.equal(get(stats, 'picket.stats.dns.opcode_notify'), n('dns.flags.opcode == 4'));
  assert.equal(get(stats, 'picket.stats.dns.opcode_other'), 0);
  assert.equal(get(stats, 'picket.stats.dns.queries'), 5);
});

test('responses without their queries (the capture with the query packets dropped) still name their questions', () => {
  const only = path.join(PCAPS, 'dnsupdate', 'responses-only.pcap');
  assert.equal(tshark(only, 'dns.flags.response == 0', ['frame.number']).length, 0, 'no query left');
  const r = picket(['replay', '--metadata', '--quiet', only]);
  assert.equal(r.code, 0, r.stderr);
  const ours = r.docs.filter((d) => get(d, 'event.dataset') === 'picket.dns');
  const theirs = tshark(only, 'dns.flags.response == 1 && dns.flags.opcode == 0', ['frame.number', 'dns.qry.name', 'dns.flags.rcode', 'ip.dst']);
  assert.equal(theirs.length, 5);
  assert.deepEqual(ours.map((d) => `${String(get(d, 'picket.packet'))} ${String(get(d, 'dns.type'))} ${String(get(d, 'dns.question.name'))} ${String(get(d, 'source.ip'))}`),
    theirs.map(([f, n, , client]) => `${f} answer ${n} ${client}`), 'one answer event per response, naming the client as source');
  assert.deepEqual(ours.map((d) => get(d, 'dns.response_code')), ['NOERROR', 'NOERROR', 'NXDOMAIN', 'REFUSED', 'NOERROR']);
  assert.deepEqual(ours.map((d) => (get(d, 'dns.answers') as Array<{ name: string }>).length), [1, 1, 0, 0, 1]);
  // An answer is no question: nothing alerts, even for api.shodan.io.
  assert.equal(r.docs.filter((d) => get(d, 'event.kind') === 'alert').length, 0);
  // Without --metadata nothing of this is reported.
  assert.equal(picket(['replay', '--quiet', only]).docs.filter((d) => get(d, 'event.dataset') === 'picket.dns').length, 0);
});

test('update names: bounded per section, reads inside the message, damage never throws', () => {
  // UPDATE for zone z with 1 prerequisite and 40 updates, all owned by a.z (compressed after the first).
  const hdr = Buffer.from([0x12, 0x34, 0x28, 0, 0, 1, 0, 1, 0, 40, 0, 0]);
  const zone = Buffer.from([1, 0x7a, 0, 0, 6, 0, 1]);
  const first = Buffer.from([1, 0x61, 0xc0, 12, 0, 1, 0, 254, 0, 0, 0, 0, 0, 0]);
  const rest = Buffer.from([0xc0, 19, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 10, 0, 0, 1]);
  const msg = Buffer.concat([hdr, zone, first, ...Array.from({ length: 40 }, () => rest)]);
  const h = createDnsQuestion();
  assert.ok(readDnsHeader(msg, 0, msg.length, h));
  const pre: string[] = [];
  const up: string[] = [];
  assert.ok(readDnsUpdateNames(msg, 0, msg.length, h, createDnsQuestion(), pre, up));
  assert.deepEqual(pre, ['a.z']);
  assert.equal(up.length, MAX_ANSWER_NAMES);
  assert.ok(up.every((x) => x === 'a.z'));
  const rand = prng(5);
  for (let k = 0; k < 3000; k++) {
    const b = Buffer.from(msg);
    for (let j = 0; j < 4; j++) b[Math.floor(rand() * b.length)] = Math.floor(rand() * 256);
    const end = Math.floor(rand() * b.length);
    const hh = createDnsQuestion();
    if (!readDnsHeader(b, 0, end, hh)) continue;
    const p2: string[] = [];
    const u2: string[] = [];
    readDnsUpdateNames(b, 0, end, hh, createDnsQuestion(), p2, u2);
    assert.ok(p2.length <= MAX_ANSWER_NAMES && u2.length <= MAX_ANSWER_NAMES);
  }
});
