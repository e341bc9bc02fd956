import * as os from 'node:os';
import { dnsTypeName } from '../app/dns';
import type { Severity } from '../intel/domains';
import type { DnsQueryObservation } from '../engine/observation';

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
