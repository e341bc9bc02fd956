/**
 * A short campaign of picket's own fuzzer (bench/fuzz.ts) in CI: 20 k mutated packets from the bundled captures,
 * fixed seed, each file replayed by the real command line inline and with --workers 2. The long campaign's
 * figures are in bench/RESULTS.md.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import type { Summary } from '../bench/fuzz';
import { ROOT, tmpDir } from './helpers';

test('a short fuzz campaign: no crash, no timeout, no run over the memory bound, the same documents inline and with workers', () => {
  const out = tmpDir('fuzz-short');
  const r = spawnSync(process.execPath, [path.join(ROOT, 'dist', 'bench', 'fuzz.js'), '--packets', '20k', '--seed', '1', '--max-file-packets', '4000', '--out', out],
    { encoding: 'utf8', maxBuffer: 64 << 20, timeout: 600_000 });
  const s = JSON.parse(r.stdout) as Summary;
  const failures = s.failures.map((f) => `${f.kind} ${f.file}: ${f.detail}`).join('\n');
  assert.equal(s.crashes, 0, failures);
  assert.equal(s.timeouts, 0, failures);
  assert.equal(s.overMemory, 0, failures);
  assert.equal(s.differences, 0, failures);
  assert.equal(r.status, 0, r.stderr);
  // It really ran: files of mutated packets, each replayed twice, most packets read back.
  assert.ok(s.files >= 5, `files: ${s.files}`);
  assert.equal(s.runs, 2 * s.files);
  assert.ok(s.packetsWritten >= 20000, `packets written: ${s.packetsWritten}`);
  assert.ok(s.packetsReplayed > 5000, `packets replayed: ${s.packetsReplayed}`);
  assert.equal((s.exitCodes['0'] ?? 0) + (s.exitCodes['2'] ?? 0), s.runs);
  assert.ok(s.peakRssMb > 0);
  assert.ok(s.slowestFile !== null && s.slowestPacket !== null && fs.existsSync(s.slowestPacket.kept));
  fs.rmSync(out, { recursive: true, force: true });
});
