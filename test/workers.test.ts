import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { committedCaptures, get, picket, ROOT, tmpDir, withoutEventId } from './helpers';

let dir = '';
let mix = '';

before(() => {
  // A many-flow capture from the benchmark generator (seeded), so that shards really split the work.
  dir = tmpDir('workers');
  mix = path.join(dir, 'mix.pcap');
  const gen = spawnSync(process.execPath, [path.join(ROOT, 'dist', 'bench', 'gen.js'), '--packets', '60000', '--seed', '7', '--out', mix], { encoding: 'utf8', timeout: 120_000 });
  assert.equal(gen.status, 0, gen.stderr);
});

after(() => fs.rmSync(dir, { recursive: true, force: true }));

test('the same alerts and events inline and with 1, 2 and 4 workers, and for any batch size', () => {
  const inputs = [mix, ...committedCaptures()];
  const base = picket(['replay', '--metadata', '--quiet', '--workers', '0', ...inputs]);
  assert.equal(base.code, 0, base.stderr);
  const alerts = base.docs.filter((d) => get(d, 'event.kind') === 'alert').length;
  assert.ok(alerts >= 10, `the input raises alerts (${alerts})`);
  for (const w of ['1', '2', '4']) {
    const r = picket(['replay', '--metadata', '--quiet', '--workers', w, ...inputs]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.docs.map(withoutEventId), base.docs.map(withoutEventId), `--workers ${w} differs from inline`);
  }
  for (const b of ['1', '333']) {
    const r = picket(['replay', '--metadata', '--quiet', '--workers', '2', '--batch-packets', b, ...inputs]);
    assert.deepEqual(r.docs.map(withoutEventId), base.docs.map(withoutEventId), `--batch-packets ${b} differs`);
  }
});

test('the summary counts every packet once, whatever the number of workers', () => {
  const summary = (w: string): string => {
    const r = picket(['replay', '--workers', w, mix]);
    assert.equal(r.code, 0, r.stderr);
    return r.stderr.split('\n').filter((l) => !l.startsWith('picket:')).join('\n');
  };
  const one = summary('0');
  assert.match(one, /decode errors: [1-9]/, 'the generator plants malformed packets');
  assert.equal(summary('3'), one);
  const packets = /(\d+) packets,/.exec(picket(['replay', '--workers', '2', mix]).stderr)?.[1];
  assert.equal(packets, '60000');
});
