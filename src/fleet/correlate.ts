/**
 * picket correlate: scan summaries of many sensors merged per source, judged by the same thresholds a sensor uses
 * (scan/thresholds.ts). A fleet alert is raised for a kind that the merged counts cross and no single sensor's do:
 * the scan no sensor could see. native-notes/fleet.md has the delivery and restart argument.
 */
import type { ScanPolicy } from '../config/rules';
import { alertEnvelope, type EcsDoc, type ObserverInfo } from '../alert/ecs';
import type { Severity } from '../intel/domains';
import { addrKeyOfText } from '../scan/addr-key';
import { researchOf, scanSeverity } from '../scan/severity';
import { mergeSummaries, summaryCounts, type FleetSummary, type MergedSource } from '../scan/fleet-summary';
import { SCAN_RULES } from '../scan/scan-alert';
import { scanMeasure } from '../scan/thresholds';

/**
 * The kinds judged across sensors, in the order a fleet document names them: the first cut's three first (the
 * reported view keeps naming what it named), then host discovery and the paced scan.
 */
export const FLEET_KINDS = ['mixed', 'port', 'sweep', 'ping', 'slow'] as const;
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

/**
 * Two or more sensors crossed a threshold on their own (each raised the scan alert itself): the fleet view of it,
 * one document for the source. Its kind is the most telling one any of them crossed (FLEET_KINDS' order).
 */
export interface ReportedView {
  kind: FleetKind;
  /** The sensors that crossed alone, in the state's order. */
  sensors: string[];
  /** The earliest first packet of theirs: names the episode (event.id). */
  first: [number, number];
}

/**
 * A source's state judged: the kinds the merged counts cross that no sensor's own counts cross (only with two or
 * more sensors), or, when two or more sensors crossed alone, the reported view instead (one incident: no fleet-only
 * kinds beside it).
 */
export function fleetOnlyKinds(state: SourceState, policy: ScanPolicy): { merged: MergedSource; kinds: FleetKind[]; reported: ReportedView | null } | null {
  const list = Object.values(state);
  if (list.length < 2) return null;
  const th = policy.presets[policy.sensitivity];
  const merged = mergeSummaries(list, th.slowMinInterval);
  const alone = list.map((s) => FLEET_KINDS.filter((kind) => scanMeasure(summaryCounts(s), th, policy.slowMaxQuickShare, kind) > 0));
  const reporters = list.filter((_, i) => alone[i].length > 0);
  if (reporters.length >= 2) {
    const kind = FLEET_KINDS.find((k) => alone.some((kinds) => kinds.includes(k)))!;
    let first = reporters[0].first;
    for (const s of reporters) if (s.first[0] < first[0] || (s.first[0] === first[0] && s.first[1] < first[1])) first = s.first;
    return { merged, kinds: [], reported: { kind, sensors: reporters.map((s) => s.sensor), first } };
  }
  const kinds: FleetKind[] = [];
  for (const kind of FLEET_KINDS) {
    if (scanMeasure(merged.counts, th, policy.slowMaxQuickShare, kind) === 0) continue;
    if (alone.some((k) => k.includes(kind))) continue;
    kinds.push(kind);
  }
  return { merged, kinds, reported: null };
}

/**
 * Whether a reported view is a new episode after the one recorded (its last packet time): every reporting sensor's
 * summary began after it, i.e. the scanner came back. Summaries of the episode already raised began before its end.
 */
export function newReportedEpisode(state: SourceState, view: ReportedView, recordedLast: [number, number]): boolean {
  return view.sensors.every((name) => {
    const f = state[name].first;
    return f[0] > recordedLast[0] || (f[0] === recordedLast[0] && f[1] > recordedLast[1]);
  });
}

/** The reported view's event.id: one per source and episode, whichever instance raises it. */
export function reportedEventId(source: string, view: ReportedView): string {
  return `fleet-reported-${view.kind}-${source}-${view.first[0]}.${view.first[1]}`;
}

/** A KV key part for an address (KV keys allow letters, digits and - _ = . /; IPv6 colons become _). */
export function sourceKey(ip: string): string {
  return ip.replace(/:/g, '_');
}

/** A fleet alert's event.id: the same for the same scan whichever instance, however often, raises it. */
export function fleetEventId(kind: FleetKind, source: string, m: MergedSource): string {
  return `fleet-${kind}-${source}-${m.first[0]}.${m.first[1]}`;
}

/**
 * A fleet-only incident of one source, in the sensor's style (aggregator.ts): its kinds so far, its severity and
 * the documents sent. Kept in the KV bucket (`incident.<source>`), so that whichever instance judges the source
 * next, after any restart, sends a document only when a kind or the severity changed.
 */
export interface FleetIncident {
  id: string;
  documents: number;
  kinds: FleetKind[];
  severity: Severity;
}

/** The severity of a fleet incident with these kinds and merged counts: the sensor's function (severity.ts). */
export function fleetSeverity(source: string, kinds: readonly FleetKind[], m: MergedSource, policy: ScanPolicy, reasons: string[] | null): Severity {
  return scanSeverity({
    kinds, tool: m.toolNamed, hosts: Math.max(m.counts.hosts, m.counts.pingHosts), targets: m.counts.targets, access: null, lookedUp: null,
    research: researchOf(policy, addrKeyOfText(source)),
  }, policy, reasons);
}

/**
 * The next document of a source's fleet-only incident, or null when nothing changed: a first one when fleet-only
 * kinds appear, then one only when a kind is added or the severity changes (never a document that changes
 * nothing). `trigger` names the document (rule.id): the first new kind, else the incident's first kind.
 */
export function nextFleetDocument(
  held: FleetIncident | null, kindsNow: readonly FleetKind[], source: string, m: MergedSource, policy: ScanPolicy,
): { trigger: FleetKind; incident: FleetIncident } | null {
  if (held === null && kindsNow.length === 0) return null;
  const inc: FleetIncident = held === null
    ? { id: `fleet-${source}-${m.first[0]}.${String(m.first[1]).padStart(9, '0')}`, documents: 0, kinds: [], severity: 'medium' }
    : { ...held, kinds: [...held.kinds] };
  let trigger: FleetKind | null = null;
  for (const k of FLEET_KINDS) {
    if (!kindsNow.includes(k) || inc.kinds.includes(k)) continue;
    inc.kinds.push(k);
    trigger ??= k;
  }
  const severity = fleetSeverity(source, inc.kinds, m, policy, null);
  if (severity !== inc.severity || inc.documents === 0) {
    inc.severity = severity;
    trigger ??= FLEET_KINDS.find((k) => inc.kinds.includes(k))!;
  }
  if (trigger === null) return null;
  inc.documents++;
  return { trigger, incident: inc };
}

/** The event.id of an incident's document: the first keeps the first cut's form (fleetEventId), later ones add their number. */
export function incidentEventId(trigger: FleetKind, source: string, m: MergedSource, inc: FleetIncident): string {
  return inc.documents === 1 ? fleetEventId(trigger, source, m) : `${inc.id}-${inc.documents}`;
}

/**
 * The fleet alert of a kind, in the shape of a sensor's scan alert plus picket.fleet. event.id: fleetEventId (or
 * reportedEventId), set after stamping. `reporters`: the sensors that raised it themselves (the reported view).
 */
export function fleetAlert(
  kind: FleetKind, source: string, m: MergedSource, policy: ScanPolicy, observer: ObserverInfo, reporters?: readonly string[], inc?: FleetIncident,
): EcsDoc {
  const r = SCAN_RULES[kind];
  const c = m.counts;
  const names = m.shares.map((s) => s.sensor);
  const description = reporters === undefined
    ? `${source}: ${c.attempts} attempts to ${c.hosts} hosts and ${c.ports} ports seen by ${names.length} sensors (${names.join(', ')}), under every one's threshold alone`
    : `${source}: one scan reported by ${reporters.length} sensors (${reporters.join(', ')}), ${c.attempts} attempts to ${c.hosts} hosts and ${c.ports} ports across ${names.length} sensors`;
  const reasons: string[] = [];
  const severity = inc === undefined ? 'medium' : fleetSeverity(source, inc.kinds, m, policy, reasons);
  if (inc === undefined) reasons.push(reporters === undefined ? `${kind} scan across ${names.length} sensors` : `${kind} scan reported by ${reporters.length} sensors`);
  else reasons.push(`seen across ${names.length} sensors, under every one's threshold alone`);
  const doc = alertEnvelope({ id: r.id, name: r.name, category: 'network-scan', description }, 'T1595.001', severity, m.first, m.last, observer);
  return {
    ...doc,
    source: { ip: source },
    related: { ip: [source, ...m.sampleHosts] },
    picket: {
      branch: r.branch, severity, update: (inc?.documents ?? 1) > 1, final: false, severity_reasons: reasons,
      ...(inc !== undefined ? { incident: { id: inc.id, document: inc.documents, kinds: inc.kinds.map((k) => SCAN_RULES[k].id) } } : {}),
      scan: {
        attempts: c.attempts, outcomes: m.outcomes, hosts: c.hosts, ports: c.ports, targets: c.targets, exact: m.exact,
        max_ports_one_host: c.maxPortsOneHost, ping_hosts: c.pingHosts, duration_seconds: Number(c.durationSeconds.toFixed(3)),
        sample_hosts: m.sampleHosts, sample_ports: m.samplePorts, sensitivity: policy.sensitivity,
      },
      fleet: {
        correlated: true, view: reporters === undefined ? 'fleet_only' : 'reported', exact: m.exact, summaries: m.shares.length,
        sensor_names: names,
        sensors: m.shares.map((s) => ({ name: s.sensor, hosts: s.hosts, targets: s.targets, attempts: s.attempts, alerted: reporters?.includes(s.sensor) ?? false })),
      },
    },
  };
}
