import type { MetricsRegistry, Sample } from '../output/metrics';
import type { LeaseCounts } from '../fleet/leases';
import type { SinkStats } from '../output/sinks/sink';
import { counter, gauge, sinkSamples } from './sensor-metrics';

const F = {
  summaries: counter('picket_correlate_summaries_total', 'Scan summaries taken from the durable consumer and merged'),
  bad: counter('picket_correlate_bad_summaries_total', 'Messages on the summaries stream that are not a summary picket reads (counted, acknowledged, skipped)'),
  batches: counter('picket_correlate_batches_total', 'Batches of summaries pulled, merged, judged and acknowledged'),
  updates: counter('picket_correlate_source_updates_total', 'Source states changed by a summary and written back to the KV bucket'),
  merged: counter('picket_correlate_merged_source_updates_total', 'Of those, states holding two or more sensors\' summaries (a merge across sensors)'),
  conflicts: counter('picket_correlate_cas_conflicts_total', 'Source states another instance changed first (compare-and-set retried)'),
  alerts: counter('picket_correlate_alerts_total', 'Fleet alert documents written (a fleet-only incident\'s first and each update), by rule.id and view (fleet_only: no sensor crossed alone; reported: sensors had raised it)'),
  acks: counter('picket_correlate_acks_total', 'Summaries acknowledged to JetStream'),
  connected: gauge('picket_correlate_nats_connected', 'Whether the connection to NATS is up: 1, or 0 while it reconnects'),
  disconnects: counter('picket_correlate_nats_disconnects_total', 'Times the connection to NATS was lost'),
  instance: gauge('picket_correlate_instance_info', 'This instance\'s name in the partition leases of the KV bucket (lease.<partition> holder), as a label; always 1'),
  held: gauge('picket_correlate_partitions_held', 'Partitions of the summaries whose lease this instance holds (it consumes each)'),
  byPartition: counter('picket_correlate_partition_summaries_total', 'Summaries merged, by the partition they were consumed from'),
  misrouted: counter('picket_correlate_misrouted_summaries_total', 'Summaries in a partition their source does not hash to (a sensor with another fleet.partitions): merged all the same'),
  givenBack: counter('picket_correlate_given_back_summaries_total', 'Summaries given back unacknowledged (nak) because the lease ran out while their batch was merged'),
  leases: counter('picket_correlate_lease_changes_total', 'Leases on partitions claimed (free or expired), released (rebalancing, stop) and lost (not renewed in time, or taken)'),
  up: gauge('picket_correlate_uptime_seconds', 'Seconds since correlate started'),
};

/** Correlate's own counters, bumped by the loop in correlate.ts. */
export interface CorrelateCounts {
  summaries: number;
  bad: number;
  batches: number;
  updates: number;
  merged: number;
  conflicts: number;
  acks: number;
  disconnects: number;
  /** Alerts by rule.id and view. */
  alerts: Map<string, number>;
  byPartition: Map<number, number>;
  misrouted: number;
  givenBack: number;
  /** Partitions held now, and the lease changes so far (leases.ts). */
  held: () => number;
  leases: LeaseCounts;
  /** This instance's name in the leases. */
  instance: string;
}

export function correlateCounts(): CorrelateCounts {
  return {
    summaries: 0, bad: 0, batches: 0, updates: 0, merged: 0, conflicts: 0, acks: 0, disconnects: 0, alerts: new Map(), byPartition: new Map(), misrouted: 0, givenBack: 0,
    held: () => 0, leases: { claimed: 0, released: 0, lost: 0 }, instance: '',
  };
}

/** correlate's /metrics, read at scrape time. */
export function registerCorrelateMetrics(reg: MetricsRegistry, v: { counts: CorrelateCounts; connected(): boolean; sinks(): SinkStats[]; startedAt: number }): void {
  reg.register((): Sample[] => {
    const c = v.counts;
    const out: Sample[] = [
      { family: F.summaries, value: c.summaries }, { family: F.bad, value: c.bad }, { family: F.batches, value: c.batches },
      { family: F.updates, value: c.updates }, { family: F.merged, value: c.merged }, { family: F.conflicts, value: c.conflicts },
      { family: F.acks, value: c.acks }, { family: F.connected, value: v.connected() ? 1 : 0 }, { family: F.disconnects, value: c.disconnects },
      { family: F.up, value: (Date.now() - v.startedAt) / 1000 },
      { family: F.instance, labels: { instance: c.instance }, value: 1 }, { family: F.held, value: c.held() }, { family: F.misrouted, value: c.misrouted }, { family: F.givenBack, value: c.givenBack },
      ...(['claimed', 'released', 'lost'] as const).map((change) => ({ family: F.leases, labels: { change }, value: c.leases[change] })),
      ...[...c.byPartition].sort((a, b) => a[0] - b[0]).map(([p, n]) => ({ family: F.byPartition, labels: { partition: String(p) }, value: n })),
    ];
    for (const [key, n] of c.alerts) {
      const [rule, view] = key.split(' ');
      out.push({ family: F.alerts, labels: { rule, view }, value: n });
    }
    out.push(...sinkSamples(v.sinks()));
    return out;
  });
}
