import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { get, PCAPS, picket, tmpDir, tshark, tsharkFailedTcpTargets } from './helpers';

interface Truth {
  scan: boolean;
  tool: string | null;
  scanner?: string | null;
  sources?: string[];
  decoys?: string[];
  targets?: string[];
  per_source_ports?: Record<string, number[]>;
  open?: Array<{ proto: string; host: string; port: number }>;
}
const SCANS = path.join(PCAPS, 'scans');
const truth = (JSON.parse(fs.readFileSync(path.join(SCANS, 'truth.json'), 'utf8')) as { files: Record<string, Truth> }).files;

/**
 * The kind each real tool's capture must raise (pcaps/make-scans.sh made them; truth.json says what was run), and
 * scan.tool: every one of these tools is named from its probe headers (rules/fingerprints.yaml).
 */
const EXPECTED: Record<string, string[]> = {
  'nmap-sweep.pcap': ['scan.sweep', 'scan.tool'],
  'masscan.pcap': ['scan.sweep', 'scan.tool'],
  'zmap.pcap': ['scan.sweep', 'scan.tool'],
  'nmap-vertical.pcap': ['scan.port', 'scan.tool'],
  'hping3-scan.pcap': ['scan.port', 'scan.tool'],
  'nmap-ping.pcap': ['scan.ping_sweep', 'scan.tool'],
  // Paced at one probe every 3 s for a minute: slow, and its 21 ports also cross the fast port-scan threshold.
  'nmap-slow.pcap': ['scan.port', 'scan.slow', 'scan.tool'],
};

function alerts(file: string, extra: string[] = []): Array<Record<string, unknown>> {
  const r = picket(['replay', '--quiet', ...extra, path.join(SCANS, file)]);
  assert.equal(r.code, 0, r.stderr);
  return r.docs.filter((d) => String(get(d, 'rule.id')).startsWith('scan.'));
}

for (const [file, kinds] of Object.entries(EXPECTED)) {
  test(`${file}: raises ${kinds.join(' and ')} for the scanner, with the open services it found`, () => {
    const t = truth[file];
    assert.ok(t !== undefined && t.scan && t.scanner !== undefined, 'truth.json describes the capture');
    const a = alerts(file);
    assert.deepEqual([...new Set(a.map((d) => get(d, 'rule.id')))].sort(), [...kinds].sort());
    for (const d of a) {
      assert.equal(get(d, 'source.ip'), t.scanner);
      assert.equal(get(d, 'network.direction'), 'inbound');
      // The tool is named on every alert, and named right (truth.json: what the capture script ran).
      assert.equal(get(d, 'threat.software.name'), t.tool, `${String(get(d, 'rule.id'))} names the tool`);
      assert.equal(get(d, 'picket.fingerprint.confidence'), 'high');
    }
    // scan.tool goes out before the first scan alert: a few probes suffice to name the tool.
    assert.equal(get(a[0], 'rule.id'), 'scan.tool');
    assert.ok(Number(get(a[0], 'picket.fingerprint.probes')) <= 3);
    const summary = a.filter((d) => get(d, 'picket.final') === true);
    assert.ok(summary.length >= 1, 'a summary when the scan ends');
    // What the scanner learned: the services that answered, as tshark sees the SYN-ACKs (and truth.json says).
    const synacks = [...new Set(tshark(path.join(SCANS, file), `ip.dst == ${t.scanner} && tcp.flags.syn == 1 && tcp.flags.ack == 1`, ['ip.src', 'tcp.srcport'])
      .map(([h, p]) => `${h}:${p}/tcp`))].sort();
    const learned = [...(get(summary[0], 'picket.scan.learned') as string[])].sort();
    assert.deepEqual(learned, synacks);
    const probed = new Set(tshark(path.join(SCANS, file), `ip.src == ${t.scanner} && tcp.flags.syn == 1 && tcp.flags.ack == 0`, ['ip.dst', 'tcp.dstport']).map(([h, p]) => `${h}:${p}`));
    for (const o of t.open ?? []) {
      if (o.proto === 'tcp' && probed.has(`${o.host}:${o.port}`)) assert.ok(learned.includes(`${o.host}:${o.port}/tcp`), `${o.host}:${o.port} was open and probed`);
    }
  });
}

test('distributed.pcap: 24 sources, each under every per-source threshold, are one scan.distributed of the host', () => {
  const t = truth['distributed.pcap'];
  assert.ok(t !== undefined && t.sources !== undefined && t.per_source_ports !== undefined && t.targets?.length === 1);
  const a = alerts('distributed.pcap');
  assert.deepEqual([...new Set(a.map((d) => get(d, 'rule.id')))].sort(), ['scan.distributed', 'scan.tool'], 'no single source is a scan on its own (each is named as nmap)');
  const named = a.filter((d) => get(d, 'rule.id') === 'scan.tool');
  assert.ok(named.length > 0, 'the sources are named');
  assert.ok(named.every((d) => get(d, 'threat.software.name') === t.tool && t.sources?.includes(String(get(d, 'source.ip')))));
  const final = a.filter((d) => get(d, 'rule.id') === 'scan.distributed' && get(d, 'picket.final') === true);
  assert.equal(final.length, 1);
  const f = final[0];
  assert.equal(get(f, 'destination.ip'), t.targets[0]);
  assert.equal(get(f, 'threat.software.name'), 'nmap');
  assert.equal(get(f, 'picket.scan.decoy'), false);
  assert.equal(get(f, 'picket.scan.sources'), t.sources.length);
  assert.ok(t.sources.includes(String(get(f, 'source.ip'))));
  // Failed ports: closed (the target's RSTs) or half-open (answered, then reset by the source), by tshark.
  const failed = tsharkFailedTcpTargets(path.join(SCANS, 'distributed.pcap'));
  const target = String(get(f, 'destination.ip'));
  const ports = new Set([...failed.closed, ...failed.halfOpen].map((k) => k.split(' ')[1]).filter((tp) => tp.startsWith(`${target}:`)));
  assert.ok(failed.halfOpen.size > 0, 'some probed ports were open and reset by their prober');
  assert.equal(get(f, 'picket.scan.ports'), ports.size);
  for (const ip of get(f, 'picket.scan.sample_sources') as string[]) assert.ok(t.sources.includes(ip), ip);
});

test('nmap-decoy.pcap: the same probes from the scanner and its decoys are one decoy scan naming all of them', () => {
  const t = truth['nmap-decoy.pcap'];
  assert.ok(t !== undefined && t.sources !== undefined && t.decoys !== undefined && typeof t.scanner === 'string' && t.targets?.length === 1);
  const a = alerts('nmap-decoy.pcap');
  const dist = a.filter((d) => get(d, 'rule.id') === 'scan.distributed');
  assert.ok(dist.length >= 1);
  const f = dist.find((d) => get(d, 'picket.final') === true);
  assert.ok(f !== undefined);
  assert.equal(get(f, 'picket.scan.decoy'), true);
  assert.equal(get(f, 'destination.ip'), t.targets[0]);
  assert.deepEqual([...(get(f, 'picket.scan.sample_sources') as string[])].sort(), [...t.sources].sort(), 'the scanner and every decoy');
  // Each of them on its own is a vertical scan of the host as well.
  const ports = new Set(a.filter((d) => get(d, 'rule.id') === 'scan.port').map((d) => String(get(d, 'source.ip'))));
  assert.deepEqual([...ports].sort(), [...t.sources].sort());
});

test('a busy benign client (every connection and query answered) raises no scan alert', () => {
  assert.equal(truth['benign-busy.pcap'].scan, false);
  assert.deepEqual(alerts('benign-busy.pcap').map((d) => get(d, 'rule.id')), []);
});

test('nmap -sU of five ports: a UDP port scan at the default preset, with probes, answers and ICMP port-unreachables counted', () => {
  const file = 'nmap-udp.pcap';
  const scanner = truth[file].scanner as string;
  // Failed ports are those the target refused with ICMP port unreachable (the quoted UDP header names them).
  const icmp = tshark(path.join(SCANS, file), 'icmp.type == 3 && icmp.code == 3', ['ip.dst', 'udp.dstport']).filter(([dst]) => dst === scanner);
  const closed = new Set(icmp.map(([, port]) => port));
  assert.ok(closed.size >= 2);
  const a = alerts(file);
  assert.deepEqual([...new Set(a.map((d) => get(d, 'rule.id')))].sort(), ['scan.port', 'scan.tool']);
  const final = a.find((d) => get(d, 'rule.id') === 'scan.port' && get(d, 'picket.final') === true);
  assert.ok(final !== undefined);
  assert.equal(get(final, 'source.ip'), scanner);
  assert.equal(get(final, 'threat.software.name'), 'nmap', 'its UDP probes carry nmap\'s TTL, drawn anew for each');
  assert.equal(get(final, 'picket.scan.outcomes.unreachable'), closed.size, 'one per probed port (retransmissions are the same attempt)');
  assert.equal(get(final, 'picket.scan.ports'), closed.size);
  // Probes: distinct UDP flows from the scanner (not the UDP headers quoted inside ICMP errors).
  const flows = new Set(tshark(path.join(SCANS, file), 'udp && !icmp', ['ip.src', 'udp.srcport', 'udp.dstport']).filter(([src]) => src === scanner).map((x) => x.join(':')));
  assert.equal(get(final, 'picket.scan.protocols.udp'), flows.size);
  // The services that answered over UDP (SNMP and DNS here) count as answered, and are what it learned.
  const answered = new Set(tshark(path.join(SCANS, file), 'udp && !icmp', ['ip.dst', 'udp.srcport']).filter(([dst]) => dst === scanner).map(([, p]) => p));
  assert.equal(get(final, 'picket.scan.outcomes.answered'), answered.size);
  assert.equal(get(final, 'picket.scan.udp_ports_responded_one_host'), answered.size + closed.size);
  // A stricter policy than five responding ports: no port scan.
  const dir = tmpDir('udppolicy');
  fs.writeFileSync(path.join(dir, 'scan.yaml'), `kind: scan-policy\npresets:\n  medium:\n    udp_port_ports: ${answered.size + closed.size + 1}\n`);
  assert.ok(!alerts(file, ['--rules', dir]).some((d) => get(d, 'rule.id') === 'scan.port'));
  fs.rmSync(dir, { recursive: true });
});

test('fingerprints are rules: a user fingerprint is tried first, and a bad one stops start-up naming file and line', () => {
  const dir = tmpDir('fprules');
  // hping3's traits under another name: the user's file wins over the bundled one.
  fs.writeFileSync(path.join(dir, 'mine.yaml'), 'kind: scanner-fingerprints\nfingerprints:\n  - tool: lab-prober\n    probe: tcp-syn\n    window: 512\n    options: ""\n    confidence: high\n');
  const named = alerts('hping3-scan.pcap', ['--rules', dir]);
  assert.ok(named.length > 0 && named.every((d) => get(d, 'threat.software.name') === 'lab-prober'));
  fs.writeFileSync(path.join(dir, 'mine.yaml'), 'kind: scanner-fingerprints\nfingerprints:\n  - tool: x\n    probe: tcp-syn\n    options: MQ\n    confidence: high\n');
  const bad = picket(['replay', '--rules', dir, path.join(SCANS, 'hping3-scan.pcap')]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /mine\.yaml:5: "options" is the TCP option layout/);
  fs.writeFileSync(path.join(dir, 'mine.yaml'), 'kind: scanner-fingerprints\nfingerprints:\n  - tool: x\n    probe: tcp-syn\n    ttl: 64\n    confidence: high\n');
  assert.match(picket(['replay', '--rules', dir, path.join(SCANS, 'hping3-scan.pcap')]).stderr, /mine\.yaml:3: a fingerprint needs at least one of/);
  fs.rmSync(dir, { recursive: true });
});
