import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { get, PCAPS, picket, tmpDir, tshark, tsharkFailedTcpTargets } from './helpers';

/**
 * Half-open TCP attempts (issue 13) on real captures (pcaps/make-halfopen.sh): SYN scans by zmap and nmap of a port
 * that is OPEN on every target, so each probe is answered by a SYN-ACK and reset by the scanner's kernel; nmap's
 * connect scan (the reset comes after the handshake); nmap -6 over IPv6; and a benign curl whose Happy Eyeballs
 * race leaves the same SYN, SYN-ACK, RST behind. tshark is the reference for every count.
 */
const DIR = path.join(PCAPS, 'halfopen');
const file = (name: string): string => path.join(DIR, name);

type Doc = Record<string, unknown>;

function replay(name: string, extra: string[] = []): Doc[] {
  const r = picket(['replay', '--quiet', ...extra, file(name)]);
  assert.equal(r.code, 0, r.stderr);
  return r.docs;
}

const alertsOf = (docs: Doc[]): Doc[] => docs.filter((d) => get(d, 'event.kind') === 'alert');

/** The one final summary of a rule (exactly one: a scan is one incident). */
function finalOf(docs: Doc[], rule: string): Doc {
  const finals = docs.filter((d) => get(d, 'rule.id') === rule && get(d, 'picket.final') === true);
  assert.equal(finals.length, 1, `one final ${rule} summary, got ${finals.length}`);
  return finals[0];
}

/** tshark's TCP attempts of one prober: its SYNs that open a connection (tshark's streams), and their targets. */
function tsharkAttempts(name: string, prober: string): { attempts: number; hosts: Set<string> } {
  const rows = tshark(file(name), 'tcp.flags.syn == 1 && tcp.flags.ack == 0', ['tcp.stream', 'ip.src', 'ipv6.src', 'ip.dst', 'ipv6.dst'])
    .filter(([, s4, s6]) => (s4 || s6) === prober);
  return { attempts: new Set(rows.map(([stream]) => stream)).size, hosts: new Set(rows.map(([, , , d4, d6]) => d4 || d6)) };
}

/** tshark's half-open attempts of one prober, and the hosts it failed on (closed or half-open), as picket counts them. */
function tsharkFailed(name: string, prober: string): { halfOpen: number; closed: number; hosts: Set<string> } {
  const f = tsharkFailedTcpTargets(file(name));
  const mine = (keys: Set<string>): string[] => [...keys].filter((k) => k.startsWith(`${prober} `)).map((k) => k.slice(prober.length + 1));
  const host = (target: string): string => target.slice(0, target.lastIndexOf(':'));
  const all = [...f.closed, ...f.halfOpen].every((k) => k.startsWith(`${prober} `));
  assert.ok(all, `${name}: every failed target is the scanner's`);
  return { halfOpen: f.halfOpenAttempts, closed: mine(f.closed).length, hosts: new Set([...mine(f.closed), ...mine(f.halfOpen)].map(host)) };
}

for (const [name, tool] of [['zmap-open.pcap', 'zmap'], ['nmap-open.pcap', 'nmap']] as const) {
  test(`${name}: a ${tool} SYN sweep of open ports is a sweep of half-open attempts, the tool named`, () => {
    const sweep = finalOf(replay(name), 'scan.sweep');
    const scanner = String(get(sweep, 'source.ip'));
    const t = tsharkFailed(name, scanner);
    const a = tsharkAttempts(name, scanner);
    assert.equal(get(sweep, 'threat.software.name'), tool);
    assert.ok(t.halfOpen >= 60, `tshark: ${t.halfOpen} half-open attempts (the capture must show the pattern)`);
    assert.equal(t.closed, 0, 'tshark: no port was closed');
    assert.equal(get(sweep, 'picket.scan.outcomes.half_open'), t.halfOpen);
    assert.equal(get(sweep, 'picket.scan.outcomes.rejected'), 0);
    assert.equal(get(sweep, 'picket.scan.attempts'), a.attempts);
    assert.equal(get(sweep, 'picket.scan.outcomes.answered'), a.attempts - t.halfOpen);
    assert.equal(get(sweep, 'picket.scan.hosts'), t.hosts.size);
    assert.equal(t.hosts.size, a.hosts.size, 'every probed host failed (half-open)');
  });
}

test('nmap-connect.pcap: a connect scan completes each handshake and then resets it: half-open, a sweep', () => {
  const sweep = finalOf(replay('nmap-connect.pcap'), 'scan.sweep');
  const scanner = String(get(sweep, 'source.ip'));
  const t = tsharkFailed('nmap-connect.pcap', scanner);
  // The resets come after the handshake: tshark shows the scanner's ACK of each SYN-ACK (no payload either way).
  const acks = tshark(file('nmap-connect.pcap'), `ip.src == ${scanner} && tcp.flags == 0x010 && tcp.len == 0`, ['tcp.stream']);
  const resets = tshark(file('nmap-connect.pcap'), `ip.src == ${scanner} && tcp.flags.reset == 1`, ['tcp.stream']);
  assert.ok(t.halfOpen >= 60, `tshark: ${t.halfOpen} half-open attempts`);
  assert.equal(new Set(acks.map(([s]) => s)).size, t.halfOpen, 'each half-open connection was completed first');
  assert.equal(new Set(resets.map(([s]) => s)).size, t.halfOpen);
  assert.equal(get(sweep, 'picket.scan.outcomes.half_open'), t.halfOpen);
  assert.equal(get(sweep, 'picket.scan.outcomes.answered'), tsharkAttempts('nmap-connect.pcap', scanner).attempts - t.halfOpen);
  assert.equal(get(sweep, 'picket.scan.hosts'), t.hosts.size);
});

test('happy-eyeballs-benign.pcap: a client racing IPv6 and IPv4 resets late SYN-ACKs and raises nothing', () => {
  const f = tsharkFailedTcpTargets(file('happy-eyeballs-benign.pcap'));
  // The capture really holds the pattern: late IPv6 SYN-ACKs reset by the client (else this test proves nothing).
  assert.ok(f.halfOpenAttempts > 0, 'tshark: the client reset SYN-ACKs');
  assert.ok([...f.halfOpen].every((k) => k.includes('::')), 'the reset attempts are the IPv6 ones');
  assert.ok(tshark(file('happy-eyeballs-benign.pcap'), 'http.response.code == 200', ['tcp.stream']).length > 0, 'the IPv4 fetches worked');
  const docs = replay('happy-eyeballs-benign.pcap');
  assert.deepEqual(alertsOf(docs).map((d) => get(d, 'rule.id')), []);
  // An empty result is not a crash: the run read the whole capture and wrote its final stats document.
  const stats = docs.filter((d) => get(d, 'event.dataset') === 'picket.stats');
  assert.equal(stats.length, 1);
  assert.equal(get(stats[0], 'picket.stats.packets'), tshark(file('happy-eyeballs-benign.pcap'), '', ['frame.number']).length);

  // Silent by threshold, not blind: with a sweep threshold of one host the client's half-open attempts show.
  const dir = tmpDir('halfopen');
  fs.writeFileSync(path.join(dir, 'scan.yaml'), 'kind: scan-policy\npresets:\n  medium:\n    sweep_hosts: 1\n');
  const low = finalOf(replay('happy-eyeballs-benign.pcap', ['--rules', dir]), 'scan.sweep');
  assert.equal(get(low, 'picket.scan.outcomes.half_open'), f.halfOpenAttempts);
  fs.rmSync(dir, { recursive: true });
});

/** An nmap -6 sweep: detected, each attempt's outcome as tshark has it (open: half-open, closed: rejected). */
function nmap6(name: string): Doc {
  const alerts = alertsOf(replay(name)).filter((d) => ['scan.sweep', 'scan.port'].includes(String(get(d, 'rule.id'))));
  const finals = alerts.filter((d) => get(d, 'picket.final') === true);
  assert.equal(finals.length, 1, `${name}: one final scan.sweep or scan.port, got ${finals.length}`);
  return finals[0];
}

for (const name of ['nmap6-open.pcap', 'nmap6-closed.pcap']) {
  test(`${name}: an nmap -6 SYN sweep is detected, outcomes as tshark counts them`, () => {
    const f = nmap6(name);
    const scanner = String(get(f, 'source.ip'));
    assert.ok(scanner.includes(':'), 'an IPv6 source');
    const t = tsharkFailed(name, scanner);
    assert.equal(get(f, 'picket.scan.outcomes.half_open'), t.halfOpen);
    assert.equal(get(f, 'picket.scan.outcomes.rejected'), t.closed);
    assert.ok(name.includes('open') ? t.halfOpen >= 30 : t.closed >= 30, `tshark: ${t.halfOpen} half-open, ${t.closed} closed`);
    assert.equal(get(f, 'picket.scan.hosts'), t.hosts.size);
    // When a fingerprint names the tool over IPv6, it must be nmap (the name itself: the next test).
    const named = get(f, 'threat.software.name');
    if (named !== undefined) assert.equal(named, 'nmap');
  });
}

// Issue 13, "Tool names over IPv6": rules/fingerprints.yaml's ip_version 6 entry for nmap.
test('nmap6-open.pcap and nmap6-closed.pcap: nmap is named over IPv6 (its SYNs through the kernel\'s raw IPv6 socket: hop limit 255)', () => {
  for (const name of ['nmap6-open.pcap', 'nmap6-closed.pcap']) assert.equal(get(nmap6(name), 'threat.software.name'), 'nmap', name);
});
