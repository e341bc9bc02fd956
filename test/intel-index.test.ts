import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildDomainIndex, matchDomain, type IntelEntry } from '../src/intel/domains';
import { createResolvedCache, lookupV4, lookupV6, remapResolved, rememberV4, rememberV6 } from '../src/intel/resolved';

function entry(indicator: string): IntelEntry {
  return { indicator, type: 'domain', category: 't', severity: 'low', confidence: 'low', technique: 'T1590.005', description: '', source: 'x', line: 1 };
}

test('suffix matching: a name matches its entry and every subdomain, never a look-alike', () => {
  const idx = buildDomainIndex(['shodan.io', 'bgp.he.net', 'arin.net', 'onion', 'a.b.c.d.example'].map(entry));
  const at = (n: string): string | undefined => {
    const i = matchDomain(idx, n);
    return i < 0 ? undefined : idx.entries[i].indicator;
  };
  assert.equal(at('shodan.io'), 'shodan.io');
  assert.equal(at('api.shodan.io'), 'shodan.io');
  assert.equal(at('x.y.z.shodan.io'), 'shodan.io');
  assert.equal(at('notshodan.io'), undefined);
  assert.equal(at('shodan.io.example.net'), undefined);
  assert.equal(at('io'), undefined);
  assert.equal(at('he.net'), undefined, 'bgp.he.net does not cover its parent');
  assert.equal(at('www.he.net'), undefined);
  assert.equal(at('bgp.he.net'), 'bgp.he.net');
  assert.equal(at('x.bgp.he.net'), 'bgp.he.net');
  assert.equal(at('whois.arin.net'), 'arin.net');
  assert.equal(at('hidden.onion'), 'onion', 'a one-label entry covers its whole TLD');
  assert.equal(at('onion'), 'onion');
  assert.equal(at('b.c.d.example'), undefined);
  assert.equal(at('z.a.b.c.d.example'), 'a.b.c.d.example');
  assert.equal(at(''), undefined);
  assert.equal(at('.'), undefined);
});

test('the match memo answers as the walk does, across repeats and past its bound (it is cleared, not wrong)', () => {
  const listed = ['shodan.io', 'bgp.he.net', 'arin.net', 'censys.io'];
  const warm = buildDomainIndex(listed.map(entry));
  const names: string[] = [];
  // More distinct names than the memo holds, each asked several times, listed and not, in an order that mixes them.
  for (let i = 0; i < 6000; i++) names.push(i % 3 === 0 ? `h${i}.${listed[i % listed.length]}` : `h${i}.example${i % 7}.net`);
  let hits = 0;
  for (let round = 0; round < 3; round++) {
    for (let i = 0; i < names.length; i += 1 + round) {
      const n = names[(i * 7919) % names.length];
      const cold = buildDomainIndex(listed.map(entry));
      const got = matchDomain(warm, n);
      assert.equal(got, matchDomain(cold, n), n);
      if (got >= 0) hits++;
    }
  }
  assert.ok(hits > 1000, `listed names were asked (${hits})`);
  assert.ok(warm.memo.size > 0 && warm.memo.size <= 4096, `memo bounded (${warm.memo.size})`);
});

test('a reload keeps the DNS answers\' address ties whose names the new rules still list, under their new positions', () => {
  const before = buildDomainIndex(['shodan.io', 'censys.io', 'ipinfo.io'].map(entry));
  const after = buildDomainIndex(['ipinfo.io', 'greynoise.io', 'shodan.io'].map(entry));
  const c = createResolvedCache(100, 3600);
  const v6 = new Uint8Array(32);
  v6[0] = 0xfd;
  v6[15] = 1;
  v6[16] = 0xfd;
  v6[31] = 2;
  rememberV4(c, 0x0a000001, 0xc0000201, matchDomain(before, 'api.shodan.io'), 'api.shodan.io', 0);
  rememberV4(c, 0x0a000001, 0xc0000202, matchDomain(before, 'search.censys.io'), 'search.censys.io', 0);
  rememberV4(c, 0x0a000002, 0xc0000202, matchDomain(before, 'search.censys.io'), 'search.censys.io', 0);
  rememberV6(c, v6, 0, 16, matchDomain(before, 'ipinfo.io'), 'ipinfo.io', 0);
  assert.equal(c.size, 4);
  remapResolved(c, (name) => matchDomain(after, name), 50, 60);
  assert.equal(c.size, 2, 'the censys.io ties go: the new rules do not list it');
  assert.equal(lookupV4(c, 0x0a000001, 0xc0000201, 10)?.entry, 2, 'shodan.io is third now');
  assert.equal(lookupV4(c, 0x0a000001, 0xc0000202, 10), undefined);
  assert.equal(lookupV4(c, 0x0a000002, 0xc0000202, 10), undefined);
  assert.equal(c.v4.has(0x0a000002), false, 'a client left with no tie goes');
  assert.equal(lookupV6(c, v6, 0, 16, 10)?.entry, 0, 'ipinfo.io is first now');
  assert.equal(c.max, 50);
  assert.equal(c.windowSec, 60);
});
