/**
 * Partitions of the fleet's summaries (src/fleet/partition.ts): the hash is FNV-1a 32 bit, so that every sensor and
 * correlate, whatever its version or machine, puts a source in the same partition; subjects parse back.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { partitionFilter, partitionOf, subjectPartition, summarySubject } from '../src/fleet/partition';

test('partitionOf is FNV-1a (32 bit) mod the partitions: the published test vectors', () => {
  // With 2^32 partitions the partition is the hash itself (FNV test vectors: "", "a", "foobar").
  assert.equal(partitionOf('', 2 ** 32), 0x811c9dc5);
  assert.equal(partitionOf('a', 2 ** 32), 0xe40c292c);
  assert.equal(partitionOf('foobar', 2 ** 32), 0xbf9cf968);
  assert.equal(partitionOf('foobar', 16), 0xbf9cf968 % 16);
  const seen = new Set<number>();
  for (let i = 0; i < 256; i++) {
    const p = partitionOf(`198.18.1.${i}`, 16);
    assert.ok(Number.isInteger(p) && p >= 0 && p < 16);
    seen.add(p);
  }
  assert.equal(seen.size, 16, 'a /24 of sources spreads over every partition');
});

test('subjects: a summary subject names its partition; unpartitioned or foreign subjects name none', () => {
  assert.equal(summarySubject(7, 'dc1-span3'), 'picket.summaries.7.dc1-span3');
  assert.equal(partitionFilter(7), 'picket.summaries.7.*');
  assert.equal(subjectPartition('picket.summaries.7.dc1-span3'), 7);
  assert.equal(subjectPartition('picket.summaries.dc1-span3'), null, 'a sensor from before partitioning');
  assert.equal(subjectPartition('picket.alerts.7.x'), null);
  assert.equal(subjectPartition('picket.summaries.x.y'), null);
});
