/**
 * picket correlate: scan summaries of many sensors merged per source, judged by the same thresholds a sensor uses
 * (scan/thresholds.ts). A fleet alert is raised for a kind that the merged counts cross and no single sensor's do:
 * the scan no sensor could see. native-notes/fleet.md has the delivery and restart argument.
 */
import type { ScanPolicy } from '../config/rules';
import { alertEnvelope, type EcsDoc, type ObserverInfo } from '../alert/ecs';
import { mergeSummaries, summaryCounts, type FleetSummary, type MergedSource } from '../scan/fleet-summary';
import { SCAN_RULES } from '../scan/scan-alert';
import { scanMeasure } from '../scan/thresholds';

/** The kinds judged across sensors, most telling first (a fleet alert names one). */
export const FLEET_KINDS = ['mixed', 'port', 'sweep'] as const;
export type FleetKind = (typeof FLEET_KINDS)[number];

/** Each sensor's latest summary of one source. */
export type SourceState = Record<string, FleetSummary>;

/** Newer: a later last packet, or the same with a later summary of it. */
const later = (a: FleetSummary, b: FleetSummary): boolean =>
  a.last[0] !== b.last[0] ? a.last[0] > b.last[0] : a.last[1] !== b.last[1] ? a.last[1] > b.last[1] : a.seq > b.seq;

/** The state with the summary in it; false when the sensor's summary held already is as new (a redelivery). */
export function applySummary(state: SourceState, s: FleetSummary): boolean {
  const held = state[s.sensor];
  if (held !== undefined && !later(s, held)) return false;
  state[s.sensor] = s;
  return true;
}

/** The kinds the merged counts cross that no sensor's own counts cross (only with two or more sensors). */
export function fleetOnlyKinds(state: SourceState, policy: ScanPolicy): { merged: MergedSource; kinds: FleetKind[] } | null {
  const list = Object.values(state);
  if (list.length < 2) return null;
  const th = policy.presets[policy.sensitivity];
  const merged = mergeSummaries(list);
  const kinds: FleetKind[] = [];
  for (const kind of FLEET_KINDS) {
    if (scanMeasure(merged.counts, th, policy.slowMaxQuickShare, kind) === 0) continue;
    if (list.some((s) => scanMeasure(summaryCounts(s), th, policy.slowMaxQuickShare, kind) > 0)) continue;
    kinds.push(kind);
  }
  return { merged, kinds };
}

/** A KV key part for an address (KV keys allow letters, digits and - _ = . /; IPv6 colons become _). */
export function sourceKey(ip: string): string {
  return ip.replace(/:/g, '_');
}

/** A fleet alert's event.id: the same for the same scan whichever instance, however often, raises it. */
export function fleetEventId(kind: FleetKind, source: string, m: MergedSource): string {
  return `fleet-${kind}-${source}-${m.first[0]}.${m.first[1]}`;
}

/** The fleet alert of a kind, in the shape of a sensor's scan alert plus picket.fleet. event.id: fleetEventId, set after stamping. */
export function fleetAlert(kind: FleetKind, source: string, m: MergedSource, policy: ScanPolicy, observer: ObserverInfo): EcsDoc {
  const r = SCAN_RULES[kind];
  const c = m.counts;
  const names = m.shares.map((s) => s.sensor);
  const description = `${source}: ${c.attempts} attempts to ${c.hosts} hosts and ${c.ports} ports seen by ${names.length} sensors (${names.join(', ')}), under every one's threshold alone`;
  const doc = alertEnvelope({ id: r.id, name: r.name, category: 'network-scan', description }, 'T1595.001', 'medium', m.first, m.last, observer);
  return {
    ...doc,
    source: { ip: source },
    related: { ip: [source, ...m.sampleHosts] },
    picket: {
      branch: r.branch, severity: 'medium', update: false, final: false, severity_reasons: [`${kind} scan across ${names.length} sensors`],
      scan: {
        attempts: c.attempts, outcomes: m.outcomes, hosts: c.hosts, ports: c.ports, targets: c.targets, exact: m.exact,
        max_ports_one_host: c.maxPortsOneHost, ping_hosts: c.pingHosts, duration_seconds: Number(c.durationSeconds.toFixed(3)),
        sample_hosts: m.sampleHosts, sample_ports: m.samplePorts, sensitivity: policy.sensitivity,
      },
      fleet: {
        correlated: true, exact: m.exact, summaries: m.shares.length,
        sensor_names: names,
        sensors: m.shares.map((s) => ({ name: s.sensor, hosts: s.hosts, targets: s.targets, attempts: s.attempts })),
      },
    },
  };
}
