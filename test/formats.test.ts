import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { committedCaptures, get, PCAPS, picket, tmpDir, tshark, withoutEventId } from './helpers';

/** frame number -> DNS query name, as picket's --metadata events say. */
function picketQueries(file: string, extra: string[] = []): Map<number, { name: string; ts: string }> {
  const r = picket(['replay', '--metadata', '--quiet', ...extra, file]);
  assert.equal(r.code, 0, r.stderr);
  const out = new Map<number, { name: string; ts: string }>();
  for (const d of r.docs) {
    // Standard questions only: mDNS and LLMNR responses are events too (dns.type answer), and so are NOTIFY and
    // UPDATE requests (dns.op_code).
    if (get(d, 'event.dataset') !== 'picket.dns' || get(d, 'dns.type') !== 'query' || get(d, 'dns.op_code') !== undefined) continue;
    out.set(get(d, 'picket.packet') as number, { name: get(d, 'dns.question.name') as string, ts: get(d, '@timestamp') as string });
  }
  return out;
}

/** The same from tshark: queries (QR=0, standard opcode) with their frame times. */
function tsharkQueries(file: string): Map<number, { name: string; epoch: string }> {
  // LLMNR over TCP 5355 is DNS's format; tshark decodes LLMNR on UDP only unless told.
  const rows = tshark(file, 'dns.flags.response == 0 && dns.flags.opcode == 0', ['frame.number', 'dns.qry.name', 'frame.time_epoch'], ['-d', 'tcp.port==5355,dns']);
  const out = new Map<number, { name: string; epoch: string }>();
  for (const [frame, name, epoch] of rows) out.set(Number(frame), { name: name.toLowerCase(), epoch });
  return out;
}

/** ISO time with µs -> "seconds.micro" as tshark prints epoch times (to µs). */
function isoToEpochMicros(iso: string): string {
  const ms = Date.parse(iso.replace(/\.\d+Z$/, 'Z'));
  const micros = /\.(\d{6})Z$/.exec(iso)?.[1] ?? '000000';
  return `${Math.floor(ms / 1000)}.${micros}`;
}

const captures = committedCaptures();

test('the bundled captures are present (pcaps/make.sh made them)', () => {
  for (const f of ['intel-dns.pcap', 'benign.pcap', 'formats/sll.pcap', 'formats/sll2.pcap', 'formats/rawip.pcap', 'formats/vlan.pcap',
    'formats/qinq.pcap', 'formats/ipv6.pcap', 'formats/ns.pcap', 'formats/multi-if.pcapng', 'formats/null.pcap', 'formats/intel-dns.pcap.gz']) {
    assert.ok(fs.existsSync(path.join(PCAPS, f)), `missing pcaps/${f}`);
  }
});

for (const file of captures) {
  test(`DNS query names and times equal tshark's: ${path.relative(PCAPS, file)}`, () => {
    const ours = picketQueries(file);
    const theirs = tsharkQueries(file);
    // Captures made for DNS must have queries (else the capture is not what the test expects); others may not.
    if (/intel-dns|\/benign\.pcap$|resolver-benign|formats\//.test(file)) assert.ok(theirs.size > 0, 'tshark found no DNS queries');
    assert.deepEqual([...ours.keys()].sort((a, b) => a - b), [...theirs.keys()].sort((a, b) => a - b), 'same frames carry queries');
    for (const [frame, t] of theirs) {
      const o = ours.get(frame);
      assert.ok(o !== undefined);
      assert.equal(o.name, t.name, `frame ${frame}`);
      // tshark prints nanoseconds for ns captures; picket writes microseconds (truncated).
      assert.equal(isoToEpochMicros(o.ts), t.epoch.slice(0, t.epoch.indexOf('.') + 7), `time of frame ${frame}`);
    }
  });
}

/** Rewrites a little-endian classic pcap in big-endian order (what a SPARC or POWER capture host writes). */
function toBigEndian(src: Buffer): Buffer {
  const b = Buffer.from(src);
  assert.equal(b.readUInt32LE(0), 0xa1b2c3d4, 'expects a little-endian µs pcap');
  b.writeUInt32BE(0xa1b2c3d4, 0);
  b.writeUInt16BE(src.readUInt16LE(4), 4);
  b.writeUInt16BE(src.readUInt16LE(6), 6);
  for (const o of [8, 12, 16, 20]) b.writeUInt32BE(src.readUInt32LE(o), o);
  for (let p = 24; p + 16 <= b.length;) {
    const incl = src.readUInt32LE(p + 8);
    for (let k = 0; k < 16; k += 4) b.writeUInt32BE(src.readUInt32LE(p + k), p + k);
    p += 16 + incl;
  }
  return b;
}

test('a big-endian pcap and a gzip-compressed one give the same alerts as the original', () => {
  const orig = path.join(PCAPS, 'intel-dns.pcap');
  const dir = tmpDir('be');
  const be = path.join(dir, 'intel-dns-be.pcap');
  fs.writeFileSync(be, toBigEndian(fs.readFileSync(orig)));
  const a = picket(['replay', '--quiet', orig]);
  const b = picket(['replay', '--quiet', be]);
  const c = picket(['replay', '--quiet', path.join(PCAPS, 'formats', 'intel-dns.pcap.gz')]);
  assert.equal(a.code, 0);
  assert.ok(a.docs.length > 0, 'the original raises alerts');
  assert.deepEqual(b.docs.map(withoutEventId), a.docs.map(withoutEventId));
  assert.deepEqual(c.docs.map(withoutEventId), a.docs.map(withoutEventId));
  fs.rmSync(dir, { recursive: true });
});

test('pcapng with two interfaces of different link types: both are decoded', () => {
  const f = path.join(PCAPS, 'formats', 'multi-if.pcapng');
  const r = picket(['replay', '--metadata', f]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /pcapng/);
  assert.match(r.stderr, /EN10MB/);
  assert.match(r.stderr, /RAW/);
  const ifaces = new Set(tshark(f, 'dns.flags.response == 0', ['frame.interface_id']).map((x) => x[0]));
  assert.ok(ifaces.size >= 2, 'DNS queries on both interfaces');
});

test('a directory replays its captures in the order of their first packets', () => {
  const dir = tmpDir('dir');
  // Named so that name order and time order disagree.
  fs.copyFileSync(path.join(PCAPS, 'intel-dns.pcap'), path.join(dir, 'a-later.pcap'));
  fs.copyFileSync(path.join(PCAPS, 'formats', 'ns.pcap'), path.join(dir, 'b-earlier.pcap'));
  fs.writeFileSync(path.join(dir, 'notes.txt'), 'not a capture\n');
  const times = ['a-later.pcap', 'b-earlier.pcap'].map((f) => Number(tshark(path.join(dir, f), 'frame.number == 1', ['frame.time_epoch'])[0][0]));
  const r = picket(['replay', '--metadata', dir]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /notes\.txt: not a capture, passed over/);
  const ts = r.docs.filter((d) => get(d, 'event.dataset') === 'picket.dns').map((d) => Date.parse(get(d, '@timestamp') as string));
  assert.ok(ts.length > 0);
  const sorted = [...ts].sort((x, y) => x - y);
  if (times[0] !== times[1]) assert.deepEqual(ts, sorted, 'documents come out in packet-time order across files');
  const lines = r.stderr.split('\n').filter((l) => l.includes('.pcap:'));
  const firstListed = lines[0].includes(times[0] < times[1] ? 'a-later' : 'b-earlier');
  assert.ok(firstListed, `the earlier capture is read first:\n${r.stderr}`);
  fs.rmSync(dir, { recursive: true });
});

test('link types PPP, PPP_HDLC, C_HDLC, 802.11 + radiotap and NFLOG: the same questions as the Ethernet capture, and decode events for what carries no IP', () => {
  const dir = path.join(PCAPS, 'linktypes');
  const eth = tsharkQueries(path.join(dir, 'ethernet.pcap'));
  assert.equal(eth.size, 5);
  const names = (m: Map<number, { name: string }>): string[] => [...m.values()].map((v) => v.name).sort();
  const want: Record<string, { linktype: string; decode: Record<string, number> }> = {
    'nflog.pcap': { linktype: 'NFLOG', decode: {} },
    'ppp.pcap': { linktype: 'PPP', decode: { non_ip: 1 } }, // the LCP Echo-Request
    'ppp-hdlc.pcap': { linktype: 'PPP_HDLC', decode: {} },
    'c-hdlc.pcap': { linktype: 'C_HDLC', decode: { non_ip: 1 } }, // the SLARP keepalive
    'radiotap.pcap': { linktype: 'IEEE802_11_RADIO', decode: { non_ip: 1, wifi_protected: 1 } }, // the beacon, the protected frame
  };
  for (const [f, w] of Object.entries(want)) {
    const file = path.join(dir, f);
    // Frame by frame equality with tshark is the per-capture test above; here: the same names as on Ethernet.
    assert.deepEqual(names(picketQueries(file)), names(eth), f);
    const r = picket(['replay', file]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, new RegExp(`\\b${w.linktype}\\b`), `${f}: the summary names the link type`);
    const stats = r.docs.find((d) => get(d, 'event.kind') === 'metric');
    assert.ok(stats !== undefined);
    assert.deepEqual(get(stats, 'picket.stats.decode') ?? {}, w.decode, f);
    assert.equal(get(stats, 'picket.stats.packets'), tshark(file, '', ['frame.number']).length, f);
    assert.deepEqual(r.docs.filter((d) => get(d, 'event.kind') === 'alert').map((d) => get(d, 'rule.id')).sort(),
      ['intel.dns', 'intel.dns', 'intel.dns', 'intel.http'], f);
  }
});
