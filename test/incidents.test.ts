import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { get, PCAPS, picket, requireTool, tmpDir, tshark } from './helpers';

/** Scan alerts of a replay (issue 13: one incident per scanner, severity with its reasons). */
function scanAlerts(args: string[]): Array<Record<string, unknown>> {
  const r = picket(['replay', '--quiet', ...args]);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(r.docs.some((d) => get(d, 'event.kind') === 'metric'), 'the run finished with its counters');
  return r.docs.filter((d) => String(get(d, 'rule.id')).startsWith('scan.'));
}

const SCANS = path.join(PCAPS, 'scans');
const SEVERITY = { low: 21, medium: 47, high: 73, critical: 99 };

test('each scanner of the bundled scan captures is one incident of at most three documents unless its kind or severity changed', () => {
  const files = fs.readdirSync(SCANS).filter((f) => f.endsWith('.pcap') && f !== 'benign-busy.pcap');
  assert.ok(files.length >= 8);
  for (const f of files) {
    const alerts = scanAlerts([path.join(SCANS, f)]).filter((d) => get(d, 'rule.id') !== 'scan.distributed');
    const bySource = new Map<string, Array<Record<string, unknown>>>();
    for (const d of alerts) bySource.set(String(get(d, 'source.ip')), [...(bySource.get(String(get(d, 'source.ip'))) ?? []), d]);
    assert.ok(bySource.size >= 1, `${f}: a scanner`);
    for (const [src, docs] of bySource) {
      assert.equal(new Set(docs.map((d) => get(d, 'picket.incident.id'))).size, 1, `${f} ${src}: one incident id`);
      assert.equal(docs.filter((d) => get(d, 'picket.update') === false).length, 1, `${f} ${src}: one first document`);
      assert.equal(docs.filter((d) => get(d, 'picket.final') === true).length, 1, `${f} ${src}: one summary`);
      // Every document between the first and the summary says something new: a kind, the tool or the severity.
      const seen = new Set<string>();
      for (const d of docs.slice(0, -1)) {
        const key = `${String(get(d, 'rule.id'))}|${String(get(d, 'event.severity'))}|${String(get(d, 'threat.software.name'))}`;
        assert.ok(!seen.has(key), `${f} ${src}: a document that changes nothing (${key})`);
        seen.add(key);
      }
      const last = docs.at(-1)!;
      assert.deepEqual(get(last, 'picket.severity_reasons') !== undefined, true);
      assert.ok((get(last, 'related.ip') as string[]).includes(src));
    }
  }
});

test('severity reason: a tool named with high confidence raises a sweep to high (nmap -sS sweep)', () => {
  const alerts = scanAlerts([path.join(SCANS, 'nmap-sweep.pcap')]);
  const final = alerts.find((d) => get(d, 'picket.final') === true);
  assert.ok(final !== undefined);
  assert.equal(get(final, 'rule.id'), 'scan.sweep');
  assert.equal(get(final, 'threat.software.name'), 'nmap');
  assert.equal(get(final, 'event.severity'), SEVERITY.high);
  assert.equal(get(final, 'picket.severity'), 'high');
  assert.ok((get(final, 'picket.severity_reasons') as string[]).some((r) => r.includes('tool named with high confidence: nmap')));
});

test('severity reason: a scan then a connection with data to a service it found (nmap -sV) is raised and names the connection', () => {
  const file = path.join(PCAPS, 'recon', 'nmap-sv.pcap');
  const alerts = scanAlerts([file]);
  const final = alerts.find((d) => get(d, 'picket.final') === true);
  assert.ok(final !== undefined);
  const scanner = String(get(final, 'source.ip'));
  const access = get(final, 'picket.scan.access') as { ip: string; port: number } | undefined;
  assert.ok(access !== undefined, 'the access is named');
  // tshark: the scanner sent payload to that service, and the service had answered the scanner's SYN before.
  const data = tshark(file, `ip.src == ${scanner} && ip.dst == ${access.ip} && tcp.dstport == ${access.port} && tcp.len > 0`, ['frame.number']);
  assert.ok(data.length > 0, 'the scanner sent data to the named service');
  const synAcks = tshark(file, `ip.src == ${access.ip} && tcp.srcport == ${access.port} && ip.dst == ${scanner} && tcp.flags.syn == 1 && tcp.flags.ack == 1`, ['frame.number']);
  assert.ok(synAcks.length > 0);
  assert.ok((get(final, 'picket.severity_reasons') as string[]).some((r) => r.includes(`then connected with data to ${access.ip}:${access.port}/tcp`)));
  assert.equal(get(final, 'event.severity'), SEVERITY.critical, 'medium, up for the named tool, up for the access');
  // A plain port scan with no access after it stays below that.
  const plain = scanAlerts([path.join(SCANS, 'nmap-udp.pcap')]).find((d) => get(d, 'picket.final') === true);
  assert.ok(plain !== undefined && get(plain, 'picket.scan.access') === undefined);
});

test('severity reason: a source in a research scanner list goes out at low, marked research, naming the entry', () => {
  const file = path.join(SCANS, 'masscan.pcap');
  const before = scanAlerts([file]);
  const scanner = String(get(before[0], 'source.ip'));
  assert.ok(before.every((d) => get(d, 'picket.scan.research') === false));
  const dir = tmpDir('research');
  fs.writeFileSync(path.join(dir, 'research.yaml'), `kind: research-scanners\nscanners:\n  - name: Test Survey\n    ranges: [${scanner}/32]\n    source: https://survey.example/ranges\n    date: 2026-12-07\n`);
  const after = scanAlerts(['--rules', dir, file]);
  assert.equal(after.length, before.length, 'still reported');
  for (const d of after) {
    assert.equal(get(d, 'event.severity'), SEVERITY.low);
    assert.equal(get(d, 'picket.scan.research'), true);
    assert.ok((get(d, 'picket.severity_reasons') as string[]).includes('research scanner: Test Survey (https://survey.example/ranges)'));
  }
  // A bad entry stops start-up naming file and line.
  fs.writeFileSync(path.join(dir, 'research.yaml'), 'kind: research-scanners\nscanners:\n  - name: Bad\n    ranges: [10.0.0.1/8]\n    source: x\n    date: 2026-12-07\n');
  const bad = picket(['replay', '--quiet', '--rules', dir, file]);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /research\.yaml:\d+: .*host bits/);
  fs.rmSync(dir, { recursive: true });
});

test('severity reason: a large target set raises the severity, once, when the scan reaches it', () => {
  const alerts = scanAlerts([path.join(SCANS, 'nmap-vertical.pcap')]);
  const final = alerts.find((d) => get(d, 'picket.final') === true);
  assert.ok(final !== undefined);
  assert.ok(Number(get(final, 'picket.scan.targets')) >= 1024);
  assert.ok((get(final, 'picket.severity_reasons') as string[]).some((r) => r.startsWith('large target set')));
  assert.equal(alerts.filter((d) => (get(d, 'picket.severity_reasons') as string[]).some((r) => r.startsWith('large target set')) && get(d, 'picket.final') !== true).length, 1);
});

test('one story: a host that looked an intel service up and is then scanned is named in the scan, which is raised for it', () => {
  // intel-dns.pcap's real queries, re-addressed by tcprewrite to come from a host that nmap-sweep.pcap later scans.
  requireTool('tcprewrite');
  const dir = tmpDir('story');
  const lookups = path.join(dir, 'lookups.pcap');
  const host = '10.90.0.5';
  const rw = spawnSync('tcprewrite', [`--pnat=10.77.0.2/32:${host}/32`, '--fixcsum', '-i', path.join(PCAPS, 'intel-dns.pcap'), '-o', lookups], { encoding: 'utf8' });
  assert.equal(rw.status, 0, rw.stderr);
  const names = tshark(lookups, `ip.src == ${host} && dns.flags.response == 0`, ['dns.qry.name']);
  assert.ok(names.length > 0, 'the rewritten capture has the host asking');
  const r = picket(['replay', '--quiet', lookups, path.join(SCANS, 'nmap-sweep.pcap')]);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(r.docs.some((d) => String(get(d, 'rule.id')).startsWith('intel.') && get(d, 'source.ip') === host), 'the lookup is an intel alert');
  const final = r.docs.find((d) => get(d, 'rule.id') === 'scan.sweep' && get(d, 'picket.final') === true);
  assert.ok(final !== undefined);
  const clients = get(final, 'picket.scan.intel_clients') as Array<{ ip: string; indicator: string }>;
  assert.equal(clients.length, 1);
  assert.equal(clients[0].ip, host);
  assert.ok((get(final, 'related.ip') as string[]).includes(host));
  assert.ok((get(final, 'picket.severity_reasons') as string[]).some((x) => x.includes(`${host} (${clients[0].indicator})`)));
  // Without the lookup, the same scan names no client and is a level lower.
  const alone = scanAlerts([path.join(SCANS, 'nmap-sweep.pcap')]).find((d) => get(d, 'picket.final') === true);
  assert.ok(alone !== undefined && get(alone, 'picket.scan.intel_clients') === undefined);
  assert.ok(Number(get(final, 'event.severity')) > Number(get(alone, 'event.severity')));
  fs.rmSync(dir, { recursive: true });
});

test('the end of input writes every detector\'s summaries in time order: intel updates between the scan\'s', () => {
  // The plain tunnel capture's lookups and nmap scan end within a second: the updates of its DNS and connection
  // sightings fall before and after the scan's summary.
  const r = picket(['replay', '--quiet', path.join(PCAPS, 'tunnels', 'plain.pcap')]);
  assert.equal(r.code, 0, r.stderr);
  const alerts = r.docs.filter((d) => get(d, 'event.kind') === 'alert');
  const from = alerts.findIndex((d) => String(get(d, 'rule.id')).startsWith('intel.') && get(d, 'picket.update') === true);
  assert.ok(from >= 0, 'an intel update is written at the end');
  const end = alerts.slice(from);
  const times = end.map((d) => String(get(d, '@timestamp')));
  assert.deepEqual(times, [...times].sort(), `written in time order: ${times.join(' ')}`);
  const rules = end.map((d) => String(get(d, 'rule.id')));
  const scanAt = rules.findIndex((id) => id.startsWith('scan.'));
  assert.ok(scanAt > 0 && rules.slice(scanAt).some((id) => id.startsWith('intel.')), `intel updates before and after a scan summary: ${rules.join(' ')}`);
});
