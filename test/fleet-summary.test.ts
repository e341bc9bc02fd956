/** Fleet summaries (src/scan/fleet-summary.ts): exact lists, sketches, their merge, and what is not a summary. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addrKeyOfText, portKey } from '../src/scan/addr-key';
import { buildSummary, mergeSummaries, parseSummary, SUMMARY_EXACT_MAX, type FleetSummary } from '../src/scan/fleet-summary';
import { createSpread, spreadAdd } from '../src/scan/spread';
import { PROTO_TCP } from '../src/core/scan-record';
import { DEFAULT_POLICY } from '../src/config/rules';
import { applySummary, fleetOnlyKinds, nextFleetDocument, type SourceState } from '../src/fleet/correlate';

/** One sensor's summary of a source that failed against hosts [from, to) of 10.1.x.y on the given TCP ports. */
function summaryOf(sensor: string, from: number, to: number, ports: number[], cap = 4096): FleetSummary {
  const f = createSpread();
  const budget = { used: 0, limit: 1_000_000 };
  for (let h = from; h < to; h++) for (const p of ports) spreadAdd(f, addrKeyOfText(`10.1.${h >> 8}.${h & 255}`), portKey(PROTO_TCP, p), cap, budget);
  return buildSummary({
    sensor, source: '198.18.0.9', seq: 1, first: [100, 0], last: [200, 0],
    outcomes: { answered: 0, half_open: 0, rejected: f.nTargets, unreachable: 0, unanswered: 0 },
    // A fast scan (every probe but the first quick), so that none of these is a paced scan.slow.
    counts: { targets: f.nTargets, hosts: f.nHosts, ports: f.nPorts, maxPortsOneHost: f.maxPortsOneHost, pingHosts: 0, maxUdpPortsOneHost: 0, attempts: f.nTargets, quickProbes: Math.max(0, f.nTargets - 1), durationSeconds: 100 },
    failed: f, pingHosts: [], probeTimes: null, sampleHosts: [], samplePorts: [], tool: null,
  });
}

const roundTrip = (s: FleetSummary): FleetSummary => {
  const back = parseSummary(Buffer.from(JSON.stringify(s)));
  assert.ok(back !== null);
  return back;
};

test('small summaries list their targets and merge exactly, overlaps counted once', () => {
  const a = roundTrip(summaryOf('a', 0, 20, [80, 443]));
  const b = roundTrip(summaryOf('b', 10, 30, [80, 443]));
  assert.equal(a.targets?.length, 40);
  assert.equal(a.sketch, undefined);
  const m = mergeSummaries([a, b], 1);
  assert.equal(m.exact, true);
  assert.equal(m.counts.hosts, 30);
  assert.equal(m.counts.targets, 60);
  assert.equal(m.counts.ports, 2);
  assert.equal(m.counts.maxPortsOneHost, 2);
  assert.deepEqual(m.shares.map((s) => s.sensor), ['a', 'b']);
});

test('large summaries carry sketches (exact sets and sketched spreads alike); merged with a list they estimate the union', () => {
  const exactButLarge = roundTrip(summaryOf('a', 0, 400, [22]));
  const sketched = roundTrip(summaryOf('b', 400, 1000, [22], 100));
  const listed = roundTrip(summaryOf('c', 1000, 1100, [22]));
  assert.ok(exactButLarge.targets === undefined && exactButLarge.sketch !== undefined, `over ${SUMMARY_EXACT_MAX}: sketched`);
  assert.ok(sketched.sketch !== undefined);
  assert.ok(listed.targets !== undefined);
  assert.equal(Buffer.from(sketched.sketch.targets, 'base64').length, 256);
  const m = mergeSummaries([exactButLarge, sketched, listed], 1);
  assert.equal(m.exact, false);
  // HLL of 256 registers: about 6.5 % standard error; 3 sigma.
  assert.ok(Math.abs(m.counts.hosts - 1100) < 1100 * 0.2, `hosts ${m.counts.hosts}`);
  assert.ok(Math.abs(m.counts.targets - 1100) < 1100 * 0.2, `targets ${m.counts.targets}`);
  assert.equal(m.counts.ports, 1);
  // The same sensors again (a redelivery) change nothing: a union.
  const again = mergeSummaries([exactButLarge, sketched, listed, listed, exactButLarge], 1);
  assert.equal(again.counts.hosts, m.counts.hosts);
});

test('what is not a version-1 summary is refused, not merged', () => {
  const good = summaryOf('a', 0, 3, [80]);
  const bad = [
    'not json', '{}', JSON.stringify({ ...good, v: 2 }), JSON.stringify({ ...good, sensor: 'a b' }), JSON.stringify({ ...good, first: [1] }),
    JSON.stringify({ ...good, targets: ['no-bar'] }), JSON.stringify({ ...good, targets: undefined }), JSON.stringify({ ...good, attempts: -1 }),
  ];
  for (const b of bad) assert.equal(parseSummary(Buffer.from(b)), null, b.slice(0, 60));
  assert.notEqual(parseSummary(Buffer.from(JSON.stringify(good))), null);
});

test('correlate raises only what the merged counts cross and no single sensor does', () => {
  const policy = structuredClone(DEFAULT_POLICY.scan);
  const th = policy.presets[policy.sensitivity];
  const half = Math.ceil(th.sweepHosts / 2);
  const state = (...l: FleetSummary[]): SourceState => Object.fromEntries(l.map((s) => [s.sensor, s]));
  // Each under the sweep threshold, together over it.
  assert.deepEqual(fleetOnlyKinds(state(summaryOf('a', 0, half, [80]), summaryOf('b', half, 2 * half, [80])), policy)?.kinds, ['sweep']);
  // One sensor crossed it alone: its own alert is the sensor's; correlate adds nothing.
  const one = fleetOnlyKinds(state(summaryOf('a', 0, th.sweepHosts, [80]), summaryOf('b', 100, 103, [80])), policy);
  assert.deepEqual(one?.kinds, []);
  assert.equal(one?.reported, null, 'one sensor reported it: no fleet view');
  // Two sensors crossed it alone: the one fleet view naming both, no fleet-only kind beside it.
  const two = fleetOnlyKinds(state(summaryOf('a', 0, th.sweepHosts, [80]), summaryOf('b', 100, 100 + th.sweepHosts, [80]), summaryOf('c', 500, 502, [80])), policy);
  assert.deepEqual(two?.kinds, []);
  assert.deepEqual({ kind: two?.reported?.kind, sensors: two?.reported?.sensors }, { kind: 'sweep', sensors: ['a', 'b'] });
  // The same hosts seen twice are not twice the hosts.
  assert.deepEqual(fleetOnlyKinds(state(summaryOf('a', 0, half, [80]), summaryOf('b', 0, half, [80])), policy)?.kinds, []);
  // One sensor: nothing to correlate.
  assert.equal(fleetOnlyKinds(state(summaryOf('a', 0, 3 * half, [80])), policy), null);
  // A newer summary of a sensor replaces its older one; a redelivered older one does not.
  const st = state(summaryOf('a', 0, 2, [80]));
  const newer = { ...summaryOf('a', 0, 5, [80]), last: [300, 0] as [number, number], seq: 2 };
  assert.equal(applySummary(st, newer), true);
  assert.equal(applySummary(st, summaryOf('a', 0, 2, [80])), false);
  assert.equal(st.a.n.hosts, 5);
});

test('probe times: a fast scan split over sensors is not paced across them; without the times, the sensors\' own counts', () => {
  // One probe every 0.4 s, dealt round-robin to three sensors: each sees one every 1.2 s (none quick, at 1 s).
  const withTimes = [0, 1, 2].map((k) => {
    const s = summaryOf(`s${k}`, 10 * k, 10 * k + 10, [80]);
    const times = Array.from({ length: 10 }, (_, i) => Math.round((i * 3 + k) * 400_000));
    return roundTrip({ ...s, first: [100, k * 400_000_000], attempts: 10, quick_probes: 0, probe_times: times.map((t) => t - k * 400_000) });
  });
  const m = mergeSummaries(withTimes, 1);
  assert.equal(m.counts.attempts, 30);
  assert.equal(m.counts.quickProbes, 29, 'every probe but the first came 0.4 s after another sensor\'s');
  const policy = structuredClone(DEFAULT_POLICY.scan);
  assert.ok(!(fleetOnlyKinds(Object.fromEntries(withTimes.map((s) => [s.sensor, s])), policy)?.kinds ?? []).includes('slow'));
  // A summary of a sensor from before probe_times: the sum of the sensors' counts.
  const old = withTimes.map((s) => ({ ...s, probe_times: undefined }));
  assert.equal(mergeSummaries(old, 1).counts.quickProbes, 0);
});

test('ICMP-probed hosts: the union of the sensors\' lists (overlaps once), sketched past the list\'s bound', () => {
  const ping = (sensor: string, from: number, to: number): FleetSummary => {
    const s = summaryOf(sensor, 0, 0, [80]);
    const hosts = Array.from({ length: to - from }, (_, i) => `10.2.${(from + i) >> 8}.${(from + i) & 255}`);
    return roundTrip(buildSummary({
      sensor, source: s.source, seq: 1, first: s.first, last: s.last, outcomes: s.outcomes,
      counts: { targets: 0, hosts: 0, ports: 0, maxPortsOneHost: 0, pingHosts: hosts.length, maxUdpPortsOneHost: 0, attempts: hosts.length, quickProbes: 0, durationSeconds: 100 },
      failed: null, pingHosts: hosts, probeTimes: null, sampleHosts: [], samplePorts: [], tool: null,
    }));
  };
  const a = ping('a', 0, 10);
  assert.deepEqual(a.targets, [], 'no failed target: an empty list');
  assert.equal(a.ping?.length, 10);
  assert.equal(mergeSummaries([a, ping('b', 5, 20)], 1).counts.pingHosts, 20);
  const big = ping('c', 0, 600);
  assert.ok(big.ping === undefined && big.ping_sketch !== undefined);
  const est = mergeSummaries([big, ping('d', 600, 700)], 1).counts.pingHosts;
  assert.ok(Math.abs(est - 700) < 700 * 0.2, `ping hosts ${est}`);
  // A summary from before the lists (ping_hosts only): the sum of the counts.
  const old = { ...a, ping: undefined };
  assert.equal(mergeSummaries([old, ping('b', 5, 20)], 1).counts.pingHosts, 25);
});

test('a fleet-only incident: a first document, updates only when a kind or the severity changes', () => {
  const policy = structuredClone(DEFAULT_POLICY.scan);
  policy.severityLargeHosts = 40;
  const state = (...l: FleetSummary[]): SourceState => Object.fromEntries(l.map((s) => [s.sensor, s]));
  const judge = (st: SourceState) => fleetOnlyKinds(st, policy)!;
  const j1 = judge(state(summaryOf('a', 0, 15, [80]), summaryOf('b', 15, 30, [80])));
  const first = nextFleetDocument(null, j1.kinds, '198.18.0.9', j1.merged, policy);
  assert.ok(first !== null);
  assert.deepEqual({ trigger: first.trigger, documents: first.incident.documents, kinds: first.incident.kinds, severity: first.incident.severity },
    { trigger: 'sweep', documents: 1, kinds: ['sweep'], severity: 'medium' });
  // More hosts, still under the large-target level: nothing.
  const j2 = judge(state(summaryOf('a', 0, 18, [80]), summaryOf('b', 18, 36, [80])));
  assert.equal(nextFleetDocument(first.incident, j2.kinds, '198.18.0.9', j2.merged, policy), null);
  // Past it: an update of the same incident, one level up.
  const j3 = judge(state(summaryOf('a', 0, 20, [80]), summaryOf('b', 20, 40, [80])));
  const upd = nextFleetDocument(first.incident, j3.kinds, '198.18.0.9', j3.merged, policy);
  assert.deepEqual({ id: upd?.incident.id, documents: upd?.incident.documents, severity: upd?.incident.severity, trigger: upd?.trigger },
    { id: first.incident.id, documents: 2, severity: 'high', trigger: 'sweep' });
  // The same state again: nothing.
  assert.equal(nextFleetDocument(upd!.incident, j3.kinds, '198.18.0.9', j3.merged, policy), null);
  // More ports on each sensor's hosts (4 and 2, 5 together) make it mixed: a new kind, an update.
  const j4 = judge(state(summaryOf('a', 0, 20, [80, 443, 22, 21]), summaryOf('b', 20, 40, [80, 25])));
  const mixed = nextFleetDocument(upd!.incident, j4.kinds, '198.18.0.9', j4.merged, policy);
  assert.deepEqual({ documents: mixed?.incident.documents, kinds: mixed?.incident.kinds, trigger: mixed?.trigger }, { documents: 3, kinds: ['sweep', 'mixed'], trigger: 'mixed' });
});
