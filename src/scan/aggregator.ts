import type { ScanPolicy, ScanThresholds } from '../config/rules';
import type { ProbeObservation, ReplyObservation, ScanObservation } from '../engine/observation';
import { isoTime, observerFields, SEVERITY_SCORE, type EcsDoc, type ObserverInfo } from '../alert/ecs';
import { threatFields } from '../alert/mitre';

/** Public contract: rule.id values of scan alerts and their picket.branch labels. */
const SCAN_RULES = {
  sweep: { id: 'scan.sweep', name: 'Horizontal scan: one source, few ports, many hosts', branch: 'NetworkScanSweep' },
  port: { id: 'scan.port', name: 'Vertical scan: one source, many ports of one host', branch: 'NetworkScanPorts' },
  mixed: { id: 'scan.mixed', name: 'Scan of many hosts and many ports', branch: 'NetworkScanMixed' },
  ping: { id: 'scan.ping_sweep', name: 'Host discovery over many hosts (ping sweep)', branch: 'NetworkScanPingSweep' },
  slow: { id: 'scan.slow', name: 'Slow scan paced to stay under rate thresholds', branch: 'NetworkScanSlow' },
} as const;
type ScanKind = keyof typeof SCAN_RULES;

interface Pending {
  source: Source;
  dst: string;
  target: string;
  port: number;
  proto: string;
  ts: number;
}

/** What one source has done since its scan began; sets are capped (counts go on past the caps). */
interface Source {
  ip: string;
  direction: string;
  firstSec: number;
  firstNsec: number;
  lastSec: number;
  lastNsec: number;
  attempts: number;
  outcomes: { answered: number; rejected: number; unreachable: number; unanswered: number };
  protos: Record<string, number>;
  failedTargets: Set<string>;
  failedHosts: Set<string>;
  failedPorts: Set<string>;
  /** Distinct failed ports per host, for the vertical scan. */
  portsPerHost: Map<string, number>;
  maxPortsOneHost: number;
  maxPortsHost: string;
  pingHosts: Set<string>;
  learned: Set<string>;
  sampleHosts: string[];
  samplePorts: string[];
  /** For each kind alerted: the measure at the last alert (an update goes out when it doubles). */
  alerted: Map<ScanKind, number>;
}

const SAMPLES = 10;
const MAX_LEARNED = 256;
const SWEEP_EVERY_SEC = 30;

export interface ScanAggregator {
  observe(o: ScanObservation): void;
  finish(): void;
}

/**
 * The scan detector: connection attempts and their replies, from all workers in input order, kept per source
 * (bounded), judged against the policy's thresholds. One alert per source and kind when a threshold is crossed,
 * an update when the scan has doubled, and a summary (picket.final) when the source goes quiet or input ends.
 */
export function createScanAggregator(policy: ScanPolicy, observer: ObserverInfo, emit: (doc: EcsDoc) => void): ScanAggregator {
  const th: ScanThresholds = policy.presets[policy.sensitivity];
  const sources = new Map<string, Source>();
  const pending = new Map<string, Pending>();
  let lastSweep = -Infinity;

  function source(o: ProbeObservation, now: number): Source {
    let s = sources.get(o.srcIp);
    if (s !== undefined) {
      // Least recently active first: re-insert on activity.
      sources.delete(o.srcIp);
      sources.set(o.srcIp, s);
      return s;
    }
    if (sources.size >= policy.maxSources) {
      const oldest = sources.values().next().value as Source;
      close(oldest);
    }
    s = {
      ip: o.srcIp, direction: o.direction, firstSec: o.tsSec, firstNsec: o.tsNsec, lastSec: o.tsSec, lastNsec: o.tsNsec, attempts: 0,
      outcomes: { answered: 0, rejected: 0, unreachable: 0, unanswered: 0 }, protos: {},
      failedTargets: new Set(), failedHosts: new Set(), failedPorts: new Set(), portsPerHost: new Map(), maxPortsOneHost: 0, maxPortsHost: '',
      pingHosts: new Set(), learned: new Set(), sampleHosts: [], samplePorts: [], alerted: new Map(),
    };
    void now;
    sources.set(o.srcIp, s);
    return s;
  }

  function seconds(s: Source): number {
    return s.lastSec - s.firstSec + (s.lastNsec - s.firstNsec) / 1e9;
  }

  function onProbe(o: ProbeObservation): void {
    if (!policy.directions.includes(o.direction)) return;
    const now = o.tsSec + o.tsNsec / 1e9;
    const s = source(o, now);
    s.attempts++;
    s.lastSec = o.tsSec;
    s.lastNsec = o.tsNsec;
    s.protos[o.proto] = (s.protos[o.proto] ?? 0) + 1;
    const port = o.proto === 'icmp' ? `icmp/${o.icmpType}` : `${o.proto}/${o.dstPort}`;
    if (s.sampleHosts.length < SAMPLES && !s.sampleHosts.includes(o.dstIp)) s.sampleHosts.push(o.dstIp);
    if (s.samplePorts.length < SAMPLES && !s.samplePorts.includes(port)) s.samplePorts.push(port);
    if (o.proto === 'icmp') {
      if (s.pingHosts.size < policy.maxTargetsPerSource) s.pingHosts.add(o.dstIp);
      evaluate(s);
    }
    const key = `${o.srcIp}|${o.dstIp}|${o.proto}|${o.srcPort}|${o.dstPort}`;
    if (pending.has(key)) return; // a retransmitted probe
    if (pending.size >= policy.maxPending) {
      const first = pending.entries().next().value as [string, Pending];
      pending.delete(first[0]);
      failed(first[1], 'unanswered');
    }
    pending.set(key, { source: s, dst: o.dstIp, target: `${o.dstIp}|${port}`, port: o.dstPort, proto: o.proto, ts: now });
  }

  function onReply(o: ReplyObservation): void {
    const key = `${o.srcIp}|${o.dstIp}|${o.proto}|${o.srcPort}|${o.dstPort}`;
    const p = pending.get(key);
    if (p === undefined) return;
    pending.delete(key);
    if (o.outcome === 'answered') {
      p.source.outcomes.answered++;
      if (p.proto !== 'icmp' && p.source.learned.size < MAX_LEARNED) p.source.learned.add(`${p.dst}:${p.port}/${p.proto}`);
      return;
    }
    failed(p, o.outcome);
  }

  function failed(p: Pending, outcome: 'rejected' | 'unreachable' | 'unanswered'): void {
    const s = p.source;
    s.outcomes[outcome]++;
    if (p.proto === 'icmp') return; // host discovery is judged on hosts probed, not on failures
    if (s.failedTargets.size < policy.maxTargetsPerSource && !s.failedTargets.has(p.target)) {
      s.failedTargets.add(p.target);
      s.failedHosts.add(p.dst);
      s.failedPorts.add(`${p.proto}/${p.port}`);
      const n = (s.portsPerHost.get(p.dst) ?? 0) + 1;
      s.portsPerHost.set(p.dst, n);
      if (n > s.maxPortsOneHost) {
        s.maxPortsOneHost = n;
        s.maxPortsHost = p.dst;
      }
    }
    evaluate(s);
  }

  /** The kinds of scan a source's counts amount to now, each with the measure that grows with it. */
  function kinds(s: Source): Array<[ScanKind, number]> {
    const out: Array<[ScanKind, number]> = [];
    const hosts = s.failedHosts.size;
    const ports = s.failedPorts.size;
    const ping = s.pingHosts.size >= th.pingHosts;
    if (ping) out.push(['ping', s.pingHosts.size]);
    if (hosts >= th.mixedHosts && ports >= th.mixedPorts) out.push(['mixed', s.failedTargets.size]);
    else if (s.maxPortsOneHost >= th.portPorts) out.push(['port', s.maxPortsOneHost]);
    // nmap -sn's TCP SYNs to port 443 are part of its host discovery, not a separate sweep.
    else if (hosts >= th.sweepHosts && ports <= th.sweepMaxPorts && !(ping && ports <= 2)) out.push(['sweep', hosts]);
    const dur = seconds(s);
    if (s.failedTargets.size >= th.slowMinTargets && dur >= th.slowMinDuration && dur / Math.max(1, s.attempts - 1) >= th.slowMinInterval) {
      out.push(['slow', s.failedTargets.size]);
    }
    return out;
  }

  function evaluate(s: Source): void {
    for (const [kind, measure] of kinds(s)) {
      const last = s.alerted.get(kind);
      if (last === undefined) {
        s.alerted.set(kind, measure);
        emit(alertDoc(s, kind, false, false));
      } else if (measure >= 2 * last) {
        s.alerted.set(kind, measure);
        emit(alertDoc(s, kind, true, false));
      }
    }
  }

  /** A source that ends (idle, too old, evicted, end of input): its pending attempts count as unanswered, then a summary. */
  function close(s: Source): void {
    for (const [k, p] of pending) {
      if (p.source !== s) continue;
      pending.delete(k);
      failed(p, 'unanswered');
    }
    for (const kind of s.alerted.keys()) emit(alertDoc(s, kind, true, true));
    sources.delete(s.ip);
  }

  function sweep(now: number): void {
    // Attempts past the reply timeout are unanswered; the map is in arrival order, so stop at the first that is not.
    for (const [k, p] of pending) {
      if (p.ts + policy.replyTimeout > now) break;
      pending.delete(k);
      failed(p, 'unanswered');
    }
    if (now - lastSweep < SWEEP_EVERY_SEC) return;
    lastSweep = now;
    for (const s of [...sources.values()]) {
      const last = s.lastSec + s.lastNsec / 1e9;
      const slowish = seconds(s) / Math.max(1, s.attempts - 1) >= th.slowMinInterval;
      const idle = now - last >= (slowish ? policy.slowIdleExpiry : policy.idleExpiry);
      if (idle || now - s.firstSec >= policy.maxAge) close(s);
    }
  }

  function alertDoc(s: Source, kind: ScanKind, update: boolean, final: boolean): EcsDoc {
    const r = SCAN_RULES[kind];
    const dur = seconds(s);
    const single = kind === 'port' ? s.maxPortsHost : s.sampleHosts.length === 1 ? s.sampleHosts[0] : undefined;
    const transport = Object.entries(s.protos).sort((a, b) => b[1] - a[1])[0]?.[0] ?? 'tcp';
    return {
      '@timestamp': isoTime(s.lastSec, s.lastNsec),
      event: {
        kind: 'alert', category: ['network', 'intrusion_detection'], type: ['info'], severity: SEVERITY_SCORE.medium, module: 'picket',
        dataset: 'picket.alert', start: isoTime(s.firstSec, s.firstNsec), end: isoTime(s.lastSec, s.lastNsec),
      },
      rule: {
        id: r.id, name: r.name, category: 'network-scan', ruleset: 'picket',
        description: `${s.ip}: ${s.attempts} attempts to ${s.failedHosts.size || s.pingHosts.size} hosts and ${s.failedPorts.size} ports in ${dur.toFixed(0)} s`,
      },
      threat: threatFields('T1595.001'),
      source: { ip: s.ip },
      ...(single !== undefined ? { destination: { ip: single } } : {}),
      network: { transport, direction: s.direction },
      observer: observerFields(observer),
      picket: {
        branch: r.branch, severity: 'medium', update, final,
        scan: {
          attempts: s.attempts,
          outcomes: { ...s.outcomes },
          hosts: s.failedHosts.size,
          ports: s.failedPorts.size,
          targets: s.failedTargets.size,
          ping_hosts: s.pingHosts.size,
          max_ports_one_host: s.maxPortsOneHost,
          probes_per_second: dur > 0 ? Number((s.attempts / dur).toFixed(3)) : null,
          duration_seconds: Number(dur.toFixed(3)),
          sample_hosts: [...s.sampleHosts],
          sample_ports: [...s.samplePorts],
          learned: [...s.learned],
          protocols: { ...s.protos },
          sensitivity: policy.sensitivity,
        },
      },
    };
  }

  return {
    observe(o) {
      const now = o.tsSec + o.tsNsec / 1e9;
      sweep(now);
      if (o.kind === 'probe') onProbe(o);
      else onReply(o);
    },
    finish() {
      for (const s of [...sources.values()].sort((a, b) => a.firstSec - b.firstSec || a.firstNsec - b.firstNsec)) close(s);
    },
  };
}
