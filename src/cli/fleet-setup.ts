import type { Rules } from '../config/rules';
import { connectFleet, ensureStreams, isFleetConfigError } from '../fleet/streams';
import type { OutputSpec, Outputs } from '../output/outputs';
import type { SummaryHook } from '../scan/aggregator';
import type { FleetSummary } from '../scan/fleet-summary';

/**
 * The NATS sink among the outputs, if any: its streams created or checked before anything is captured. A stream
 * that is wrong stops start-up; NATS unreachable does not (a sensor keeps capturing: the sink buffers and spills,
 * and checks the streams when it connects), it is said on stderr. Credentials the server refuses, or a server
 * certificate the CA of tls.ca does not verify, do stop it.
 */
export async function prepareFleet(specs: readonly OutputSpec[] | null, say: (line: string) => void): Promise<{ sensor: string } | null> {
  const spec = specs?.find((s) => s.type === 'nats');
  if (spec === undefined || spec.type !== 'nats') return null;
  let nc;
  try {
    nc = await connectFleet(spec.servers, `picket sensor ${spec.sensor} (setup)`, spec.auth);
  } catch (e) {
    // Refused credentials or a certificate not verified against tls.ca are configuration errors: stop (exit 2)
    // rather than spill until someone looks.
    if (isFleetConfigError(e)) throw e;
    say(`${(e as Error).message}: alerts and summaries are kept (memory, then --spill-dir) until it answers`);
    return { sensor: spec.sensor };
  }
  try {
    await ensureStreams(nc);
  } finally {
    await nc.close();
  }
  return { sensor: spec.sensor };
}

/** The outputs with the policy's fleet.partitions given to the NATS sink (it routes each summary by its source). */
export function withPartitions<T extends readonly OutputSpec[] | null>(specs: T, rules: Rules): T {
  return (specs === null ? null : specs.map((s) => (s.type === 'nats' ? { ...s, partitions: rules.policy.fleet.partitions } : s))) as T;
}

/** The scan aggregator's summary hook for the fleet, or null (no NATS: no summaries, no work). */
export function summaryHook(fleet: { sensor: string } | null, outputs: Outputs | null, rules: Rules): SummaryHook | null {
  const write = outputs?.summaries ?? null;
  if (fleet === null || write === null) return null;
  return { sensor: fleet.sensor, intervalSec: rules.policy.fleet.summaryInterval, minTargets: rules.policy.fleet.summaryMinTargets, emit: (s: FleetSummary) => write(s) };
}
