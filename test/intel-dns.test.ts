import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { parse } from 'yaml';
import { get, PCAPS, picket, ROOT, tmpDir, tshark } from './helpers';

/** The bundled intel domains, read straight from the rules file: the test's own oracle, not picket's loader. */
function bundledDomains(): string[] {
  const doc = parse(fs.readFileSync(path.join(ROOT, 'rules', 'intel', 'ip-intel.yaml'), 'utf8')) as { domains: Array<{ domain: string }> };
  return doc.domains.map((d) => d.domain);
}

/** Which bundled domain a name falls under, by plain string comparison. */
function expectedIndicator(name: string, domains: string[]): string | undefined {
  const n = name.toLowerCase().replace(/\.$/, '');
  return domains.find((d) => n === d || n.endsWith(`.${d}`));
}

const intelPcap = path.join(PCAPS, 'intel-dns.pcap');

test('the seeds\' 25 IP-intel domains are the bundled list', () => {
  const seeds = ['shodan.io', 'censys.io', 'ipinfo.io', 'ipapi.co', 'ip-api.com', 'ipwhois.io', 'bgp.he.net', 'arin.net', 'ripe.net',
    'apnic.net', 'lacnic.net', 'afrinic.net', 'spyse.com', 'fofa.info', 'zoomeye.org', 'dnsdumpster.com', 'hackertarget.com',
    'viewdns.info', 'ipvoid.com', 'whatismyipaddress.com', 'ip2location.com', 'maxmind.com', 'greynoise.io', 'binaryedge.io', 'onyphe.io'];
  assert.deepEqual([...bundledDomains()].sort(), [...seeds].sort());
});

test('intel.dns: one alert per (client, intel entry) for every query tshark sees under an intel domain, none for look-alikes', () => {
  const domains = bundledDomains();
  const queries = tshark(intelPcap, 'dns.flags.response == 0', ['frame.number', 'ip.src', 'ipv6.src', 'dns.qry.name']);
  const expected = new Map<string, { frame: number; name: string }>();
  let benign = 0;
  for (const [frame, ip4, ip6, name] of queries) {
    const ind = expectedIndicator(name, domains);
    if (ind === undefined) {
      benign++;
      continue;
    }
    const key = `${ip4 !== '' ? ip4 : ip6}|${ind}`;
    if (!expected.has(key)) expected.set(key, { frame: Number(frame), name: name.toLowerCase() });
  }
  assert.ok(expected.size >= 5, 'the capture has intel queries');
  assert.ok(benign >= 3, 'the capture has benign queries too');

  const r = picket(['replay', intelPcap]);
  assert.equal(r.code, 0, r.stderr);
  const first = r.docs.filter((d) => get(d, 'rule.id') === 'intel.dns' && get(d, 'picket.update') === false);
  const got = new Map<string, { frame: number; name: string }>();
  for (const d of first) {
    const key = `${get(d, 'source.ip') as string}|${get(d, 'picket.intel.indicator') as string}`;
    assert.ok(!got.has(key), `one first alert per client and entry: ${key}`);
    got.set(key, { frame: get(d, 'picket.packet') as number, name: get(d, 'dns.question.name') as string });
  }
  assert.deepEqual([...got.keys()].sort(), [...expected.keys()].sort());
  for (const [k, v] of expected) assert.deepEqual(got.get(k), v, k);
  for (const d of r.docs.filter((x) => get(x, 'event.kind') === 'alert')) {
    const name = get(d, 'dns.question.name') as string;
    assert.ok(!/(^|\.)notshodan\.io$|(^|\.)myshodan\.io$|shodan\.io\.example\.net$/.test(name), `look-alike ${name} must not alert`);
  }
});

test('intel.dns alerts carry the ECS fields SIEM rules are written against', () => {
  const r = picket(['replay', intelPcap]);
  const d = r.docs.find((x) => get(x, 'dns.question.name') === 'whois.arin.net' && get(x, 'picket.update') === false);
  assert.ok(d !== undefined, 'whois.arin.net alerts (a subdomain of arin.net)');
  assert.equal(get(d, 'event.kind'), 'alert');
  assert.equal(get(d, 'rule.id'), 'intel.dns');
  assert.equal(typeof get(d, 'rule.name'), 'string');
  assert.equal(get(d, 'event.severity'), 21, 'the registries are low severity in the bundled list');
  assert.equal(get(d, 'threat.framework'), 'MITRE ATT&CK');
  assert.equal(get(d, 'threat.tactic.id'), 'TA0043');
  assert.equal(get(d, 'threat.technique.id'), 'T1590');
  assert.equal(get(d, 'threat.technique.subtechnique.id'), 'T1590.005');
  assert.equal(get(d, 'destination.domain'), 'whois.arin.net');
  assert.equal(get(d, 'destination.port'), 53);
  assert.equal(get(d, 'network.transport'), 'udp');
  assert.equal(get(d, 'network.protocol'), 'dns');
  assert.equal(get(d, 'picket.intel.indicator'), 'arin.net');
  assert.equal(get(d, 'threat.enrichments.0.matched.atomic'), 'arin.net');
  assert.equal(get(d, 'picket.branch'), 'IPIntelDNSLookup');
  assert.match(get(d, 'picket.intel.source') as string, /rules\/intel\/ip-intel\.yaml$/);
  assert.equal(get(d, 'observer.product'), 'picket');
  assert.match(get(d, 'event.start') as string, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
  // Subdomains and mixed case on the wire (ApI.ShOdAn.Io) fold into the client's shodan.io alert, lower-cased.
  const sh = r.docs.find((x) => get(x, 'rule.id') === 'intel.dns' && get(x, 'picket.intel.indicator') === 'shodan.io' && get(x, 'picket.update') === true);
  assert.ok(sh !== undefined);
  const names = get(sh, 'picket.intel.names') as string[];
  assert.ok(names.includes('api.shodan.io') && names.includes('shodan.io'), names.join(','));
  assert.ok(names.every((n) => n === n.toLowerCase()));
});

test('a benign capture with no intel names raises no alert', () => {
  const names = tshark(path.join(PCAPS, 'benign.pcap'), 'dns.flags.response == 0', ['dns.qry.name']);
  assert.ok(names.length >= 3, 'benign capture has DNS queries');
  const r = picket(['replay', path.join(PCAPS, 'benign.pcap')]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.docs.filter((d) => get(d, 'event.kind') === 'alert').length, 0, r.stdout);
  assert.match(r.stderr, /alerts: 0/);
  // The run's counters close the output.
  const last = r.docs[r.docs.length - 1];
  assert.equal(get(last, 'event.kind'), 'metric');
  assert.equal(get(last, 'picket.stats.packets'), tshark(path.join(PCAPS, 'benign.pcap'), '', ['frame.number']).length);
});

test('repeats fold into one update alert carrying the count and the time span', () => {
  // The same capture named twice: every intel query is seen twice by the same clients.
  const r = picket(['replay', intelPcap, intelPcap]);
  assert.equal(r.code, 0, r.stderr);
  const firsts = r.docs.filter((d) => get(d, 'rule.id') === 'intel.dns' && get(d, 'picket.update') === false);
  const updates = r.docs.filter((d) => get(d, 'rule.id') === 'intel.dns' && get(d, 'picket.update') === true);
  assert.ok(updates.length > 0);
  for (const u of updates) {
    const key = `${get(u, 'source.ip') as string}|${get(u, 'picket.intel.indicator') as string}`;
    const f = firsts.find((x) => `${get(x, 'source.ip') as string}|${get(x, 'picket.intel.indicator') as string}` === key);
    assert.ok(f !== undefined, 'an update follows a first alert');
    assert.ok((get(u, 'picket.count') as number) >= 2);
    assert.equal(get(u, 'event.start'), get(f, 'event.start'));
  }
  // Every query under an intel domain is counted exactly once across first alerts and updates.
  const total = tshark(intelPcap, 'dns.flags.response == 0', ['dns.qry.name']).filter(([n]) => expectedIndicator(n, bundledDomains()) !== undefined).length * 2;
  const counted = firsts.length + updates.reduce((s, u) => s + (get(u, 'picket.count') as number) - 1, 0);
  assert.equal(counted, total);
});

type Doc = Record<string, unknown>;

test('intel.max_tracked: the least recently seen sighting is closed with its update when the bound is reached, no repeat lost', () => {
  const dir = tmpDir('rules');
  fs.writeFileSync(path.join(dir, 'tight.yaml'), 'kind: policy\nintel:\n  max_tracked: 2\n');
  const intelDns = (docs: Doc[]): Doc[] => docs.filter((d) => get(d, 'rule.id') === 'intel.dns');
  const tight = intelDns(picket(['replay', '--rules', dir, intelPcap, intelPcap]).docs);
  const roomy = intelDns(picket(['replay', intelPcap, intelPcap]).docs);
  const total = tshark(intelPcap, 'dns.flags.response == 0', ['dns.qry.name']).filter(([n]) => expectedIndicator(n, bundledDomains()) !== undefined).length * 2;
  for (const docs of [tight, roomy]) {
    const counted = docs.reduce<number>((s, d) => s + (get(d, 'picket.update') === true ? (get(d, 'picket.count') as number) - 1 : 1), 0);
    assert.equal(counted, total, 'every query counted once, in a first alert or in an update');
  }
  // With room for all, every update waits for the end of input; with two open at most, updates are written as
  // sightings are evicted, before later first alerts, and the evicted ones alert afresh when seen again.
  const updatesBeforeLastFirst = (docs: Doc[]): number => {
    let lastFirst = docs.length - 1;
    while (lastFirst >= 0 && get(docs[lastFirst], 'picket.update') !== false) lastFirst--;
    return docs.slice(0, lastFirst).filter((d) => get(d, 'picket.update') === true).length;
  };
  assert.equal(updatesBeforeLastFirst(roomy), 0);
  assert.ok(updatesBeforeLastFirst(tight) >= 3, `evictions wrote updates mid-run: ${updatesBeforeLastFirst(tight)}`);
  const firsts = (docs: Doc[]): number => docs.filter((d) => get(d, 'picket.update') === false).length;
  assert.ok(firsts(tight) > firsts(roomy), `${firsts(tight)} first alerts with max_tracked 2, ${firsts(roomy)} without`);
  // Each update closes a sighting that its first alert opened: same client, entry and event.start.
  for (const [i, u] of tight.entries()) {
    if (get(u, 'picket.update') !== true) continue;
    const opened = tight.slice(0, i).reverse().find((f) => get(f, 'picket.update') === false && get(f, 'source.ip') === get(u, 'source.ip')
      && get(f, 'picket.intel.indicator') === get(u, 'picket.intel.indicator'));
    assert.ok(opened !== undefined, 'an update follows its first alert');
    assert.equal(get(u, 'event.start'), get(opened, 'event.start'));
  }
});

test('--rules adds a user list; a later file overrides a bundled entry', () => {
  const dir = tmpDir('rules');
  fs.writeFileSync(path.join(dir, 'mine.yaml'), 'kind: intel-domains\ndomains:\n  - example.org\n  - { domain: shodan.io, severity: critical }\n');
  const r = picket(['replay', '--rules', dir, path.join(PCAPS, 'benign.pcap'), intelPcap]);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(r.docs.some((d) => get(d, 'picket.intel.indicator') === 'example.org'));
  const sh = r.docs.find((d) => get(d, 'picket.intel.indicator') === 'shodan.io');
  assert.equal(get(sh as Record<string, unknown>, 'event.severity'), 99);
  fs.rmSync(dir, { recursive: true });
});
