import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { spawnSync } from 'node:child_process';
import { committedCaptures, get, PCAPS, picket, requireTool, tmpDir, tshark } from './helpers';

const intel = path.join(PCAPS, 'intel-dns.pcap');
const quic = path.join(PCAPS, 'quic', 'quic-v1.pcap');
const split = path.join(PCAPS, 'tls-split.pcap');
const nmap = path.join(PCAPS, 'nmap-syn.pcap');

const byKind = (docs: Array<Record<string, unknown>>, dataset: string): string[] =>
  docs.filter((d) => get(d, 'event.dataset') === dataset).map((d) => String(get(d, 'tls.client.server_name') ?? '-')).sort();

for (const file of committedCaptures().filter((f) => !f.endsWith('.gz'))) {
  test(`ClientHello SNIs (TLS over TCP, and QUIC Initials decrypted) equal tshark's: ${path.relative(PCAPS, file)}`, () => {
    const r = picket(['replay', '--metadata', '--quiet', file]);
    assert.equal(r.code, 0, r.stderr);
    // tshark decrypts QUIC Initials too; it also lists later (retransmitted) Initials, picket one hello a flow.
    // picket finds TLS by content on any port; tshark by port: tell it the HTTP ports may carry TLS too (nmap -sV
    // and NSE send ClientHellos to port 80 and 8080).
    const rows = tshark(file, 'tls.handshake.type == 1', ['tcp.stream', 'udp.stream', 'tls.handshake.extensions_server_name'], ['-d', 'tcp.port==80,tls', '-d', 'tcp.port==8080,tls']);
    const perFlow = new Map<string, string>();
    for (const [t, u, sni] of rows) perFlow.set(t !== '' ? `t${t}` : `u${u}`, sni === '' ? '-' : sni);
    const tcpTheirs = [...perFlow].filter(([k]) => k.startsWith('t')).map(([, v]) => v).sort();
    const udpTheirs = [...perFlow].filter(([k]) => k.startsWith('u')).map(([, v]) => v).sort();
    assert.deepEqual(byKind(r.docs, 'picket.tls'), tcpTheirs);
    assert.deepEqual(byKind(r.docs, 'picket.quic'), udpTheirs);
  });
}

test('intel.tls on an SNI under an intel domain, including a ClientHello split over two segments and two records', () => {
  const a = picket(['replay', '--quiet', intel]).docs.filter((d) => get(d, 'rule.id') === 'intel.tls');
  assert.deepEqual(a.map((d) => get(d, 'tls.client.server_name')), ['api.shodan.io']);
  const d = a[0];
  assert.equal(get(d, 'picket.branch'), 'IPIntelTLSConnect');
  assert.equal(get(d, 'destination.domain'), 'api.shodan.io');
  assert.equal(get(d, 'threat.enrichments.0.matched.field'), 'tls.client.server_name');
  assert.match(get(d, 'picket.tls.ja4') as string, /^t1[23]d\d{4}[0-9a-z]{2}_[0-9a-f]{12}_[0-9a-f]{12}$/);
  assert.equal(get(d, 'network.protocol'), 'tls');

  const segs = tshark(split, 'tls.handshake.type == 1', ['tcp.segment.count', 'tls.handshake.extensions_server_name']);
  assert.ok(Number(segs[0][0]) >= 2, 'the capture really splits the hello');
  const s = picket(['replay', '--quiet', split]).docs.filter((x) => get(x, 'rule.id') === 'intel.tls');
  assert.deepEqual(s.map((x) => get(x, 'tls.client.server_name')), [segs[0][1]]);
});

test('intel.quic on a QUIC Initial\'s SNI, including a ClientHello spread over two Initials; silent on the benign one', () => {
  const r = picket(['replay', '--quiet', quic]);
  const q = r.docs.filter((d) => get(d, 'rule.id') === 'intel.quic');
  assert.ok(q.length >= 1);
  assert.ok(q.every((d) => get(d, 'tls.client.server_name') === 'api.shodan.io'));
  assert.equal(get(q[0], 'network.transport'), 'udp');
  assert.equal(get(q[0], 'network.protocol'), 'quic');
  assert.match(get(q[0], 'picket.tls.ja4') as string, /^q13d/);
  const m = picket(['replay', '--metadata', '--quiet', quic]);
  const events = m.docs.filter((d) => get(d, 'event.dataset') === 'picket.quic');
  assert.ok(events.some((d) => get(d, 'tls.client.server_name') === 'www.example.org' && get(d, 'network.type') === 'ipv6'),
    'the IPv6 hello that spans two Initials is read');
  assert.ok(!r.docs.some((d) => get(d, 'event.kind') === 'alert' && get(d, 'tls.client.server_name') === 'www.example.org'));
});

test('intel.conn: connections that name no host, to an address a DNS answer tied to an intel name, or to an intel address', () => {
  // nmap's SYNs from the same client, after its DNS answers for intel names pointed at 10.77.0.1.
  const syns = tshark(nmap, 'ip.dst == 10.77.0.1 && tcp.flags.syn == 1 && tcp.flags.ack == 0', ['frame.number']).length;
  const r = picket(['replay', '--quiet', intel, nmap]);
  const conn = r.docs.filter((d) => get(d, 'rule.id') === 'intel.conn');
  assert.ok(conn.length >= 1);
  for (const d of conn) {
    assert.equal(get(d, 'destination.ip'), '10.77.0.1');
    assert.equal(get(d, 'picket.intel.via'), 'dns-answer');
    assert.equal(get(d, 'picket.branch'), 'IPIntelConnection');
    assert.equal(typeof get(d, 'destination.domain'), 'string');
  }
  const total = conn.reduce((n, d) => n + (get(d, 'picket.update') === true ? (get(d, 'picket.count') as number) - 1 : 1), 0);
  assert.ok(total > 0 && total <= syns, `${total} connections, ${syns} SYNs`);
  // The TLS and HTTP connections of the intel capture named their hosts: no intel.conn for them.
  assert.ok(!conn.some((d) => get(d, 'destination.port') === 443 || get(d, 'destination.port') === 80));
  // Alone, the scan capture has no DNS answers: nothing ties 10.77.0.1 to an intel name.
  assert.equal(picket(['replay', '--quiet', nmap]).docs.filter((d) => get(d, 'rule.id') === 'intel.conn').length, 0);
  // An address indicator from a user list does.
  const dir = tmpDir('addr');
  fs.writeFileSync(path.join(dir, 'addresses.txt'), '10.77.0.1\n');
  const a = picket(['replay', '--quiet', '--rules', dir, nmap]).docs.filter((d) => get(d, 'rule.id') === 'intel.conn');
  assert.ok(a.length >= 1 && a.every((d) => get(d, 'picket.intel.via') === 'address' && get(d, 'picket.intel.indicator') === '10.77.0.1'));
  fs.rmSync(dir, { recursive: true });
  // The benign capture resolves its names to the same address, but they are not intel names.
  assert.equal(picket(['replay', '--quiet', path.join(PCAPS, 'benign.pcap'), nmap]).docs.filter((d) => String(get(d, 'rule.id')).startsWith('intel.')).length, 0);
});

test('intel.conn learns DNS answers carried over TCP too', () => {
  const dir = tmpDir('tcpdns');
  const only = path.join(dir, 'tcp-dns.pcap');
  // The capture's own DNS-over-TCP exchanges and nothing else (tshark writes the subset of real packets).
  requireTool('tshark');
  const w = spawnSync('tshark', ['-r', intel, '-Y', 'tcp.port == 53', '-w', only, '-F', 'pcap'], { encoding: 'utf8' });
  assert.equal(w.status, 0, w.stderr);
  const answers = tshark(only, 'dns.flags.response == 1 && dns.a', ['dns.qry.name']);
  assert.ok(answers.length > 0, 'the capture has DNS answers over TCP');
  const r = picket(['replay', '--quiet', only, nmap]);
  const conn = r.docs.filter((d) => get(d, 'rule.id') === 'intel.conn');
  assert.ok(conn.length >= 1);
  assert.equal(get(conn[0], 'destination.domain'), answers[answers.length - 1][0].toLowerCase());
  fs.rmSync(dir, { recursive: true });
});
