/**
 * Tunnels (issue 15): pcaps/tunnels/, made by pcaps/make-tunnels.sh. vxlan.pcap and plain.pcap are the same real
 * traffic (dig, curl, openssl s_client, an nmap SYN scan) captured at once on the VXLAN underlay and on the vxlan
 * device; the other tunnels are built by pcaps/encap.py around plain.pcap's frames. picket must see the inner
 * traffic as if it had been captured directly, and nothing of the mirror's own outer flow.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { createDecodedPacket, type DecodedPacket } from '../src/core/packet';
import { decodePacket } from '../src/decode/decode';
import { DECODE_EVENT_COUNT, DecodeEvent, isDecodeError } from '../src/decode/events';
import { ethernetPcap, get, PCAPS, picket, tmpDir, tshark } from './helpers';

const DIR = path.join(PCAPS, 'tunnels');
const file = (f: string): string => path.join(DIR, f);

/** Each tunnelled capture: picket.tunnel's kind and id, the decode counter, tshark's filter for a tunnelled frame. */
const TUNNELS: Record<string, { kind: string; id: number | undefined; counter: string; filter: string; outer: string | undefined }> = {
  'vxlan.pcap': { kind: 'vxlan', id: 42, counter: 'tunnel_vxlan', filter: 'vxlan', outer: '10.98.0.' },
  'geneve.pcap': { kind: 'geneve', id: 7, counter: 'tunnel_geneve', filter: 'geneve', outer: '10.98.0.' },
  'gre-teb.pcap': { kind: 'gre', id: 5, counter: 'tunnel_gre', filter: 'gre', outer: '10.98.0.' },
  'gre-ip6.pcap': { kind: 'gre', id: undefined, counter: 'tunnel_gre', filter: 'gre', outer: 'fd98::' },
  'erspan2.pcap': { kind: 'erspan_ii', id: 100, counter: 'tunnel_erspan_ii', filter: 'erspan', outer: '10.98.0.' },
  'erspan3.pcap': { kind: 'erspan_iii', id: 200, counter: 'tunnel_erspan_iii', filter: 'erspan', outer: '10.98.0.' },
  'mpls.pcap': { kind: 'mpls', id: 1000, counter: 'tunnel_mpls', filter: 'mpls', outer: undefined },
  'pppoe.pcap': { kind: 'pppoe', id: 0x1234, counter: 'tunnel_pppoe', filter: 'pppoes', outer: undefined },
};

type Doc = Record<string, unknown>;

function run(f: string, extra: string[] = []): Doc[] {
  const r = picket(['replay', '--metadata', '--quiet', ...extra, f]);
  assert.equal(r.code, 0, r.stderr);
  return r.docs;
}

const alerts = (docs: Doc[]): Doc[] => docs.filter((d) => get(d, 'event.kind') === 'alert');
const events = (docs: Doc[]): Doc[] => docs.filter((d) => get(d, 'event.kind') === 'event');
const stats = (docs: Doc[]): Doc => {
  const s = docs.find((d) => get(d, 'event.kind') === 'metric');
  assert.ok(s !== undefined);
  return s;
};

/** What an alert says, without the tunnel and the event ids: rule, tool, ends, scan kind. */
function alertKey(d: Doc): string {
  return [get(d, 'rule.id'), get(d, 'rule.name'), get(d, 'threat.software.name') ?? '-', get(d, 'source.ip'), get(d, 'destination.ip') ?? '-',
    get(d, 'picket.intel.indicator') ?? '-'].join(' ');
}

/** The names picket read (DNS questions, HTTP hosts, TLS SNIs), with the packet each came in. */
function picketNames(docs: Doc[]): string[] {
  return events(docs).map((d) => {
    const name = get(d, 'dns.question.name') ?? get(d, 'url.domain') ?? get(d, 'tls.client.server_name');
    return name === undefined ? '' : `${String(get(d, 'picket.packet'))} ${String(name).toLowerCase()}`;
  }).filter((x) => x !== '').sort();
}

/** The same from tshark, innermost packet: DNS queries, HTTP requests' Host, ClientHellos' SNI. */
function tsharkNames(f: string): string[] {
  const rows = tshark(f, '(dns.flags.response == 0 && dns.flags.opcode == 0) || http.request || tls.handshake.type == 1',
    ['frame.number', 'dns.qry.name', 'http.host', 'tls.handshake.extensions_server_name'], [], 'l');
  return rows.map(([n, q, h, s]) => `${n} ${(q || h || s).toLowerCase()}`).sort();
}

const plainDocs = run(file('plain.pcap'));

test('the plain capture: intel alerts for DNS, HTTP and TLS, and the nmap scan (the reference for the tunnels)', () => {
  const rules = new Set(alerts(plainDocs).map((d) => get(d, 'rule.id')));
  for (const r of ['intel.dns', 'intel.http', 'intel.tls', 'scan.port', 'scan.tool']) assert.ok(rules.has(r), `plain.pcap raises ${r}: ${[...rules].join(' ')}`);
  assert.ok(alerts(plainDocs).some((d) => get(d, 'threat.software.name') === 'nmap'));
  assert.equal(alerts(plainDocs).filter((d) => get(d, 'picket.tunnel') !== undefined).length, 0);
});

for (const [f, t] of Object.entries(TUNNELS)) {
  test(`${f}: the same alerts as without the tunnel, the inner names tshark reads, picket.tunnel on every document`, () => {
    const docs = run(file(f));
    const ours = alerts(docs);
    assert.ok(ours.length >= 10, `${ours.length} alerts`);
    assert.deepEqual(ours.map(alertKey).sort(), alerts(plainDocs).map(alertKey).sort());

    // Frame numbers differ from plain.pcap's only where the tunnel dropped frames (encap.py keeps IP only for
    // some kinds): compare names with tshark on this file, and the names alone with the plain capture.
    const names = picketNames(docs);
    assert.ok(names.length >= 7, names.join(', '));
    assert.deepEqual(names, tsharkNames(file(f)));
    const bare = (xs: string[]): string[] => xs.map((x) => x.split(' ')[1]).sort();
    assert.deepEqual(bare(names), bare(picketNames(plainDocs)));

    for (const d of [...ours, ...events(docs)]) {
      assert.equal(get(d, 'picket.tunnel.kind'), t.kind, alertKey(d));
      assert.equal(get(d, 'picket.tunnel.id'), t.id);
      assert.equal(get(d, 'picket.tunnel.depth'), 1);
      const outer = [get(d, 'picket.tunnel.outer_source_ip'), get(d, 'picket.tunnel.outer_destination_ip')];
      if (t.outer === undefined) assert.deepEqual(outer, [undefined, undefined]);
      else assert.ok(outer.every((a) => typeof a === 'string' && a.startsWith(t.outer!)), String(outer));
    }

    // The outer flow raises nothing: every address named is an inner one.
    for (const d of docs) {
      for (const k of ['source.ip', 'destination.ip']) {
        const a = get(d, k);
        if (a !== undefined) assert.match(String(a), /^10\.99\.0\./, `${k} of ${alertKey(d)}`);
      }
    }
    // Counted: one per tunnelled frame (tshark's count), and no decode error.
    const decode = get(stats(docs), 'picket.stats.decode') as Record<string, number>;
    assert.equal(decode[t.counter], tshark(file(f), t.filter, ['frame.number']).length);
    assert.equal(get(stats(docs), 'picket.stats.decode_errors'), 0);
  });
}

test('VXLAN and GENEVE ports are policy: moved elsewhere, the same frames are a plain UDP flow that raises nothing', () => {
  const dir = tmpDir('tunnel-ports');
  fs.writeFileSync(path.join(dir, 'ports.yaml'), 'kind: policy\ntunnels:\n  vxlan_ports: [8472]\n  geneve_ports: [6082]\n');
  for (const f of ['vxlan.pcap', 'geneve.pcap']) {
    const docs = run(file(f), ['--rules', dir]);
    assert.deepEqual(alerts(docs).map(alertKey), [], f);
    const decode = get(stats(docs), 'picket.stats.decode') as Record<string, number>;
    assert.equal(decode[TUNNELS[f].counter], undefined, f);
  }
  // And a user's port is honoured: GENEVE's frames on the port given for it, VXLAN's not on GENEVE's.
  fs.writeFileSync(path.join(dir, 'ports.yaml'), 'kind: policy\ntunnels:\n  vxlan_ports: [6081]\n  geneve_ports: [4789]\n');
  const swapped = run(file('vxlan.pcap'), ['--rules', dir]);
  assert.equal(alerts(swapped).length, 0, 'VXLAN read as GENEVE is not GENEVE (version/length checks) and yields nothing');
  fs.writeFileSync(path.join(dir, 'ports.yaml'), 'kind: policy\ntunnels:\n  vxlan_ports: [4789]\n  geneve_ports: [4789]\n');
  const bad = picket(['replay', '--rules', dir, file('vxlan.pcap')]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /ports\.yaml:\d+: port 4789 is in both/);
  fs.writeFileSync(path.join(dir, 'ports.yaml'), 'kind: policy\ntunnels:\n  vxlan_ports: [70000]\n');
  assert.match(picket(['replay', '--rules', dir, file('vxlan.pcap')]).stderr, /ports\.yaml:3: "tunnels\.vxlan_ports" must be a list of port numbers/);
  fs.rmSync(dir, { recursive: true });
});

test('picket\'s flow key is the inner packet\'s: with 2 workers the tunnelled captures give the same alerts', () => {
  for (const f of ['vxlan.pcap', 'erspan3.pcap']) {
    const one = alerts(run(file(f))).map(alertKey).sort();
    const two = alerts(run(file(f), ['--workers', '2'])).map(alertKey).sort();
    assert.ok(one.length >= 10);
    assert.deepEqual(two, one, f);
  }
});

/** The index of a capture's first DNS query frame (0-based). */
function firstQuery(f: string): number {
  return Number(tshark(f, 'dns.flags.response == 0', ['frame.number'])[0][0]) - 1;
}

/** The frames of a little-endian pcap. */
function frames(f: string): Buffer[] {
  const d = fs.readFileSync(f);
  const out: Buffer[] = [];
  for (let p = 24; p + 16 <= d.length; p += 16 + d.readUInt32LE(p + 8)) out.push(d.subarray(p + 16, p + 16 + d.readUInt32LE(p + 8)));
  return out;
}

const TUNNEL_ERRORS = new Set<number>([
  DecodeEvent.TUNNEL_TOO_DEEP, DecodeEvent.VXLAN_TRUNCATED, DecodeEvent.VXLAN_BAD_FLAGS, DecodeEvent.GENEVE_TRUNCATED,
  DecodeEvent.GENEVE_BAD_VERSION, DecodeEvent.GENEVE_BAD_OPTIONS, DecodeEvent.GRE_TRUNCATED, DecodeEvent.GRE_BAD_VERSION,
  DecodeEvent.GRE_ROUTING, DecodeEvent.ERSPAN_TRUNCATED, DecodeEvent.ERSPAN_BAD_VERSION, DecodeEvent.MPLS_TRUNCATED,
  DecodeEvent.MPLS_TOO_DEEP, DecodeEvent.MPLS_UNKNOWN_PAYLOAD, DecodeEvent.PPPOE_TRUNCATED, DecodeEvent.PPPOE_MALFORMED,
]);

test('cut and damaged tunnel headers: a named decode event, never a throw, and the outer packet is not left as IP', () => {
  const pkt = createDecodedPacket();
  const seen = new Set<number>();
  for (const f of Object.keys(TUNNELS)) {
    // A DNS query frame of each capture, cut at every length (snap length not claimed: the headers lie).
    const fr = frames(file(f))[firstQuery(file(f))];
    for (let cut = 0; cut < fr.length; cut++) {
      const r = decodePacket(fr, 0, cut, cut, 1, pkt);
      assert.ok(r >= 0 && r < DECODE_EVENT_COUNT, `${f} cut ${cut}: ${r}`);
      if (TUNNEL_ERRORS.has(r)) {
        seen.add(r);
        assert.ok(isDecodeError(r));
        assert.equal(pkt.ipVersion, 0, `${f} cut ${cut}: a broken tunnel leaves no IP packet behind`);
        assert.equal(pkt.proto, 0);
      }
    }
  }
  for (const e of [DecodeEvent.VXLAN_TRUNCATED, DecodeEvent.GENEVE_TRUNCATED, DecodeEvent.GENEVE_BAD_OPTIONS, DecodeEvent.GRE_TRUNCATED,
    DecodeEvent.ERSPAN_TRUNCATED, DecodeEvent.MPLS_TRUNCATED, DecodeEvent.PPPOE_TRUNCATED, DecodeEvent.PPPOE_MALFORMED]) {
    assert.ok(seen.has(e), `cutting the captures meets event ${e}`);
  }
});

/** A copy of a capture's first DNS query frame with bytes changed (offset -> value). */
function edited(f: string, at: Record<number, number>): Buffer {
  const b = Buffer.from(frames(file(f))[firstQuery(file(f))]);
  for (const [k, v] of Object.entries(at)) b[Number(k)] = v;
  return b;
}

test('hostile tunnel headers, edited by hand from real frames: each gives its event', () => {
  const pkt = createDecodedPacket();
  const code = (b: Buffer): number => decodePacket(b, 0, b.length, b.length, 1, pkt);
  // Ethernet 14 + IPv4 20 (+ UDP 8) before each tunnel header in these captures.
  assert.equal(code(edited('vxlan.pcap', { 42: 0x00 })), DecodeEvent.VXLAN_BAD_FLAGS);
  assert.equal(code(edited('geneve.pcap', { 42: 0x80 })), DecodeEvent.GENEVE_BAD_VERSION);
  assert.equal(code(edited('geneve.pcap', { 42: 0x3f })), DecodeEvent.GENEVE_BAD_OPTIONS); // 252 bytes of options
  assert.equal(code(edited('gre-teb.pcap', { 35: 0x02 })), DecodeEvent.GRE_BAD_VERSION);
  assert.equal(code(edited('gre-teb.pcap', { 34: 0x70 })), DecodeEvent.GRE_ROUTING);
  assert.equal(code(edited('erspan2.pcap', { 42: 0x20 })), DecodeEvent.ERSPAN_BAD_VERSION);
  assert.equal(code(edited('erspan3.pcap', { 42: 0x10 })), DecodeEvent.ERSPAN_BAD_VERSION);
  assert.equal(code(edited('pppoe.pcap', { 14: 0x12 })), DecodeEvent.PPPOE_MALFORMED);
  assert.equal(code(edited('mpls.pcap', { 22: 0x90 })), DecodeEvent.MPLS_UNKNOWN_PAYLOAD); // the packet after the stack
  // A label stack with no bottom: every entry's S bit cleared, the stack runs into the IP header and beyond.
  const noBottom = edited('mpls.pcap', {});
  for (let p = 14; p + 4 <= noBottom.length; p += 4) noBottom[p + 2] &= 0xfe;
  assert.ok([DecodeEvent.MPLS_TOO_DEEP, DecodeEvent.MPLS_TRUNCATED].includes(code(noBottom) as 47 | 48));
  for (const b of [edited('vxlan.pcap', { 42: 0x00 }), noBottom]) {
    code(b);
    assert.equal(pkt.ipVersion, 0);
  }
});

/** VXLAN around a frame n times, with the real frame's own outer headers (Ethernet + IPv4 + UDP + VXLAN: 50 bytes). */
function nested(n: number): Buffer {
  const fr = frames(file('vxlan.pcap'))[firstQuery(file('vxlan.pcap'))];
  const outer = fr.subarray(0, 50);
  let b = Buffer.from(fr.subarray(50));
  for (let i = 0; i < n; i++) {
    const h = Buffer.from(outer);
    h.writeUInt16BE(20 + 8 + 8 + b.length, 16); // IPv4 total length
    h.writeUInt16BE(8 + 8 + b.length, 38); // UDP length
    b = Buffer.concat([h, b]);
  }
  return b;
}

test('nesting is bounded by policy tunnels.max_depth: four deep decode, five are counted and not decoded', () => {
  const pkt: DecodedPacket = createDecodedPacket();
  assert.equal(pkt.maxTunnelDepth, 4);
  const four = nested(4);
  assert.equal(decodePacket(four, 0, four.length, four.length, 1, pkt), 0);
  assert.deepEqual([pkt.tunnelDepth, pkt.ipVersion, pkt.dstPort], [4, 4, 53]);
  const five = nested(5);
  assert.equal(decodePacket(five, 0, five.length, five.length, 1, pkt), DecodeEvent.TUNNEL_TOO_DEEP);
  assert.equal(pkt.ipVersion, 0);
  pkt.maxTunnelDepth = 1;
  assert.equal(decodePacket(four, 0, four.length, four.length, 1, pkt), DecodeEvent.TUNNEL_TOO_DEEP);

  // Through the CLI, with the bound from a policy file: the counters say what happened.
  const dir = tmpDir('tunnel-depth');
  const pcap = path.join(dir, 'nested.pcap');
  fs.writeFileSync(pcap, ethernetPcap([four, five]));
  const decode = (extra: string[]): Record<string, number> => get(stats(run(pcap, extra)), 'picket.stats.decode') as Record<string, number>;
  assert.deepEqual(decode([]), { tunnel_vxlan: 2, tunnel_too_deep: 1 });
  fs.writeFileSync(path.join(dir, 'depth.yaml'), 'kind: policy\ntunnels:\n  max_depth: 8\n');
  assert.deepEqual(decode(['--rules', dir]), { tunnel_vxlan: 2 });
  fs.rmSync(dir, { recursive: true });
});

test('TCP Fast Open: requests and ClientHellos sent in the SYN are read, the same names as tshark reads', () => {
  const f = file('tfo.pcap');
  const docs = run(f);
  const names = picketNames(docs);
  assert.deepEqual(names, tsharkNames(f));
  // The SYNs that carry data (curl's second and later TFO connections) are among the packets names came from.
  const synData = tshark(f, 'tcp.flags.syn == 1 && tcp.flags.ack == 0 && tcp.len > 0', ['frame.number']).map((r) => r[0]);
  assert.equal(synData.length, 4);
  const packets = new Set(names.map((n) => n.split(' ')[0]));
  for (const n of synData) assert.ok(packets.has(n), `the name in SYN frame ${n} is read from that frame`);
});

test('TCP Fast Open: a ClientHello begun in the SYN and finished in the next segment is reassembled from the SYN on', () => {
  // The real TFO SYN with the ClientHello, its data cut in two by hand: the SYN keeps the first 60 bytes, a
  // following segment (sequence number one past the SYN's, plus 60) the rest.
  const f = file('tfo.pcap');
  const [frame] = tshark(f, 'tcp.flags.syn == 1 && tcp.flags.ack == 0 && tcp.len > 0 && tls.handshake.type == 1', ['frame.number'])[0];
  const syn = frames(f)[Number(frame) - 1];
  const ipLen = (syn[14] & 15) * 4;
  const tcp = 14 + ipLen;
  const dataOff = tcp + (syn[tcp + 12] >> 4) * 4;
  const data = syn.subarray(dataOff);
  assert.ok(data.length > 200);
  const seg = (payload: Buffer, seq: number, flags: number, header: Buffer): Buffer => {
    const b = Buffer.concat([header, payload]);
    b.writeUInt16BE(b.length - 14, 16);
    b.writeUInt32BE(seq >>> 0, tcp + 4);
    b[tcp + 13] = flags;
    return b;
  };
  const isn = syn.readUInt32BE(tcp + 4);
  const header = Buffer.from(syn.subarray(0, dataOff));
  const noOpts = Buffer.from(syn.subarray(0, tcp + 20));
  noOpts[tcp + 12] = 0x50;
  const first = seg(data.subarray(0, 60), isn, 0x02, header);
  const rest = seg(data.subarray(60), isn + 1 + 60, 0x18, noOpts);
  const pkt = createDecodedPacket();
  for (const b of [first, rest]) {
    assert.equal(decodePacket(b, 0, b.length, b.length, 1, pkt), 0);
  }
  const dir = tmpDir('tfo-split');
  const pcap = path.join(dir, 'split.pcap');
  fs.writeFileSync(pcap, ethernetPcap([first, rest]));
  const sni = events(run(pcap)).map((d) => get(d, 'tls.client.server_name'));
  assert.deepEqual(sni, [tshark(f, `frame.number == ${frame}`, ['tls.handshake.extensions_server_name'])[0][0]]);
  fs.rmSync(dir, { recursive: true });
});
