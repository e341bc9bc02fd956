/**
 * Summaries partitioned by source (native-notes/fleet.md, "How it scales"): a sensor publishes a source's summaries
 * to picket.summaries.<partition>.<sensor>, partition = FNV-1a (32 bit) of the source's address text mod
 * fleet.partitions, so every summary of one source, from every sensor, lands in one partition, and one correlate
 * instance (the holder of that partition's lease) merges it.
 */

export const SUMMARIES_SUBJECT = 'picket.summaries';
/** fleet.partitions' default (rules/policy.yaml). */
export const DEFAULT_PARTITIONS = 16;

/** The partition of a source address (its text as in the summary), 0 .. partitions-1; the same on every machine. */
export function partitionOf(source: string, partitions: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < source.length; i++) {
    h ^= source.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h % partitions;
}

/** The subject a sensor publishes a source's summaries to. */
export function summarySubject(partition: number, sensor: string): string {
  return `${SUMMARIES_SUBJECT}.${partition}.${sensor}`;
}

/** The filter subject of a partition's consumer: its summaries from every sensor. */
export function partitionFilter(partition: number): string {
  return `${SUMMARIES_SUBJECT}.${partition}.*`;
}

/** The partition a summary's subject names, or null for another shape (an unpartitioned sensor: picket.summaries.<sensor>). */
export function subjectPartition(subject: string): number | null {
  const rest = subject.startsWith(`${SUMMARIES_SUBJECT}.`) ? subject.slice(SUMMARIES_SUBJECT.length + 1).split('.') : [];
  return rest.length === 2 && /^\d+$/.test(rest[0]) ? Number(rest[0]) : null;
}

/** The durable consumer of a partition, shared by whichever instance holds its lease in turn. */
export function partitionDurable(partition: number): string {
  return `picket-correlate-p${partition}`;
}
