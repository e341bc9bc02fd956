import { alertEnvelope, type EcsDoc, type ObserverInfo } from '../alert/ecs';
import type { Severity } from '../intel/domains';

/** Public contract: rule.id values of scan alerts and their picket.branch labels. */
export const SCAN_RULES = {
  sweep: { id: 'scan.sweep', name: 'Horizontal scan: one source, few ports, many hosts', branch: 'NetworkScanSweep' },
  port: { id: 'scan.port', name: 'Vertical scan: one source, many ports of one host', branch: 'NetworkScanPorts' },
  mixed: { id: 'scan.mixed', name: 'Scan of many hosts and many ports', branch: 'NetworkScanMixed' },
  ping: { id: 'scan.ping_sweep', name: 'Host discovery over many hosts (ping sweep)', branch: 'NetworkScanPingSweep' },
  slow: { id: 'scan.slow', name: 'Slow scan paced to stay under rate thresholds', branch: 'NetworkScanSlow' },
  tool: { id: 'scan.tool', name: 'Scanning tool identified from its probe headers', branch: 'ScannerFingerprint' },
  distributed: { id: 'scan.distributed', name: 'Distributed or decoy scan: many sources, one target', branch: 'NetworkScanDistributed' },
} as const;
export type ScanKind = keyof typeof SCAN_RULES;

/** What every scan alert shares: event, rule, threat, observer and the time span; the caller adds the rest. */
export function scanAlertEnvelope(
  kind: ScanKind, first: [number, number], last: [number, number], description: string, observer: ObserverInfo, severity: Severity = 'medium',
): EcsDoc {
  const r = SCAN_RULES[kind];
  return alertEnvelope({ id: r.id, name: r.name, category: 'network-scan', description }, 'T1595.001', severity, first, last, observer);
}

/** The kind that names an incident of several: the most telling first. */
export const KIND_PRIORITY: readonly ScanKind[] = ['slow', 'mixed', 'port', 'sweep', 'ping', 'distributed', 'tool'];

/**
 * One alert per subject and kind when its measure first crosses a threshold, an update when the measure has
 * doubled since the last alert; returns whether to emit, and as an update or not.
 */
export function growthDecision(alerted: Map<ScanKind, number>, kind: ScanKind, measure: number): 'first' | 'update' | null {
  const last = alerted.get(kind);
  if (last === undefined) {
    alerted.set(kind, measure);
    return 'first';
  }
  if (measure >= 2 * last) {
    alerted.set(kind, measure);
    return 'update';
  }
  return null;
}
