import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { get, PCAPS, picket, restampPcap, tmpDir, tshark, tsharkFailedTcpTargets } from './helpers';

const nmap = path.join(PCAPS, 'nmap-syn.pcap');
const scanner = '10.77.0.2';

function scanAlerts(args: string[]): Array<Record<string, unknown>> {
  const r = picket(['replay', '--quiet', ...args]);
  assert.equal(r.code, 0, r.stderr);
  return r.docs.filter((d) => String(get(d, 'rule.id')).startsWith('scan.'));
}

test('nmap -sS (vertical scan of one host, then a sweep): attempts, rejections and open services equal tshark\'s counts', () => {
  const alerts = scanAlerts([nmap]);
  const finals = alerts.filter((d) => get(d, 'picket.final') === true);
  assert.ok(finals.length >= 1, 'a summary at the end of the scan');
  const f = finals[0];
  assert.equal(get(f, 'source.ip'), scanner);
  assert.equal(get(f, 'network.direction'), 'internal', 'both ends are in RFC 1918, the default home net');
  assert.equal(get(f, 'threat.technique.subtechnique.id'), 'T1595.001');

  const syns = tshark(nmap, `ip.src == ${scanner} && tcp.flags.syn == 1 && tcp.flags.ack == 0`, ['frame.number']).length;
  const rsts = tshark(nmap, `ip.dst == ${scanner} && tcp.flags.reset == 1 && tcp.flags.ack == 1`, ['frame.number']).length;
  const open = [...new Set(tshark(nmap, `ip.dst == ${scanner} && tcp.flags.syn == 1 && tcp.flags.ack == 1`, ['ip.src', 'tcp.srcport'])
    .map(([ip, port]) => `${ip}:${port}/tcp`))].sort();
  assert.ok(open.length >= 3, 'the script started services that answered');
  assert.equal(get(f, 'picket.scan.attempts'), syns);
  assert.equal(get(f, 'picket.scan.outcomes.rejected'), rsts);
  assert.deepEqual([...(get(f, 'picket.scan.learned') as string[])].sort(), open, 'what the scanner learned: the services that answered');
  // Samples: the first ten distinct targets and ports of its probes, in the order tshark sees them sent.
  const probes = tshark(nmap, `ip.src == ${scanner} && tcp.flags.syn == 1 && tcp.flags.ack == 0`, ['ip.dst', 'tcp.dstport']);
  const firstTen = (xs: string[]): string[] => [...new Set(xs)].slice(0, 10);
  const sampleHosts = firstTen(probes.map(([ip]) => ip));
  const samplePorts = firstTen(probes.map(([, port]) => `tcp/${port}`));
  assert.ok(sampleHosts.length >= 2 && samplePorts.length === 10, `${sampleHosts.length} hosts, ${samplePorts.length} ports: more than the first probe's`);
  assert.deepEqual(get(f, 'picket.scan.sample_hosts'), sampleHosts);
  assert.deepEqual(get(f, 'picket.scan.sample_ports'), samplePorts);
  assert.deepEqual(get(f, 'picket.scan.protocols'), { tcp: syns, udp: 0, icmp: 0 });
  for (const h of sampleHosts) assert.ok((get(f, 'related.ip') as string[]).includes(h), `related.ip names the sampled target ${h}`);

  const kinds = new Set(alerts.map((d) => get(d, 'rule.id')));
  assert.ok(kinds.has('scan.port'), 'the vertical part (ports 20-100 of one host) is a port scan');
  // One incident: a first document, an update only when a kind, the tool or the severity changes, a summary.
  const incidents = new Set(alerts.map((d) => get(d, 'picket.incident.id')));
  assert.equal(incidents.size, 1, 'one incident for the scanner');
  assert.ok(!incidents.has(undefined));
  assert.equal(alerts.filter((d) => get(d, 'picket.update') === false).length, 1, 'one first document');
  assert.equal(alerts.filter((d) => get(d, 'picket.final') === true).length, 1, 'one summary');
  const changes = new Set(alerts.map((d) => `${String(get(d, 'rule.id'))} ${String(get(d, 'event.severity'))}`)).size;
  assert.ok(alerts.length <= changes + 1, `${alerts.length} documents for ${changes} distinct kinds and severities`);
  assert.deepEqual(alerts.map((d) => get(d, 'picket.incident.document')), alerts.map((_, i) => i + 1), 'documents numbered in order');
  assert.ok(alerts.every((d) => (get(d, 'related.ip') as string[]).includes(scanner)), 'related.ip names the scanner');
});

test('no scan alerts on ordinary traffic (the DNS, HTTP and TLS captures)', () => {
  for (const f of ['benign.pcap', 'intel-dns.pcap', 'tls-split.pcap', path.join('quic', 'quic-v1.pcap')]) {
    assert.deepEqual(scanAlerts([path.join(PCAPS, f)]).map((d) => get(d, 'rule.id')), [], f);
  }
});

test('direction follows --home-net; outbound scans are not watched by default; allowlisted scanners are counted only', () => {
  const inbound = scanAlerts(['--home-net', '10.77.0.1/32,10.77.0.3/32,10.77.0.4/30,10.77.0.8/29', nmap]);
  assert.ok(inbound.length > 0 && inbound.every((d) => get(d, 'network.direction') === 'inbound'));
  // The scanner inside, the targets outside: outbound, not in the default directions (rules/scan.yaml).
  assert.deepEqual(scanAlerts(['--home-net', `${scanner}/32`, nmap]), []);
  const dir = tmpDir('scanallow');
  fs.writeFileSync(path.join(dir, 'allow.yaml'), `kind: allowlist\nentries:\n  - { source: ${scanner}, rules: ["scan.*"], reason: "vulnerability scanner" }\n`);
  const r = picket(['replay', '--rules', dir, nmap]);
  assert.equal(r.docs.filter((d) => String(get(d, 'rule.id')).startsWith('scan.')).length, 0);
  assert.match(r.stderr, /allowlisted \(counted, not alerted\): scan\./);
  fs.rmSync(dir, { recursive: true });
});

test('thresholds are policy: a stricter preset or a user override changes what alerts', () => {
  const dir = tmpDir('scanpolicy');
  fs.writeFileSync(path.join(dir, 'scan.yaml'), 'kind: scan-policy\npresets:\n  medium:\n    port_ports: 500\n    mixed_hosts: 500\n');
  const kinds = new Set(scanAlerts(['--rules', dir, nmap]).map((d) => get(d, 'rule.id')));
  assert.ok(!kinds.has('scan.port') && !kinds.has('scan.mixed'), [...kinds].join(','));
  // The low preset needs 30 ports of one host: the vertical part (ports 20-100, 443, 8080) still has them.
  assert.ok(new Set(scanAlerts(['--sensitivity', 'low', nmap]).map((d) => get(d, 'picket.scan.sensitivity'))).has('low'));
  assert.equal(picket(['replay', '--sensitivity', 'extreme', nmap]).code, 2);
  fs.writeFileSync(path.join(dir, 'scan.yaml'), 'kind: scan-policy\npresets:\n  medium:\n    port_ports: zero\n');
  const bad = picket(['replay', '--rules', dir, nmap]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /scan\.yaml:4: "port_ports" must be a positive whole number/);
  fs.rmSync(dir, { recursive: true });
});

test('a scan spread over 10 hours of packet time is one scan.slow, and its memory stays within the caps', () => {
  // nmap's real slow scan (--scan-delay 3s, 21 ports), stretched 600 times: a probe every 30 minutes, each
  // reply still within tens of milliseconds of its probe.
  const src = path.join(PCAPS, 'scans', 'nmap-slow.pcap');
  const dir = tmpDir('slow10h');
  const slow = path.join(dir, 'nmap-slow-10h.pcap');
  fs.writeFileSync(slow, restampPcap(fs.readFileSync(src), (t) => t * 600));
  const scannerIp = '198.18.0.66';
  // Distinct failed ports (nmap probes some twice): closed, and open ones that nmap reset after their SYN-ACK.
  const failed = tsharkFailedTcpTargets(src);
  const rsts = new Set([...failed.closed, ...failed.halfOpen].filter((t) => t.startsWith(`${scannerIp} `))).size;
  assert.ok(failed.halfOpen.size > 0, 'the scan found an open port and reset it (half-open)');
  const alerts = scanAlerts([slow]);
  const finals = alerts.filter((d) => get(d, 'rule.id') === 'scan.slow' && get(d, 'picket.final') === true);
  assert.equal(finals.length, 1, 'one scan, one summary, however long it lasts');
  const f = finals[0];
  assert.equal(get(f, 'source.ip'), scannerIp);
  assert.ok(Number(get(f, 'picket.scan.duration_seconds')) > 9 * 3600, String(get(f, 'picket.scan.duration_seconds')));
  assert.equal(get(f, 'picket.scan.targets'), rsts, 'every closed or half-open port counted once');
  assert.equal(get(f, 'picket.scan.outcomes.half_open'), [...failed.halfOpen].filter((t) => t.startsWith(`${scannerIp} `)).length);
  assert.equal(get(f, 'picket.scan.exact'), true);
  // The first slow alert goes out as soon as the paced scan crosses its thresholds, hours before the end.
  const first = alerts.find((d) => get(d, 'rule.id') === 'scan.slow');
  assert.ok(first !== undefined);
  assert.ok(Number(get(first, 'picket.scan.targets')) < rsts);
  assert.ok(Number(get(first, 'picket.scan.duration_seconds')) < Number(get(f, 'picket.scan.duration_seconds')) - 3 * 3600);

  // With a per-source cap of 8 exact targets, the counts go on in a fixed-size sketch, within its error.
  fs.writeFileSync(path.join(dir, 'scan.yaml'), 'kind: scan-policy\nmax_targets_per_source: 8\n');
  const capped = scanAlerts(['--rules', dir, slow]).find((d) => get(d, 'rule.id') === 'scan.slow' && get(d, 'picket.final') === true);
  assert.ok(capped !== undefined);
  assert.equal(get(capped, 'picket.scan.exact'), false);
  const est = Number(get(capped, 'picket.scan.targets'));
  assert.ok(Math.abs(est - rsts) / rsts < 0.2, `sketched ${est} vs exact ${rsts}`);
  assert.ok(Math.abs(Number(get(capped, 'picket.scan.max_ports_one_host')) - rsts) / rsts < 0.2);
  fs.rmSync(dir, { recursive: true });
});

test('sources summarised early because max_sources was reached are counted in the final counters', () => {
  const file = path.join(PCAPS, 'scans', 'distributed.pcap');
  const stats = (r: { docs: Array<Record<string, unknown>> }): Record<string, unknown> => r.docs.filter((d) => get(d, 'event.kind') === 'metric').at(-1) ?? {};
  assert.equal(get(stats(picket(['replay', '--quiet', file])), 'picket.stats.scan_sources_evicted'), 0);
  const dir = tmpDir('maxsources');
  fs.writeFileSync(path.join(dir, 'scan.yaml'), 'kind: scan-policy\nmax_sources: 10\n');
  const r = picket(['replay', '--quiet', '--rules', dir, file]);
  assert.equal(r.code, 0, r.stderr);
  // 24 sources (tshark's SYN senders) through a table of 10: each of the 14 beyond it forced an eviction, and an
  // evicted source that probes again (8 nmap runs interleave) comes back and forces another.
  const sources = new Set(tshark(file, 'tcp.flags.syn == 1 && tcp.flags.ack == 0', ['ip.src']).map(([ip]) => ip)).size;
  assert.equal(sources, 24);
  assert.ok(Number(get(stats(r), 'picket.stats.scan_sources_evicted')) >= sources - 10, String(get(stats(r), 'picket.stats.scan_sources_evicted')));
  fs.rmSync(dir, { recursive: true });
});
