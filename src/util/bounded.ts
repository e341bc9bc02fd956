/**
 * Size bounds for insertion-ordered Sets and Maps used as "remember the last N" caches on the packet path.
 *
 * When full, the oldest tenth goes in one pass. Taking the single oldest entry each time (keys().next()) looks
 * O(1) but is not in V8: deleted slots stay in the table until it rehashes, and every new iterator walks them
 * from the start, so under steady churn each eviction costs more than the last (measured: 1.1 s of a 2.5 s
 * replay in one such Set). Returns how many entries were dropped.
 */
export function makeRoom<K>(c: Set<K> | Map<K, unknown>, max: number): number {
  if (c.size < max) return 0;
  const n = Math.max(1, Math.floor(max / 10));
  const victims: K[] = [];
  for (const k of c.keys()) {
    victims.push(k);
    if (victims.length === n) break;
  }
  for (const k of victims) c.delete(k);
  return victims.length;
}
