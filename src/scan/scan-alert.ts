import { isoTime, observerFields, SEVERITY_SCORE, type EcsDoc, type ObserverInfo } from '../alert/ecs';
import { threatFields } from '../alert/mitre';

/** Public contract: rule.id values of scan alerts and their picket.branch labels. */
export const SCAN_RULES = {
  sweep: { id: 'scan.sweep', name: 'Horizontal scan: one source, few ports, many hosts', branch: 'NetworkScanSweep' },
  port: { id: 'scan.port', name: 'Vertical scan: one source, many ports of one host', branch: 'NetworkScanPorts' },
  mixed: { id: 'scan.mixed', name: 'Scan of many hosts and many ports', branch: 'NetworkScanMixed' },
  ping: { id: 'scan.ping_sweep', name: 'Host discovery over many hosts (ping sweep)', branch: 'NetworkScanPingSweep' },
  slow: { id: 'scan.slow', name: 'Slow scan paced to stay under rate thresholds', branch: 'NetworkScanSlow' },
  distributed: { id: 'scan.distributed', name: 'Distributed or decoy scan: many sources, one target', branch: 'NetworkScanDistributed' },
} as const;
export type ScanKind = keyof typeof SCAN_RULES;

/** What every scan alert shares: event, rule, threat, observer and the time span; the caller adds the rest. */
export function scanAlertEnvelope(kind: ScanKind, first: [number, number], last: [number, number], description: string, observer: ObserverInfo): EcsDoc {
  const r = SCAN_RULES[kind];
  return {
    '@timestamp': isoTime(last[0], last[1]),
    event: {
      kind: 'alert', category: ['network', 'intrusion_detection'], type: ['info'], severity: SEVERITY_SCORE.medium, module: 'picket',
      dataset: 'picket.alert', start: isoTime(first[0], first[1]), end: isoTime(last[0], last[1]),
    },
    rule: { id: r.id, name: r.name, category: 'network-scan', ruleset: 'picket', description },
    threat: threatFields('T1595.001'),
    observer: observerFields(observer),
  };
}

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
