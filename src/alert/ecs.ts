import * as os from 'node:os';
import { dnsTypeName } from '../app/dns';
import type { Severity } from '../intel/domains';
import type { DnsQueryObservation, EngineStats } from '../engine/observation';
import { DECODE_EVENT_NAMES, FIRST_ERROR_EVENT } from '../decode/events';

export type EcsDoc = Record<string, unknown>;

/** ECS event.severity for a severity word, on Elastic's risk scale. */
export const SEVERITY_SCORE: Record<Severity, number> = { low: 21, medium: 47, high: 73, critical: 99 };

/** ISO 8601 with microseconds (Suricata's EVE precision); packet time, never the wall clock. */
export function isoTime(sec: number, nsec: number): string {
  const iso = new Date(sec * 1000).toISOString(); // ...:SS.mmmZ
  return `${iso.slice(0, 19)}.${String(Math.floor(nsec / 1000)).padStart(6, '0')}Z`;
}

export interface ObserverInfo {
  version: string;
  hostname: string;
}

export function observerInfo(version: string): ObserverInfo {
  return { version, hostname: os.hostname() };
}

export function observerFields(o: ObserverInfo): EcsDoc {
  return { type: 'sensor', vendor: 'picket', product: 'picket', version: o.version, hostname: o.hostname };
}

/** The network.* of one observed packet. */
export function networkFields(o: DnsQueryObservation, protocol: string): EcsDoc {
  const net: EcsDoc = { transport: o.transport, protocol, type: o.ipVersion === 6 ? 'ipv6' : 'ipv4', direction: o.direction };
  if (o.vlan >= 0) net.vlan = { id: String(o.vlan) };
  return net;
}

export function dnsQuestionFields(o: DnsQueryObservation): EcsDoc {
  return { type: 'query', id: o.id, question: { name: o.name, type: dnsTypeName(o.qtype) } };
}

/** The protocol event for one DNS query (--metadata). */
export function dnsQueryEvent(o: DnsQueryObservation, obs: ObserverInfo): EcsDoc {
  return {
    '@timestamp': isoTime(o.tsSec, o.tsNsec),
    event: { kind: 'event', category: ['network'], type: ['protocol', 'info'], module: 'picket', dataset: 'picket.dns' },
    source: { ip: o.srcIp, port: o.srcPort },
    destination: { ip: o.dstIp, port: o.dstPort },
    network: networkFields(o, 'dns'),
    dns: dnsQuestionFields(o),
    observer: observerFields(obs),
    picket: { packet: o.ordinal + 1 },
  };
}

/**
 * The sensor's own counters at the end of a run (event.kind: metric, picket.stats.*), so that decode errors, cut
 * files and alert counts reach the SIEM beside the alerts.
 */
export function statsDoc(
  stats: EngineStats, files: Array<{ truncated: boolean; error: string | null }>, alerts: Map<string, number>, obs: ObserverInfo,
): EcsDoc {
  const decode: Record<string, number> = {};
  let errors = 0;
  stats.decode.forEach((n, code) => {
    if (n === 0) return;
    decode[DECODE_EVENT_NAMES[code]] = n;
    if (code >= FIRST_ERROR_EVENT) errors += n;
  });
  const first = Number.isFinite(stats.firstTs) ? stats.firstTs : 0;
  const last = Number.isFinite(stats.lastTs) ? stats.lastTs : 0;
  const iso = (t: number): string => isoTime(Math.floor(t), Math.round((t - Math.floor(t)) * 1e6) * 1000);
  return {
    '@timestamp': iso(last),
    event: { kind: 'metric', category: ['network'], type: ['info'], module: 'picket', dataset: 'picket.stats', start: iso(first), end: iso(last) },
    observer: observerFields(obs),
    picket: {
      stats: {
        files: files.length,
        files_truncated: files.filter((f) => f.truncated).length,
        files_corrupt: files.filter((f) => f.error !== null).length,
        packets: stats.packets,
        bytes: stats.bytes,
        wire_bytes: stats.wireBytes,
        decode_errors: errors,
        decode,
        dns: { messages: stats.dnsMessages, queries: stats.dnsQueries },
        alerts: Object.fromEntries([...alerts.entries()].sort()),
      },
    },
  };
}
