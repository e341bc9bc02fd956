import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { test } from 'node:test';
import { createDnsQuestion, MAX_ANSWER_NAMES, readDnsAnswerNames, readDnsHeader } from '../src/app/dns/dns';
import { get, PCAPS, picket, prng, tshark } from './helpers';

const file = path.join(PCAPS, 'mdns', 'mdns-llmnr.pcap');
/** tshark decodes LLMNR on UDP 5355 only; over TCP the same format is DNS to it. */
const TCP_LLMNR = ['-d', 'tcp.port==5355,dns'];

test('mDNS and LLMNR questions and answers: the --metadata events name what tshark decodes, frame by frame', () => {
  const r = picket(['replay', '--metadata', '--quiet', file]);
  assert.equal(r.code, 0, r.stderr);
  const events = r.docs.filter((d) => get(d, 'event.dataset') === 'picket.dns');
  const mdnsFrames = new Set(tshark(file, 'udp.srcport == 5353 || udp.dstport == 5353', ['frame.number']).map(([f]) => f));
  const proto = (frame: string): string => (mdnsFrames.has(frame) ? 'mdns' : 'llmnr');

  const theirQ = tshark(file, 'dns.flags.response == 0', ['frame.number', 'dns.qry.name', 'dns.qry.type'], TCP_LLMNR);
  const ourQ = events.filter((d) => get(d, 'dns.type') === 'query');
  assert.equal(theirQ.length, 10, 'the capture has 10 questions');
  assert.deepEqual(ourQ.map((d) => `${String(get(d, 'picket.packet'))} ${String(get(d, 'dns.question.name'))} ${String(get(d, 'network.protocol'))}`),
    theirQ.map(([f, n]) => `${f} ${n.toLowerCase()} ${proto(f)}`));

  // Answers: every answer record's owner name and type, as tshark lists them (dns.resp.name, all occurrences).
  // Every occurrence of dns.resp.name (the helper asks for the first only).
  const all = spawnSync('tshark', ['-n', '-r', file, ...TCP_LLMNR, '-Y', 'dns.flags.response == 1', '-T', 'fields', '-E', 'separator=\t', '-E', 'occurrence=a',
    '-E', 'aggregator=|', '-e', 'frame.number', '-e', 'dns.qry.name', '-e', 'dns.resp.name'], { encoding: 'utf8' });
  assert.equal(all.status, 0, all.stderr);
  const theirA = all.stdout.split('\n').filter((l) => l !== '').map((l) => l.split('\t'));
  const ourA = events.filter((d) => get(d, 'dns.type') === 'answer');
  assert.equal(theirA.length, 7, 'the capture has 7 answers');
  // tshark prints a value repeated in one frame once (the SRV and TXT records share their owner): so are ours here;
  // the record count is checked by the types below.
  const names = (d: Record<string, unknown>): string => [...new Set((get(d, 'dns.answers') as Array<{ name: string }>).map((a) => a.name.replace(/\\032/g, ' ')))].join('|');
  assert.deepEqual(ourA.map((d) => `${String(get(d, 'picket.packet'))} ${String(get(d, 'dns.question.name') ?? '')} ${names(d)} ${String(get(d, 'network.protocol'))}`),
    theirA.map(([f, q, n]) => `${f} ${q.toLowerCase()} ${n.toLowerCase()} ${proto(f)}`));
  const types = ourA.map((d) => (get(d, 'dns.answers') as Array<{ type: string }>).map((a) => a.type).join('|'));
  assert.deepEqual(types, ['A', 'PTR|SRV|TXT|A', 'AAAA', 'A', 'A', 'AAAA', 'A']);
  for (const d of ourA) assert.equal(get(d, 'dns.response_code'), 'NOERROR');
  // The QU question (its class has the unicast-response bit) is read as any other.
  assert.equal(tshark(file, 'mdns && dns.qry.qu == 1', ['dns.qry.name'])[0][0], '_http._tcp.local');
});

test('mDNS and LLMNR questions for intel names raise intel.dns (same rule and branch as DNS); answers and local names raise nothing', () => {
  const r = picket(['replay', '--quiet', file]);
  assert.equal(r.code, 0, r.stderr);
  const alerts = r.docs.filter((d) => get(d, 'event.kind') === 'alert');
  assert.deepEqual(alerts.map((d) => `${String(get(d, 'rule.id'))} ${String(get(d, 'dns.question.name'))} ${String(get(d, 'network.protocol'))} ${String(get(d, 'picket.branch'))}`),
    ['intel.dns api.shodan.io mdns IPIntelDNSLookup', 'intel.dns search.censys.io llmnr IPIntelDNSLookup']);
  const stats = r.docs.find((d) => get(d, 'event.kind') === 'metric');
  assert.ok(stats !== undefined);
  // 9 mDNS and 8 LLMNR messages (tshark's count of each), 10 questions, no decode event.
  assert.equal(get(stats, 'picket.stats.dns.mdns'), tshark(file, 'mdns', ['frame.number']).length);
  assert.equal(get(stats, 'picket.stats.dns.llmnr'), tshark(file, 'llmnr || (tcp.port == 5355 && dns)', ['frame.number'], TCP_LLMNR).length);
  assert.equal(get(stats, 'picket.stats.dns.queries'), 10);
  assert.deepEqual(get(stats, 'picket.stats.decode') ?? {}, {});
});

test('answer names: bounded count, every read inside the message, damage never throws', () => {
  // A response with 40 answer records for a.local (compressed after the first): MAX_ANSWER_NAMES are listed.
  const rec = (first: boolean): Buffer => Buffer.concat([first ? Buffer.from([1, 0x61, 5, ...Buffer.from('local'), 0]) : Buffer.from([0xc0, 12]),
    Buffer.from([0, 1, 0x80, 1, 0, 0, 0, 120, 0, 4, 10, 0, 0, 1])]);
  const msg = Buffer.concat([Buffer.from([0, 0, 0x84, 0, 0, 0, 0, 40, 0, 0, 0, 0]), rec(true), ...Array.from({ length: 39 }, () => rec(false))]);
  const h = createDnsQuestion();
  assert.ok(readDnsHeader(msg, 0, msg.length, h));
  const out: Array<{ name: string; type: number }> = [];
  assert.ok(readDnsAnswerNames(msg, 0, msg.length, h, createDnsQuestion(), out));
  assert.equal(out.length, MAX_ANSWER_NAMES);
  assert.ok(out.every((a) => a.name === 'a.local' && a.type === 1));
  // The first record is 23 bytes (a 9-byte name and 14 of type, class, TTL, length and address).
  for (let cut = 12; cut < 12 + 23; cut++) {
    const part: Array<{ name: string; type: number }> = [];
    assert.equal(readDnsAnswerNames(msg, 0, cut, h, createDnsQuestion(), part), false, `cut at ${cut}`);
    assert.equal(part.length, 0);
  }
  const rand = prng(18);
  for (let n = 0; n < 3000; n++) {
    const b = Buffer.from(msg);
    for (let k = 0; k < 4; k++) b[Math.floor(rand() * b.length)] = Math.floor(rand() * 256);
    const end = Math.floor(rand() * b.length);
    const hh = createDnsQuestion();
    if (!readDnsHeader(b, 0, end, hh)) continue;
    const o: Array<{ name: string; type: number }> = [];
    readDnsAnswerNames(b, 0, end, hh, createDnsQuestion(), o);
    assert.ok(o.length <= MAX_ANSWER_NAMES);
  }
});
