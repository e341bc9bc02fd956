/**
 * What a worker tells the main thread: compact records for the rare packets that matter (app-layer names, later
 * connection attempts), never the packets themselves. `ordinal` is the packet's place in the whole input, the
 * order in which the main thread replays observations from all workers, so results do not depend on threads.
 */
export interface DnsQueryObservation {
  kind: 'dns_query';
  ordinal: number;
  tsSec: number;
  tsNsec: number;
  ipVersion: number;
  srcIp: string;
  dstIp: string;
  srcPort: number;
  dstPort: number;
  transport: 'udp' | 'tcp';
  direction: string;
  vlan: number;
  name: string;
  qtype: number;
  id: number;
  /** Index of the matched intel entry in the rules both threads loaded, or -1. */
  intel: number;
}

export type Observation = DnsQueryObservation;

/** Counters of one engine; summed over workers by the main thread. */
export interface EngineStats {
  packets: number;
  bytes: number;
  wireBytes: number;
  decode: number[];
  dnsMessages: number;
  dnsQueries: number;
  /** Packet times (seconds, fractional) of the first and last packet. */
  firstTs: number;
  lastTs: number;
}

export function emptyStats(decodeCount: number): EngineStats {
  return { packets: 0, bytes: 0, wireBytes: 0, decode: new Array<number>(decodeCount).fill(0), dnsMessages: 0, dnsQueries: 0, firstTs: Infinity, lastTs: -Infinity };
}

export function addStats(into: EngineStats, s: EngineStats): void {
  into.packets += s.packets;
  into.bytes += s.bytes;
  into.wireBytes += s.wireBytes;
  for (let i = 0; i < s.decode.length; i++) into.decode[i] += s.decode[i];
  into.dnsMessages += s.dnsMessages;
  into.dnsQueries += s.dnsQueries;
  into.firstTs = Math.min(into.firstTs, s.firstTs);
  into.lastTs = Math.max(into.lastTs, s.lastTs);
}
