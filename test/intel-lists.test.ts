import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { loadRules } from '../src/config/rules';
import { matchAddress4, matchAddress6, matchDomain } from '../src/intel/domains';
import { parseIpv4, parseIpv6 } from '../src/config/homenet';
import { get, PCAPS, picket, tmpDir, tshark } from './helpers';

test('a plain list and a Zeek intel file load as they are, with domains, addresses and CIDRs', () => {
  const dir = tmpDir('lists');
  fs.writeFileSync(path.join(dir, 'mine.txt'), '# my list\nexample.org   # the benign capture asks for it\n192.0.2.7\n2001:db8::/32\n\n');
  fs.writeFileSync(path.join(dir, 'feed.intel'), [
    '#separator \\x09',
    '#fields\tindicator\tindicator_type\tmeta.source\tmeta.desc',
    'whatsmyip.example\tIntel::DOMAIN\tfeedA\tIP lookup',
    '198.51.100.0/24\tIntel::SUBNET\tfeedA\t-',
    '203.0.113.9\tIntel::ADDR\t-\t-',
    'http://x.example/a\tIntel::URL\tfeedA\tnot for picket',
  ].join('\n') + '\n');
  const rules = loadRules([dir]);
  const idx = rules.intel;
  assert.equal(idx.entries[matchDomain(idx, 'www.example.org')].indicator, 'example.org');
  assert.equal(idx.entries[matchDomain(idx, 'a.whatsmyip.example')].category, 'feedA');
  assert.equal(idx.entries[matchAddress4(idx, parseIpv4('192.0.2.7'))].type, 'addr');
  assert.equal(matchAddress4(idx, parseIpv4('192.0.2.8')), -1);
  assert.equal(idx.entries[matchAddress4(idx, parseIpv4('198.51.100.200'))].indicator, '198.51.100.0/24');
  assert.equal(idx.entries[matchAddress4(idx, parseIpv4('203.0.113.9'))].line, 5);
  assert.equal(idx.entries[matchAddress6(idx, parseIpv6('2001:db8:1::5'), 0)].type, 'subnet');
  assert.equal(matchAddress6(idx, parseIpv6('2001:db9::1'), 0), -1);
  assert.ok(!idx.entries.some((e) => e.indicator.startsWith('http')), 'URL rows are left out');

  // End to end: the user's plain list raises intel.dns on the benign capture.
  const r = picket(['replay', '--rules', dir, path.join(PCAPS, 'benign.pcap')]);
  assert.equal(r.code, 0, r.stderr);
  const a = r.docs.find((d) => get(d, 'picket.intel.indicator') === 'example.org');
  assert.ok(a !== undefined);
  assert.match(get(a, 'picket.intel.source') as string, /mine\.txt$/);
  assert.equal(get(a, 'picket.intel.line'), 2);
  fs.rmSync(dir, { recursive: true });
});

test('bad list lines stop start-up naming file and line', () => {
  const dir = tmpDir('badlists');
  fs.writeFileSync(path.join(dir, 'bad.txt'), 'example.org\nnot a domain!\n');
  let r = picket(['replay', '--rules', dir, path.join(PCAPS, 'benign.pcap')]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /bad\.txt:2: "not a domain!" is not a domain, an address or a CIDR/);
  fs.rmSync(path.join(dir, 'bad.txt'));
  fs.writeFileSync(path.join(dir, 'bad.intel'), '#fields\tindicator\tindicator_type\n1.2.3.4\tIntel::ADDR\textra\n');
  r = picket(['replay', '--rules', dir, path.join(PCAPS, 'benign.pcap')]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /bad\.intel:2: 3 columns where #fields names 2/);
  fs.rmSync(dir, { recursive: true });
});

test('internationalised names: matched in their wire (punycode) form, reported also decoded', () => {
  const dir = tmpDir('idn');
  // Written in Unicode in the list; the capture's dig query carries xn--mnchen-3ya.example.
  fs.writeFileSync(path.join(dir, 'idn.txt'), 'münchen.example\n');
  const wire = tshark(path.join(PCAPS, 'intel-dns.pcap'), 'dns.flags.response == 0 && dns.qry.name contains "xn--"', ['dns.qry.name']);
  assert.ok(wire.length > 0, 'the capture has a punycode query');
  const r = picket(['replay', '--quiet', '--rules', dir, path.join(PCAPS, 'intel-dns.pcap')]);
  assert.equal(r.code, 0, r.stderr);
  const a = r.docs.find((d) => get(d, 'picket.intel.indicator') === 'xn--mnchen-3ya.example');
  assert.ok(a !== undefined, 'the Unicode list entry matches the punycode query');
  assert.equal(get(a, 'dns.question.name'), wire[0][0]);
  assert.equal(get(a, 'picket.name_unicode'), 'münchen.example');
  fs.rmSync(dir, { recursive: true });
});
