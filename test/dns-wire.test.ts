/**
 * DNS messages that other projects' captures hold and picket once lost the question of (issue 15): compression
 * pointers that point forward within the message, messages cut short after the question, and queries with
 * non-zero opcodes (counted by opcode). Each case is a real query captured by pcaps/make.sh (dig's query for
 * shodan.io in pcaps/intel-dns.pcap), edited by hand, and read by tshark and by picket.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { createDnsQuestion, readDnsQuestion } from '../src/app/dns/dns';
import { ethernetPcap, get, PCAPS, picket, tmpDir, tshark } from './helpers';

const SOURCE = path.join(PCAPS, 'intel-dns.pcap');

/** The first DNS query frame of intel-dns.pcap, its pcap record header, and where its DNS message starts. */
function realQuery(): { frame: Buffer; dns: number } {
  const [n] = tshark(SOURCE, 'dns.flags.response == 0', ['frame.number'])[0];
  const d = fs.readFileSync(SOURCE);
  let p = 24;
  for (let i = 1; i < Number(n); i++) p += 16 + d.readUInt32LE(p + 8);
  const frame = Buffer.from(d.subarray(p + 16, p + 16 + d.readUInt32LE(p + 8)));
  assert.equal(frame.readUInt16BE(12), 0x0800);
  assert.equal(frame[23], 17);
  return { frame, dns: 14 + (frame[14] & 15) * 4 + 8 };
}

/** The frame with a new DNS message, IPv4 and UDP lengths set to it (checksums are not checked by either reader). */
function withMessage(frame: Buffer, dns: number, msg: Buffer): Buffer {
  const b = Buffer.concat([frame.subarray(0, dns), msg]);
  b.writeUInt16BE(b.length - 14, 16);
  b.writeUInt16BE(msg.length + 8, dns - 4);
  b.writeUInt16BE(0, dns - 2);
  return b;
}

/** The question name's wire bytes (labels and the root) at the start of the question section. */
function qname(msg: Buffer): Buffer {
  let q = 12;
  while (msg[q] !== 0) q += 1 + msg[q];
  return msg.subarray(12, q + 1);
}

test('a question name that is a forward pointer (to a copy of the name after the question) is read, as tshark reads it', () => {
  const { frame, dns } = realQuery();
  const msg = frame.subarray(dns);
  const name = qname(msg);
  const header = Buffer.from(msg.subarray(0, 12));
  header.writeUInt16BE(0, 10); // no additional records: the name's copy sits after the question, in no section
  const at = 12 + 2 + 4; // after the pointer, QTYPE and QCLASS
  const pointer = Buffer.from([0xc0, at]);
  const forward = Buffer.concat([header, pointer, msg.subarray(12 + name.length, 12 + name.length + 4), name]);
  // A pointer loop (pointing at itself) and a pointer past the message: no name, counted as malformed.
  const loop = Buffer.concat([header, Buffer.from([0xc0, 12]), Buffer.from([0, 1, 0, 1])]);
  const past = Buffer.concat([header, Buffer.from([0xc0, 200]), Buffer.from([0, 1, 0, 1])]);

  const q = createDnsQuestion();
  assert.equal(readDnsQuestion(forward, 0, forward.length, q, false), true);
  assert.equal(q.name, 'shodan.io');
  assert.equal(readDnsQuestion(loop, 0, loop.length, q, false), false);
  assert.equal(readDnsQuestion(past, 0, past.length, q, false), false);

  const dir = tmpDir('dns-forward');
  const file = path.join(dir, 'forward.pcap');
  fs.writeFileSync(file, ethernetPcap([withMessage(frame, dns, forward), withMessage(frame, dns, loop), withMessage(frame, dns, past)]));
  assert.deepEqual(tshark(file, 'frame.number == 1', ['dns.qry.name']), [['shodan.io']]);
  const r = picket(['replay', '--metadata', '--quiet', file]);
  assert.equal(r.code, 0, r.stderr);
  const alerts = r.docs.filter((d) => get(d, 'event.kind') === 'alert');
  assert.deepEqual(alerts.map((d) => [get(d, 'rule.id'), get(d, 'dns.question.name'), get(d, 'picket.packet')]), [['intel.dns', 'shodan.io', 1]]);
  const stats = r.docs.find((d) => get(d, 'event.kind') === 'metric');
  assert.equal(get(stats ?? {}, 'picket.stats.decode.dns_malformed'), 2);
  fs.rmSync(dir, { recursive: true });
});

test('a message cut after its question (its additional record gone, ARCOUNT still 1) still yields the whole question', () => {
  const { frame, dns } = realQuery();
  const msg = frame.subarray(dns);
  assert.equal(msg.readUInt16BE(10), 1, 'dig sent an OPT record');
  const name = qname(msg);
  const cut = Buffer.from(msg.subarray(0, 12 + name.length + 4));
  // And cut inside the question: no question (it was not whole), counted.
  const inside = Buffer.from(msg.subarray(0, 12 + name.length + 2));
  const q = createDnsQuestion();
  assert.equal(readDnsQuestion(cut, 0, cut.length, q, false), true);
  assert.deepEqual([q.name, q.qtype, q.qclass], ['shodan.io', 1, 1]);
  assert.equal(readDnsQuestion(inside, 0, inside.length, q, false), false);

  const dir = tmpDir('dns-cut');
  const file = path.join(dir, 'cut.pcap');
  fs.writeFileSync(file, ethernetPcap([withMessage(frame, dns, cut), withMessage(frame, dns, inside)]));
  assert.deepEqual(tshark(file, 'frame.number == 1', ['dns.qry.name']), [['shodan.io']]);
  const r = picket(['replay', '--quiet', file]);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(r.docs.filter((d) => get(d, 'event.kind') === 'alert').map((d) => [get(d, 'rule.id'), get(d, 'dns.question.name')]), [['intel.dns', 'shodan.io']]);
  fs.rmSync(dir, { recursive: true });
});

test('queries with non-zero opcodes are counted by opcode and never matched against intel', () => {
  const { frame, dns } = realQuery();
  const msg = frame.subarray(dns);
  const opcodes = [1, 2, 3, 6, 6, 15];
  const frames = opcodes.map((op) => {
    const m = Buffer.from(msg);
    m[2] = (m[2] & 0x87) | (op << 3);
    return withMessage(frame, dns, m);
  });
  const dir = tmpDir('dns-opcodes');
  const file = path.join(dir, 'opcodes.pcap');
  fs.writeFileSync(file, ethernetPcap(frames));
  assert.deepEqual(tshark(file, '', ['dns.flags.opcode']).map((x) => Number(x[0])), opcodes);
  const r = picket(['replay', '--metadata', '--quiet', file]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.docs.filter((d) => get(d, 'event.kind') === 'alert').length, 0);
  const stats = r.docs.find((d) => get(d, 'event.kind') === 'metric') ?? {};
  const dnsStats = get(stats, 'picket.stats.dns') as Record<string, number>;
  assert.deepEqual([dnsStats.messages, dnsStats.queries, dnsStats.opcode_iquery, dnsStats.opcode_status, dnsStats.opcode_dso, dnsStats.opcode_other,
    dnsStats.opcode_notify, dnsStats.opcode_update], [6, 0, 1, 1, 2, 2, 0, 0]);
  fs.rmSync(dir, { recursive: true });
});
