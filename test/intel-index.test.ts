import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildDomainIndex, matchDomain, type IntelEntry } from '../src/intel/domains';

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
