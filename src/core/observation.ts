/**
 * What a worker tells the main thread: compact records for the rare packets that matter (app-layer names; the
 * commoner connection attempts go as ScanRecords, core/scan-record.ts), never the packets themselves. `ordinal` is the packet's place in the whole input, the
 * order in which the main thread replays observations from all workers, so results do not depend on threads.
 */
/** What every observation says about the packet it came from. */
export interface ObservationBase {
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
  /** Index of the matched intel entry in the rules both threads loaded, or -1. */
  intel: number;
  /** The tunnel the packet came in, when it came in one (the addresses above are then the inner packet's). */
  tunnel?: TunnelInfo;
}

/** The outermost tunnel of a packet (src/decode/tunnel.ts), as picket.tunnel reports it. */
export interface TunnelInfo {
  kind: string;
  /** VNI, GRE key, ERSPAN or PPPoE session id, top MPLS label; -1 when the tunnel has none. */
  id: number;
  /** How many tunnels deep the packet was. */
  depth: number;
  /** The endpoints of the packet that carried the tunnel; absent when it was not IP (MPLS, PPPoE on Ethernet). */
  outerSrcIp?: string;
  outerDstIp?: string;
}

export interface DnsQueryObservation extends ObservationBase {
  kind: 'dns_query';
  /** The (first) question's name; '' for a response without a question (mDNS responses have none). */
  name: string;
  qtype: number;
  id: number;
  /** The protocol that carried it when not DNS: multicast DNS (RFC 6762, UDP 5353) or LLMNR (RFC 4795, 5355). */
  protocol?: 'mdns' | 'llmnr';
  /**
   * Set for a response (mDNS and LLMNR, --metadata only; never matched against intel): its rcode and the owner
   * names and types of its first answer records (src/app/dns/dns.ts MAX_ANSWER_NAMES).
   */
  response?: { rcode: number; answers: Array<{ name: string; type: number }> };
  /** The opcode when not a standard query (4 NOTIFY, 5 UPDATE: --metadata only, never matched against intel). */
  opcode?: number;
  /** An UPDATE's prerequisite and update record names (the zone is `name`), up to MAX_ANSWER_NAMES each. */
  update?: { prerequisites: string[]; updates: string[] };
}

/**
 * A DNS response the reconnaissance detectors need: NXDOMAIN answers (subdomain brute force), and answers to PTR,
 * AXFR and IXFR questions. srcIp is the CLIENT that asked (the response's destination), as in its query.
 */
export interface DnsResponseObservation extends ObservationBase {
  kind: 'dns_response';
  name: string;
  qtype: number;
  rcode: number;
  ancount: number;
  id: number;
}

export interface TlsHelloObservation extends ObservationBase {
  kind: 'tls_client_hello';
  /** Carried in a QUIC Initial rather than a TCP stream. */
  quic: boolean;
  sni: string | null;
  alpn: string[];
  version: number;
  ja4: string;
  /** The hello carries encrypted_client_hello: its SNI is the outer, public name, not the real one. */
  ech: boolean;
}

export interface HttpRequestObservation extends ObservationBase {
  kind: 'http_request';
  method: string;
  path: string;
  httpVersion: string;
  host: string;
  userAgent: string;
}

/** A connection to an address tied to an intel entry (by a DNS answer or an address indicator) that named no host. */
export interface ConnObservation extends ObservationBase {
  kind: 'conn';
  via: 'dns-answer' | 'address';
  /** The intel name the client resolved to this address ('' for address indicators). */
  resolvedName: string;
  /** What the connection's first bytes were: tls/quic (a ClientHello without SNI, or with ECH), http (an IP-literal Host), other, none. */
  firstBytes: 'none' | 'tls' | 'quic' | 'http' | 'other';
}

/** Observations that intel matching turns into alerts (and --metadata into protocol events). */
export type IntelObservation = DnsQueryObservation | TlsHelloObservation | HttpRequestObservation | ConnObservation;
/** A probe signature (rules/signatures.yaml) matched; srcIp is the client, dstIp/dstPort the server. */
export interface SignatureObservation extends ObservationBase {
  kind: 'signature';
  /** Index into the rules' signatures, which both threads loaded. */
  signature: number;
  /** What matched: the HTTP field's value, or a printable excerpt of the payload. */
  excerpt: string;
  /** The request's fields when the signature is on HTTP (for ECS url/user_agent), else empty. */
  httpMethod: string;
  httpPath: string;
  userAgent: string;
  /** The message's fields, for a protocol with no ECS home (picket.<protocol> on the alert). */
  app?: { protocol: string; fields: AppFields };
}

/** Observations the DNS reconnaissance detectors consume (with PTR, AXFR and IXFR queries). */
export type DnsReconObservation = DnsResponseObservation;

/** Fields of an AppObservation: plain values, nested by name. */
export interface AppFields {
  [name: string]: string | number | boolean | string[] | AppFields;
}

/**
 * A message of a protocol that has no observation kind of its own (SSH, and any protocol added as a folder under
 * src/app): its fields go under picket.<protocol> of --metadata events, dataset picket.<protocol>.
 */
export interface AppObservation extends ObservationBase {
  kind: 'app';
  protocol: string;
  fields: AppFields;
}

/** Connection attempts are not observations: they travel as ScanRecords (core/scan-record.ts). */
export type Observation = IntelObservation | DnsReconObservation | SignatureObservation | AppObservation;

/** The name an observation offers for intel matching ('' when none: an IP-literal Host, a hello without SNI). */
export function observedName(o: IntelObservation): string {
  switch (o.kind) {
    case 'dns_query': return o.name;
    case 'tls_client_hello': return o.sni ?? '';
    case 'http_request': return o.host;
    case 'conn': return o.resolvedName !== '' ? o.resolvedName : o.dstIp;
  }
}

/** Counters of one engine; summed over workers by the main thread. */
export interface EngineStats {
  packets: number;
  bytes: number;
  wireBytes: number;
  decode: number[];
  /** Each application protocol's counters (src/app/registry.ts), by protocol and counter name. */
  app: Record<string, Record<string, number>>;
  connections: number;
  /** Connection attempts seen (SYNs, new UDP flows, ICMP echo/timestamp requests). */
  probes: number;
  /** First-bytes streams dropped for their bounds (count, size, time). */
  streamsEvicted: number;
  /** Packet times (seconds, fractional) of the first and last packet. */
  firstTs: number;
  lastTs: number;
}

/** Zero counters; `app` is the registry's protocol counters at zero (core does not know the protocols). */
export function emptyStats(decodeCount: number, app: Record<string, Record<string, number>>): EngineStats {
  // The counters that pass 2^31 in a long run (bytes after 2 GB, packets after 2 G) start as doubles and are then
  // zeroed: a first value past 2^31 would otherwise change the object's hidden class mid-run and discard the engine
  // loop's optimised code (as DecodedPacket's 32-bit fields would; see createDecodedPacket).
  const st: EngineStats = {
    packets: 0.5, bytes: 0.5, wireBytes: 0.5, decode: new Array<number>(decodeCount).fill(0), app, connections: 0, probes: 0, streamsEvicted: 0, firstTs: Infinity, lastTs: -Infinity,
  };
  st.packets = st.bytes = st.wireBytes = 0;
  return st;
}

export function addStats(into: EngineStats, s: EngineStats): void {
  into.packets += s.packets;
  into.bytes += s.bytes;
  into.wireBytes += s.wireBytes;
  for (let i = 0; i < s.decode.length; i++) into.decode[i] += s.decode[i];
  for (const [proto, counters] of Object.entries(s.app)) {
    const to = (into.app[proto] ??= {});
    for (const [name, n] of Object.entries(counters)) to[name] = (to[name] ?? 0) + n;
  }
  into.connections += s.connections;
  into.probes += s.probes;
  into.streamsEvicted += s.streamsEvicted;
  into.firstTs = Math.min(into.firstTs, s.firstTs);
  into.lastTs = Math.max(into.lastTs, s.lastTs);
}
