import assert from 'node:assert/strict';
import * as path from 'node:path';
import { test } from 'node:test';
import { readCaptureFile } from '../src/capture/file';
import { ipv4ToString, ipv6ToString } from '../src/decode/addr';
import { decodePacket } from '../src/decode/decode';
import { createDecodedPacket, IPPROTO_TCP, IPPROTO_UDP } from '../src/core/packet';
import { committedCaptures, PCAPS, tshark } from './helpers';

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
