import assert from 'node:assert/strict';
import * as path from 'node:path';
import { test } from 'node:test';
import { readCaptureFile } from '../src/capture/file';
import { ipv4ToString, ipv6ToString } from '../src/decode/addr';
import { decodePacket } from '../src/decode/decode';
import { createDecodedPacket, IPPROTO_TCP, IPPROTO_UDP } from '../src/core/packet';
import { committedCaptures, PCAPS, prng, tshark } from './helpers';

interface Row {
  src: string;
  dst: string;
  ttl: string;
  proto: string;
  sport: string;
  dport: string;
  flags: string;
  win: string;
  mss: string;
  vlan: string;
}

/** Decodes every packet of a capture with picket's decoders (in process) into tshark-shaped rows. */
async function ourRows(file: string): Promise<Row[]> {
  const pkt = createDecodedPacket();
  const rows: Row[] = [];
  await readCaptureFile(file, (b) => {
    for (let i = 0; i < b.count; i++) {
      decodePacket(b.data, b.offset[i], b.caplen[i], b.origlen[i], b.linktype[i], pkt);
      const v4 = pkt.ipVersion === 4;
      const ip = pkt.ipVersion !== 0;
      const tcp = pkt.proto === IPPROTO_TCP && pkt.fragment !== 2;
      const udp = pkt.proto === IPPROTO_UDP && pkt.fragment !== 2;
      rows.push({
        src: !ip ? '' : v4 ? ipv4ToString(pkt.src4) : ipv6ToString(b.data, pkt.srcAddrOff),
        dst: !ip ? '' : v4 ? ipv4ToString(pkt.dst4) : ipv6ToString(b.data, pkt.dstAddrOff),
        ttl: ip ? String(pkt.ttl) : '',
        proto: ip ? String(pkt.proto) : '',
        sport: tcp || udp ? String(pkt.srcPort) : '',
        dport: tcp || udp ? String(pkt.dstPort) : '',
        flags: tcp ? `0x${pkt.tcpFlags.toString(16).padStart(3, '0')}` : '',
        win: tcp ? String(pkt.tcpWindow) : '',
        mss: tcp && pkt.tcpMss >= 0 ? String(pkt.tcpMss) : '',
        vlan: pkt.vlanOuter >= 0 ? String(pkt.vlanOuter) : '',
      });
    }
  }, { firstOrdinal: 0 });
  return rows;
}

/**
 * The same fields from tshark. The outermost IP header only (tshark lists inner ones of ICMP errors after it); in
 * a tunnelled capture the innermost one (picket decodes the inner packet as if captured directly), and a frame
 * whose tunnel carries no IP (ARP) has no IP fields, as picket leaves the outer packet undescribed.
 */
function theirRows(file: string, tunnelled: boolean): Row[] {
  const f = ['ip.src', 'ipv6.src', 'ip.dst', 'ipv6.dst', 'ip.ttl', 'ipv6.hlim', 'ip.proto', 'ipv6.nxt', 'tcp.srcport', 'udp.srcport',
    'tcp.dstport', 'udp.dstport', 'tcp.flags', 'tcp.window_size_value', 'tcp.options.mss_val', 'vlan.id', 'icmp.type', 'icmpv6.type', 'ieee8021ad.id', 'arp.opcode'];
  return tshark(file, '', f, [], tunnelled ? 'l' : 'f').map((c) => {
    if (tunnelled && c[19] !== '') return { src: '', dst: '', ttl: '', proto: '', sport: '', dport: '', flags: '', win: '', mss: '', vlan: '' };
    const tcpIn = c[8] !== '';
    const quoted = c[16] !== '' || c[17] !== ''; // ports inside an ICMP error belong to the quoted packet
    return {
      src: c[0] || c[1],
      dst: c[2] || c[3],
      ttl: c[4] || c[5],
      proto: c[6] || '',
      sport: quoted ? '' : c[8] || c[9],
      dport: quoted ? '' : c[10] || c[11],
      flags: quoted || !tcpIn ? '' : `0x${Number(c[12]).toString(16).padStart(3, '0')}`,
      win: quoted ? '' : c[13],
      mss: quoted ? '' : c[14],
      vlan: c[18] || c[15], // the outermost tag: 802.1ad when there is one
    };
  });
}

const files = committedCaptures().filter((f) => !f.endsWith('.gz'));

for (const file of files) {
  test(`addresses, TTL, ports, TCP flags, window, MSS and VLAN equal tshark's: ${path.relative(PCAPS, file)}`, async () => {
    const ours = await ourRows(file);
    // pcaps/tunnels: every capture but the ones made without a tunnel.
    const rel = path.relative(PCAPS, file);
    const theirs = theirRows(file, rel.startsWith(`tunnels${path.sep}`) && !['plain.pcap', 'tfo.pcap'].includes(path.basename(file)));
    assert.equal(ours.length, theirs.length, 'packet count');
    for (let i = 0; i < ours.length; i++) {
      const o = ours[i];
      const t = theirs[i];
      // IPv6's next header is the first one (tshark's ipv6.nxt); picket reports the transport after the chain.
      if (t.proto === '') o.proto = '';
      else if (o.proto !== t.proto && t.src.includes(':')) o.proto = t.proto;
      assert.deepEqual(o, t, `frame ${i + 1}`);
    }
  });
}

/** RFC 5952 written the plain way (groups, the first longest run of two or more zero groups as ::, mapped dotted): the reference. */
function rfc5952(b: Uint8Array): string {
  const g = Array.from({ length: 8 }, (_, i) => (b[2 * i] << 8) | b[2 * i + 1]);
  if (g.slice(0, 5).every((x) => x === 0) && g[5] === 0xffff) return `::ffff:${b[12]}.${b[13]}.${b[14]}.${b[15]}`;
  let at = -1;
  let len = 1;
  for (let i = 0; i < 8; i++) {
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > len) [at, len] = [i, j - i];
  }
  const hex = (from: number, to: number): string => g.slice(from, to).map((x) => x.toString(16)).join(':');
  return at < 0 ? hex(0, 8) : `${hex(0, at)}::${hex(at + len, 8)}`;
}

test('IPv6 text: RFC 5952 for random addresses with zero runs anywhere, mapped IPv4, ::, ::1, and at an offset', () => {
  const rand = prng(66);
  const cases: Uint8Array[] = [new Uint8Array(16), Uint8Array.from({ length: 16 }, (_, i) => (i === 15 ? 1 : 0)), Uint8Array.from({ length: 16 }, () => 255)];
  for (let n = 0; n < 20_000; n++) {
    const a = new Uint8Array(16);
    // Each group zero, small (no leading zeros to drop), or random: runs of zeros of every length and place.
    for (let i = 0; i < 8; i++) {
      const kind = rand();
      const v = kind < 0.45 ? 0 : kind < 0.6 ? Math.floor(rand() * 16) : kind < 0.7 ? Math.floor(rand() * 256) : Math.floor(rand() * 65536);
      a[2 * i] = v >> 8;
      a[2 * i + 1] = v & 255;
    }
    if (n % 50 === 0) {
      a.fill(0, 0, 10);
      a[10] = a[11] = 0xff;
    }
    cases.push(a);
  }
  let compressed = 0;
  for (const a of cases) {
    const at = 5 + (a[3] % 7);
    const buf = new Uint8Array(at + 16 + 3);
    buf.set(a, at);
    const text = ipv6ToString(buf, at);
    assert.equal(text, rfc5952(a));
    if (text.includes('::')) compressed++;
  }
  assert.equal(ipv6ToString(new Uint8Array(16), 0), '::');
  assert.equal(ipv6ToString(cases[1], 0), '::1');
  assert.equal(ipv6ToString(cases[2], 0), 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff');
  assert.ok(compressed > 5000 && compressed < cases.length - 1000, `${compressed} of ${cases.length} compressed`);
});
