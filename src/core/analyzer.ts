import type { DecodedPacket } from './packet';
import type { AppFields, ConnObservation, Observation, ObservationBase } from './observation';

/**
 * The contract between the engine and one application protocol, in the manner of Suricata's app-layer parser
 * registration and nDPI's protocol files: a protocol is a folder under src/app with one AnalyzerSpec, listed once in
 * src/app/registry.ts. The engine knows no protocol by name; it offers each packet's payload to the analyzers in
 * registry order and counts, reports and exposes their counters by iterating the registry.
 *
 * Two ways in, as protocols differ:
 *   - by port (DNS): every segment or datagram to or from one of `ports` belongs to the protocol, whatever its
 *     content, and is handed over whole (tcpSegment, udpDatagram);
 *   - by content (HTTP, TLS, SSH, QUIC): the first bytes of a flow direction on any port are offered to each
 *     analyzer's cheap probe; the first that recognises them parses the head (streamHead), asking for more bytes
 *     (the engine then reassembles the direction's first bytes, within bounds) or settling the flow direction.
 */
/** TCP and UDP port numbers. */
export interface PortSet {
  readonly tcp?: readonly number[];
  readonly udp?: readonly number[];
}

export interface AnalyzerSpec {
  /** Protocol name: picket.stats.<name>.*, picket_<name>_<counter>_total, ECS network.protocol. */
  readonly name: string;
  /** This protocol's counters, name -> help text; the engine keeps one number per name, starting at 0. */
  readonly counters: Readonly<Record<string, string>>;
  /** Ports owned by the protocol, either end (policy may move them later; these are the defaults). */
  readonly ports?: PortSet;
  /**
   * Numbers the protocol's behaviour depends on (bounds, budgets): policy, not code. Users override them in a
   * policy file (`app: { <name>: { <setting>: N } }`); each has its default and what it means.
   */
  readonly settings?: Readonly<Record<string, { readonly default: number; readonly kind: 'count' | 'duration'; readonly help: string }>>;
  /**
   * Its analyzer reads packets that another thread owns (foreignPacket): those that come from the `from` ports or go
   * to the `to` ports, which may depend on --metadata. With workers, every thread decodes those, and only those, of
   * another's packets, so the sets should be no wider than what foreignPacket acts on.
   */
  readonly foreignPorts?: (metadata: boolean) => { readonly from: PortSet; readonly to: PortSet };
  /** Field names probe signatures may match (`where:`), as the analyzer passes them to matchSignatures. */
  readonly signatureFields?: readonly string[];
  create(host: AnalyzerHost): Analyzer;
}

/** Results of streamHead. */
export const HEAD_DONE = 0;
export const HEAD_NEED_MORE = 1;
/** The probe matched but the bytes are not this protocol after all: the flow direction is settled as other data. */
export const HEAD_NOT_MINE = 2;
export type HeadResult = typeof HEAD_DONE | typeof HEAD_NEED_MORE | typeof HEAD_NOT_MINE;

/** One protocol's per-thread state and entry points; every method is optional. */
export interface Analyzer {
  /** A TCP segment with payload to or from one of the protocol's TCP ports. */
  tcpSegment?(off: number, end: number): void;
  /**
   * A UDP datagram with payload: always called for the protocol's UDP ports; on other ports only when udpProbe
   * says yes. Returns false when the datagram turned out not to be the protocol's (it is then other UDP).
   */
  udpDatagram?(off: number, end: number): boolean;
  /** A cheap content test for a UDP datagram on any port (not a later IP fragment). */
  udpProbe?(b: Uint8Array, off: number, end: number): boolean;
  /** A cheap content test of the first bytes of a TCP flow direction. */
  streamProbe?(b: Uint8Array, off: number, end: number): boolean;
  /**
   * The first bytes of a TCP flow direction whose probe said yes: in the packet itself (data is the packet's
   * buffer), or the direction's first bytes reassembled (a buffer of their own). The current packet is the one
   * that completed them.
   */
  streamHead?(data: Uint8Array, off: number, end: number): HeadResult;
  /**
   * A packet on one of the protocol's ports that another thread owns (only with several workers): for state every
   * thread needs (DNS answers tie intel addresses for whichever thread owns the later connection). Never emits.
   */
  foreignPacket?(): void;
  /** The rules were reloaded (SIGHUP): drop what refers to the old rules. */
  reload?(): void;
}

/** The packet being processed: one object, rewritten by the engine for every packet (never kept by analyzers). */
export interface PacketContext {
  b: Buffer;
  pkt: DecodedPacket;
  /** The packet's place in the whole input; -1 for another thread's packet. */
  ordinal: number;
  tsSec: number;
  tsNsec: number;
}

/** What the engine offers every analyzer. */
export interface AnalyzerHost {
  readonly packet: PacketContext;
  /** Every protocol's counters by protocol name (a protocol may count into another's: QUIC hellos are TLS hellos). */
  readonly counters: Record<string, Record<string, number>>;
  /** A setting of this protocol (AnalyzerSpec.settings) as the loaded policy has it; read again after reload(). */
  setting(protocol: string, name: string): number;
  /** --metadata: emit an event for every message read, not only those that match intel. */
  metadata(): boolean;
  emit(o: Observation): void;
  /** The observation fields of the current packet, as sent (reversed: described from the receiver's side). */
  base(transport: 'tcp' | 'udp', intel: number, reversed?: boolean): ObservationBase;
  /** The intel entry a host name falls under, or -1 (IP literals and '' are not names). */
  matchName(name: string): number;
  /** The intel entry a DNS name falls under, or -1. */
  matchDomain(name: string): number;
  /**
   * The current flow direction's first bytes are known: a connection to an intel-tied address that they do not
   * name a host in (named false) becomes an intel.conn observation; what they were is `firstBytes`.
   */
  settleConn(firstBytes: ConnObservation['firstBytes'], named: boolean): void;
  /**
   * A UDP flow that names no host (a QUIC hello without SNI, or with ECH) to an intel-tied address becomes an
   * intel.conn observation at once (UDP has no close to wait for); later datagrams of the flow are not reported.
   */
  unnamedUdpConn(firstBytes: ConnObservation['firstBytes']): void;
  /** A 30-bit hash of the current packet's flow direction (reversed: the opposite direction). */
  directedHash(reversed: boolean): number;
  /**
   * The current packet's flow direction as an exact integer below 2^53 (the 30-bit hash and a second 30-bit hash
   * of the same ends): a key under which two flows are one only if 60 bits agree. For per-flow Maps of rare paths
   * (its value is not a small integer: one heap number a call).
   */
  flowKey(reversed: boolean): number;
  /** Counts a decode event (src/decode/events.ts) for the current packet's message. */
  decodeEvent(code: number): void;
  /**
   * Probe signatures (rules/signatures.yaml) on a message's named fields ("http.user_agent", "ssh.client.software":
   * `where` in a signature); serverPort is the port of the message's server end.
   */
  matchSignatures(fields: Readonly<Record<string, string>>, serverPort: number, context: SignatureContext): void;
  /** A DNS answer tied `name` (intel entry `entry`) to an address, at `at` in the packet, for the packet's receiver. */
  rememberAnswer(family: 4 | 6, at: number, entry: number, name: string): void;
}

/** What a signature observation carries about the message that matched, beside the matched value. */
export interface SignatureContext {
  /** The current packet's direction is server to client (the observation then names the client as source). */
  fromServer: boolean;
  httpMethod: string;
  httpPath: string;
  userAgent: string;
  /** Fields of a protocol with no ECS home, reported under picket.<protocol>. */
  app?: { protocol: string; fields: AppFields };
}

/** Counters of every protocol in `specs`, at zero. */
export function emptyCounters(specs: readonly AnalyzerSpec[]): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = {};
  for (const s of specs) {
    const c: Record<string, number> = {};
    for (const name of Object.keys(s.counters)) c[name] = 0;
    out[s.name] = c;
  }
  return out;
}
