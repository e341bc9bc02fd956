import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { get, PCAPS, picket, tmpDir, tshark } from './helpers';

const intel = path.join(PCAPS, 'intel-dns.pcap');

function alerts(args: string[]): { alerts: Array<Record<string, unknown>>; stats: Record<string, unknown>; stderr: string } {
  const r = picket(['replay', ...args, intel]);
  assert.equal(r.code, 0, r.stderr);
  const stats = r.docs[r.docs.length - 1];
  assert.equal(get(stats, 'event.kind'), 'metric');
  return { alerts: r.docs.filter((d) => get(d, 'event.kind') === 'alert'), stats, stderr: r.stderr };
}

function rulesDir(text: string): string {
  const dir = tmpDir('allow');
  fs.writeFileSync(path.join(dir, 'allow.yaml'), text);
  return dir;
}

test('allowlist by source, by rule pattern, by indicator and by time window: counted, not alerted', () => {
  const base = alerts([]);
  const v4 = base.alerts.filter((d) => get(d, 'source.ip') === '10.77.0.2');
  const v6 = base.alerts.filter((d) => get(d, 'source.ip') === 'fd77::2');
  assert.ok(v4.length > 0 && v6.length > 0, 'the capture has alerts from both client addresses');

  // The SOC workstation (IPv4 address of the client) for intel rules: only the IPv6 client's alerts remain.
  const bySource = alerts(['--rules', rulesDir('kind: allowlist\nentries:\n  - { source: 10.77.0.0/24, rules: ["intel.*"], reason: SOC }\n')]);
  assert.deepEqual(bySource.alerts.map((d) => get(d, 'source.ip')), v6.map((d) => get(d, 'source.ip')));
  assert.equal(Object.values(get(bySource.stats, 'picket.stats.allowlisted') as Record<string, number>).reduce((a, b) => a + b, 0), v4.length);
  assert.match(bySource.stderr, /allowlisted \(counted, not alerted\): intel\.dns=\d+/);

  // One indicator only.
  const byIndicator = alerts(['--rules', rulesDir('kind: allowlist\nentries:\n  - { indicators: [maxmind.com], reason: geoipupdate }\n')]);
  assert.equal(byIndicator.alerts.length, base.alerts.length - base.alerts.filter((d) => get(d, 'picket.intel.indicator') === 'maxmind.com').length);
  assert.ok(!byIndicator.alerts.some((d) => get(d, 'picket.intel.indicator') === 'maxmind.com'));

  // A rule that does not apply allows nothing.
  const otherRule = alerts(['--rules', rulesDir('kind: allowlist\nentries:\n  - { source: 10.77.0.0/16, rules: ["scan.*"], reason: pentest }\n')]);
  assert.equal(otherRule.alerts.length, base.alerts.length);

  // An engagement window: covering the capture allows, ending before it does not.
  const t0 = Number(tshark(intel, 'frame.number == 1', ['frame.time_epoch'])[0][0]);
  const iso = (s: number): string => new Date(s * 1000).toISOString();
  const inside = alerts(['--rules', rulesDir(`kind: allowlist\nentries:\n  - { source: 10.77.0.2, from: ${iso(t0 - 60)}, until: ${iso(t0 + 3600)}, reason: ENG-1 }\n`)]);
  assert.equal(inside.alerts.length, v6.length);
  const before = alerts(['--rules', rulesDir(`kind: allowlist\nentries:\n  - { source: 10.77.0.2, from: ${iso(t0 - 7200)}, until: ${iso(t0 - 3600)}, reason: ENG-0 }\n`)]);
  assert.equal(before.alerts.length, base.alerts.length);
});

test('a bad allowlist entry stops start-up naming file and line', () => {
  const cases: Array<[string, RegExp]> = [
    ['kind: allowlist\nentries:\n  - { source: 10.0.0.0/8 }\n', /allow\.yaml:3: missing "reason"/],
    ['kind: allowlist\nentries:\n  - { reason: x }\n', /allow\.yaml:3: an entry that names no source/],
    ['kind: allowlist\nentries:\n  - { source: 10.0.0.0/99, reason: x }\n', /allow\.yaml:3: bad IPv4 prefix/],
    ['kind: allowlist\nentries:\n  - reason: x\n    source: 10.1.1.1\n    from: tomorrow\n', /allow\.yaml:5: "from" must be an ISO 8601 time/],
  ];
  for (const [text, re] of cases) {
    const r = picket(['replay', '--rules', rulesDir(text), intel]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, re);
  }
});
