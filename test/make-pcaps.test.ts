import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { committedCaptures, get, PCAPS, picket, requireTool, tmpDir, tshark } from './helpers';

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * The capture scripts' namespaces whose script is gone. They are named after the PID of the script that made them;
 * another run of the scripts (CI's or a developer's) may hold live ones at the same time.
 */
function deadScriptNamespaces(): string[] {
  return spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout.split('\n')
    .map((l) => /^(pkmk|pkq|pks|pkr|pkh|pkd|pku|pkl|pktn)-[a-z]+-(\d+)/.exec(l))
    .filter((m): m is RegExpExecArray => m !== null && !processAlive(Number(m[2])))
    .map((m) => m[0]);
}

/**
 * The committed captures are only trustworthy if the script that made them still makes them: regenerate all of
 * them with the real tools in fresh namespaces and check that picket reads the fresh ones as it reads the
 * committed ones. Needs root for the namespaces (CI runs as root); without it the test fails, never skips.
 */
test('pcaps/make.sh regenerates every committed capture, and picket reads the fresh ones the same way', { timeout: 1_500_000 }, () => {
  assert.equal(process.getuid?.(), 0, 'pcaps/make.sh needs root (network namespaces); run the suite as root as CI does');
  for (const t of ['tcpdump', 'dumpcap', 'dnsmasq', 'dig', 'nmap', 'curl', 'openssl', 'ip', 'gtlsclient', 'gtlsserver', 'masscan', 'zmap', 'hping3', 'smbd', 'smbclient', 'named', 'sqlmap', 'nc', 'nsupdate', 'iptables']) requireTool(t);
  const dest = tmpDir('make');
  // A run killed outright (SIGKILL, a machine restart) never reaches its EXIT trap: its namespaces stay behind
  // and are not this run's doing. Only a leftover that was not there before make.sh ran counts against it.
  const before = new Set(deadScriptNamespaces());
  const r = spawnSync('bash', [path.join(PCAPS, 'make.sh')], { env: { ...process.env, PKMK_DEST: dest }, encoding: 'utf8', timeout: 1_440_000 });
  assert.equal(r.status, 0, `make.sh failed:\n${r.stdout}\n${r.stderr}`);
  const leftovers = deadScriptNamespaces().filter((n) => !before.has(n));
  assert.deepEqual(leftovers, [], 'the scripts remove their namespaces');

  for (const committed of committedCaptures()) {
    const fresh = path.join(dest, path.relative(PCAPS, committed));
    assert.ok(fs.existsSync(fresh), `make.sh made ${path.relative(PCAPS, committed)}`);
    // Same DNS query names (the script's inputs), in any order: times and ports differ from run to run. nmap's
    // dns-brute first asks for two random 24-letter names (its wildcard test): those differ every run.
    const names = (f: string): string[] => tshark(f, 'dns.flags.response == 0', ['dns.qry.name']).map((x) => x[0].toLowerCase())
      .filter((n) => !/^[a-z]{24}\./.test(n)).sort();
    assert.deepEqual(names(fresh), names(committed), `${path.relative(PCAPS, committed)}: the same queries`);
    // And picket raises the same kinds of alert, naming the same tools.
    const kinds = (f: string): string[] => [...new Set(picket(['replay', '--quiet', f]).docs.filter((d) => get(d, 'event.kind') === 'alert')
      .map((d) => `${get(d, 'rule.id') as string} ${String(get(d, 'threat.software.name') ?? '-')}`))].sort();
    assert.deepEqual(kinds(fresh), kinds(committed), `${path.relative(PCAPS, committed)}: the same alerts`);
  }

  // The same SNIs in the TLS and QUIC captures (QUIC Initials are decrypted by tshark itself).
  for (const f of ['tls-split.pcap', 'quic/quic-v1.pcap']) {
    const snis = (p: string): string[] => tshark(p, 'tls.handshake.type == 1', ['tls.handshake.extensions_server_name']).map((x) => x[0]).sort();
    assert.deepEqual(snis(path.join(dest, f)), snis(path.join(PCAPS, f)), f);
  }

  const indicators = (f: string): string[] => [...new Set(picket(['replay', '--quiet', f]).docs
    .filter((d) => get(d, 'event.kind') === 'alert').map((d) => `${get(d, 'source.ip') as string} ${get(d, 'picket.intel.indicator') as string}`))].sort();
  assert.deepEqual(indicators(path.join(dest, 'intel-dns.pcap')), indicators(path.join(PCAPS, 'intel-dns.pcap')));
  assert.deepEqual(indicators(path.join(dest, 'benign.pcap')), []);
  fs.rmSync(dest, { recursive: true, force: true });
});
