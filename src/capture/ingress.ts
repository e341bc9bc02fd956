/**
 * Which interface each packet of a capture on several interfaces came in on, by packet ordinal: one entry per
 * batch (batches of one interface, ordinals handed out in order), the most recent `keep` batches kept, so that
 * observations that reach the main thread late (from workers) still find theirs.
 */
export interface IngressMap {
  /** Packets [firstOrdinal, firstOrdinal + count) came in on iface. */
  record(firstOrdinal: number, count: number, iface: string): void;
  /** The interface of packet `ordinal`, or null when it is older than what is kept. */
  lookup(ordinal: number): string | null;
}

export function createIngressMap(keep = 65536): IngressMap {
  const starts = new Float64Array(keep);
  const ends = new Float64Array(keep);
  const names: string[] = new Array<string>(keep).fill('');
  let n = 0; // entries ever recorded; entry i lives at i % keep
  return {
    record(firstOrdinal, count, iface) {
      const at = n % keep;
      starts[at] = firstOrdinal;
      ends[at] = firstOrdinal + count;
      names[at] = iface;
      n++;
    },
    lookup(ordinal) {
      // Binary search over the kept entries, oldest first; their starts increase.
      let lo = Math.max(0, n - keep);
      let hi = n - 1;
      while (lo <= hi) {
        const mid = (lo + hi) >>> 1;
        const at = mid % keep;
        if (ordinal < starts[at]) hi = mid - 1;
        else if (ordinal >= ends[at]) lo = mid + 1;
        else return names[at];
      }
      return null;
    },
  };
}
