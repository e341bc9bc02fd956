import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createSketch, FNV_START, fnvDecimal, fnvIpv4, hashString, sketchAdd, sketchCount } from '../src/util/sketch';
import { fmix32 } from '../src/util/hash';
import { ipv4ToString } from '../src/decode/addr';
import { createSpread, spreadAdd } from '../src/scan/spread';
import { addrText, portKey, portText, type AddrKey } from '../src/scan/addr-key';
import { prng } from './helpers';

test('the distinct-count sketch is within its error from tens to a million keys, and repeats do not count', () => {
  for (const n of [10, 50, 300, 5000, 100_000, 1_000_000]) {
    const k = createSketch();
    for (let i = 0; i < n; i++) sketchAdd(k, `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}|tcp/${i % 7}`);
    const before = sketchCount(k);
    for (let i = 0; i < Math.min(n, 1000); i++) assert.equal(sketchAdd(k, `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}|tcp/${i % 7}`), false);
    assert.equal(sketchCount(k), before, 'adding known keys changes nothing');
    // 256 registers: standard error 6.5 %; allow four of them (linear counting is near exact for small n).
    const err = Math.abs(before - n) / n;
    assert.ok(err < (n <= 300 ? 0.1 : 0.26), `n=${n}: estimate ${before}`);
  }
  assert.equal(sketchCount(createSketch()), 0);
});

test('keys hashed from their numbers hash as their text does: a fleet merges registers across sensors and versions', () => {
  const rand = prng(31);
  const ips = [0, 1, 9, 10, 99, 100, 255, 256, 0x0a000001, 0x7fffffff, 0x80000000, 0xffffffff];
  for (let i = 0; i < 2000; i++) ips.push(Math.floor(rand() * 2 ** 32));
  for (const a of ips) assert.equal(fmix32(fnvIpv4(FNV_START, a)), hashString(ipv4ToString(a)), ipv4ToString(a));
  for (const n of [0, 1, 9, 10, 11, 99, 100, 999, 1000, 65535, 65536, 123456789]) assert.equal(fmix32(fnvDecimal(FNV_START, n)), hashString(String(n)));
  // The spread's sketched path (its cap at 0: sketched from the first target) against sketches of the text forms.
  const spread = createSpread();
  const budget = { used: 0, limit: 1_000_000 };
  const text = { targets: createSketch(), hosts: createSketch(), ports: createSketch() };
  for (let i = 0; i < 5000; i++) {
    const host: AddrKey = i % 10 === 0 ? `2001:db8::${(i % 977).toString(16)}` : Math.floor(rand() * 2 ** 32);
    const port = portKey(Math.floor(rand() * 3), Math.floor(rand() * 65536));
    spreadAdd(spread, host, port, 0, budget);
    sketchAdd(text.targets, `${addrText(host)}|${portText(port)}`);
    sketchAdd(text.hosts, addrText(host));
    sketchAdd(text.ports, portText(port));
  }
  assert.ok(spread.sketch !== null && spread.nTargets > 4000, `sketched, ${spread.nTargets} targets`);
  assert.deepEqual(spread.sketch.targets.reg, text.targets.reg);
  assert.deepEqual(spread.sketch.hosts.reg, text.hosts.reg);
  assert.deepEqual(spread.sketch.ports.reg, text.ports.reg);
});
