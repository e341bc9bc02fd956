import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { get, PCAPS, picket, tmpDir, tshark } from './helpers';

/**
 * Issue 5's captures (pcaps/make-recon.sh: the real nmap, masscan, sqlmap, dig, smbclient, curl, wget in namespaces
 * of its own): each must raise exactly the probe./dns. alerts its truth.json entry expects, naming the tool where
 * the traffic names it, and the benign ones nothing at all.
 */
const RECON = path.join(PCAPS, 'recon');
interface Expect { rule: string; tool: string }
interface Entry { benign: boolean; tool: string; client: string | string[]; server: string; expect: Expect[] }
const truth = (JSON.parse(fs.readFileSync(path.join(RECON, 'truth.json'), 'utf8')) as { files: Record<string, Entry> }).files;
/** Tools whose traffic names them (transaction ids, strings); dig and curl are ordinary clients and stay unnamed. */
const NAMEABLE = new Set(['nmap', 'masscan', 'zgrab', 'nuclei', 'nikto', 'censys', 'sqlmap']);

function reconAlerts(file: string, extra: string[] = []): Array<Record<string, unknown>> {
  const r = picket(['replay', '--quiet', ...extra, path.join(RECON, file)]);
  assert.equal(r.code, 0, r.stderr);
  return r.docs.filter((d) => /^(probe|dns)\./.test(String(get(d, 'rule.id'))));
}

for (const [file, t] of Object.entries(truth)) {
  test(`${file}: ${t.benign ? 'benign, raises nothing' : t.expect.map((e) => `${e.rule} (${e.tool})`).join(', ')}`, () => {
    const r = picket(['replay', '--quiet', path.join(RECON, file)]);
    assert.equal(r.code, 0, r.stderr);
    const alerts = r.docs.filter((d) => get(d, 'event.kind') === 'alert');
    if (t.benign) {
      assert.deepEqual(alerts.map((d) => get(d, 'rule.id')), [], 'no alert of any kind on benign traffic');
      return;
    }
    const recon = alerts.filter((d) => /^(probe|dns)\./.test(String(get(d, 'rule.id'))));
    const want = [...new Set(t.expect.map((e) => e.rule))].sort();
    assert.deepEqual([...new Set(recon.map((d) => String(get(d, 'rule.id'))))].sort(), want);
    for (const e of t.expect) {
      const mine = recon.filter((d) => get(d, 'rule.id') === e.rule);
      const tools = new Set(mine.map((d) => get(d, 'threat.software.name')));
      if (NAMEABLE.has(e.tool)) assert.ok(tools.has(e.tool), `${e.rule} names ${e.tool}: got ${[...tools].join(',')}`);
      else assert.deepEqual([...tools], [undefined], `${e.tool} is an ordinary client: no tool named`);
    }
    const clients = Array.isArray(t.client) ? t.client : [t.client];
    for (const d of recon) assert.ok(clients.includes(String(get(d, 'source.ip'))), 'the client is the source');
  });
}

test('dns.* counts equal tshark\'s reading of the same captures', () => {
  // PTR sweep: distinct reverse names asked.
  const ptrFile = path.join(RECON, 'ptr-sweep.pcap');
  const ptrNames = new Set(tshark(ptrFile, 'dns.flags.response == 0 && dns.qry.type == 12', ['dns.qry.name']).map(([n]) => n.toLowerCase()));
  const ptr = reconAlerts('ptr-sweep.pcap').filter((d) => get(d, 'picket.final') === true);
  assert.equal(ptr.length, 1);
  assert.equal(get(ptr[0], 'picket.dns_recon.names'), ptrNames.size);
  const resolved = tshark(ptrFile, 'dns.flags.response == 1 && dns.qry.type == 12 && dns.flags.rcode == 0 && dns.count.answers > 0', ['frame.number']).length;
  assert.equal(get(ptr[0], 'picket.dns_recon.answered'), resolved, 'what the sweep learned: reverse names that resolved');
  // Brute force: distinct NXDOMAIN names under the parent.
  const bruteFile = path.join(RECON, 'dns-brute.pcap');
  const nx = new Set(tshark(bruteFile, 'dns.flags.response == 1 && dns.flags.rcode == 3', ['dns.qry.name']).map(([n]) => n.toLowerCase()).filter((n) => n.endsWith('.corp.test') && n.split('.').length === 3));
  const brute = reconAlerts('dns-brute.pcap').filter((d) => get(d, 'picket.final') === true);
  assert.equal(brute.length, 1);
  assert.equal(get(brute[0], 'dns.question.name'), 'corp.test');
  assert.equal(get(brute[0], 'picket.dns_recon.names'), nx.size);
  // Zone transfers: each refused, as tshark reads the rcode.
  const axfr = reconAlerts('dig-axfr.pcap').filter((d) => get(d, 'picket.update') === false);
  const rcodes = tshark(path.join(RECON, 'dig-axfr.pcap'), 'dns.flags.response == 1 && (dns.qry.type == 252 || dns.qry.type == 251)', ['dns.flags.rcode']).map(([c]) => c);
  assert.ok(rcodes.length >= 2 && rcodes.every((c) => c === '5'), 'the server refused every transfer');
  for (const d of axfr) {
    assert.equal(get(d, 'dns.response_code'), 'REFUSED');
    assert.equal(get(d, 'picket.dns_recon.transferred'), false);
    assert.equal(get(d, 'event.severity'), 47);
  }
});

test('signatures and DNS thresholds are rules: a user signature fires, a bad one stops start-up naming file and line', () => {
  const dir = tmpDir('sigrules');
  fs.writeFileSync(path.join(dir, 'mine.yaml'), 'kind: probe-signatures\nsignatures:\n  - id: wget-inventory\n    rule: probe.inventory\n    tool: wget\n    where: http.user_agent\n    prefix: "Wget/"\n');
  const mine = reconAlerts('http-benign.pcap', ['--rules', dir]);
  assert.ok(mine.length > 0 && mine.every((d) => get(d, 'rule.id') === 'probe.inventory' && get(d, 'threat.software.name') === 'wget'));
  fs.writeFileSync(path.join(dir, 'mine.yaml'), 'kind: probe-signatures\nsignatures:\n  - id: x\n    rule: probe.x\n    tool: x\n    where: payload\n    contains: abc\n');
  const bad = picket(['replay', '--rules', dir, path.join(RECON, 'http-benign.pcap')]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /mine\.yaml:3: a payload signature needs "ports"/);
  // A stricter PTR threshold than the 64 addresses of dig's sweep: no alert.
  fs.writeFileSync(path.join(dir, 'mine.yaml'), 'kind: dns-recon-policy\nptr_sweep_addresses: 100\n');
  assert.deepEqual(reconAlerts('ptr-sweep-dig.pcap', ['--rules', dir]), []);
  fs.rmSync(dir, { recursive: true });
});
