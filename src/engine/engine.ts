import { u32be } from '../capture/bytes';
import { SHARD_BYTE_UNKNOWN, type PacketBatch } from '../capture/batch';
import { ANALYZERS } from '../app/registry';
import { HEAD_NEED_MORE, HEAD_NOT_MINE, emptyCounters, type Analyzer, type AnalyzerHost, type PacketContext, type SignatureContext } from '../core/analyzer';
import { emptyStats, type ConnObservation, type EngineStats, type Observation, type ObservationBase, type TunnelInfo } from '../core/observation';
import {
  createScanRecord, DIRECTIONS, OUTCOME_ANSWERED, OUTCOME_REJECTED, OUTCOME_UNREACHABLE, PROTO_ICMP, PROTO_TCP, PROTO_UDP, SCAN_ABORTED, SCAN_DATA, SCAN_ESTABLISHED, SCAN_PROBE,
  SCAN_REPLY, type ScanRecord,
} from '../core/scan-record';
import { createDecodedPacket, setUdpTunnelPorts, IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_TCP, IPPROTO_UDP, TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN, type DecodedPacket } from '../core/packet';
import { direction, isHome4, isHome6, type HomeNet } from '../config/homenet';
import type { Policy } from '../config/rules';
import { ipv4ToString, ipv6ToString } from '../decode/addr';
import { decodePacket } from '../decode/decode';
import { TUNNEL_KIND_NAMES } from '../decode/tunnel';
import { countDecodeEvents, createDecodeCounters, DECODE_EVENT_COUNT } from '../decode/events';
import { createIcmpQuote, readIcmpQuote } from '../decode/icmp';
import { addSegment, closeStream, createFirstBytesTable, directedCheck, directedHash, expireStreams, findStream, openStream } from '../flow/first-bytes';
import { shardOfPacket } from '../flow/shard';
import { createResolvedCache, lookupV4, remapResolved, lookupV6, rememberShared, rememberV4, rememberV6, sharedV4, sharedV6, type SharedAnswer } from '../intel/resolved';
import { matchAddress4, matchAddress6, matchDomain, type DomainIndex } from '../intel/domains';
import { excerpt, matchFieldSignatures, matchPayloadSignature, type Signature } from '../recon/signatures';
import { matchFingerprint, type Fingerprint } from '../scan/fingerprint';
import { makeRoom } from '../util/bounded';
import { RecentKeys } from '../util/recent-keys';
import { isIP } from 'node:net';
import { packetSeconds } from '../core/time';

export interface EngineConfig {
  intel: DomainIndex;
  fingerprints: Fingerprint[];
  signatures: Signature[];
  policy: Policy;
  homeNet: HomeNet;
  /** Emit an observation for every message read (DNS query, ClientHello, request, banner), not only intel matches (--metadata). */
  metadata: boolean;
  shardIndex: number;
  shardCount: number;
  /**
   * Told every DNS answer tie this engine remembers (the fanout workers of a live capture pass them to every other
   * worker: the connection that follows the answer may be on another socket). Absent: kept to itself.
   */
  shareAnswer?: (a: SharedAnswer) => void;
}

/** Where an engine's results go: observations (rare, objects) and connection attempts (common, one reused record). */
export interface EngineSink {
  observe(o: Observation): void;
  /** The record is reused for the next attempt: read it now, keep nothing of it. */
  scan(r: ScanRecord): void;
}

export interface Engine {
  processBatch(batch: PacketBatch): void;
  stats(): EngineStats;
  /** DNS answer ties another worker read (see EngineConfig.shareAnswer). */
  rememberAnswers(list: readonly SharedAnswer[]): void;
  /** New rules (SIGHUP) without losing flow state. */
  reload(rules: Pick<EngineConfig, 'intel' | 'fingerprints' | 'signatures' | 'policy'>): void;
}

/** How often (packet seconds) open first-bytes streams are checked for their timeout. */
const STREAM_SWEEP_SEC = 5;
/** A connection that shows nothing within this long (packet time) is forgotten, not reported. */
const PENDING_CONN_SEC = 60;
const MAX_PENDING_CONNS = 4096;
const MAX_UDP_FLOWS = 65536;
const MAX_SIGNATURE_FLOWS = 65536;
const HANDSHAKE_WAITING = 0;
const HANDSHAKE_ACKED = 1;
/** The target sent payload: never half-open now; kept until the prober's own data (SCAN_DATA) or its close. */
const HANDSHAKE_DATA = 2;

/**
 * The per-thread packet path: decode, keep this shard's packets, hand their payload to the application
 * analyzers (src/app/registry.ts), report connection attempts for the scan detectors and connections to intel-tied
 * addresses, and emit observations. Knows no application protocol by name. Allocates nothing per packet; strings
 * are built only for what becomes an observation.
 */
export function createEngine(cfg: EngineConfig, sink: EngineSink): Engine {
  const emit = (o: Observation): void => sink.observe(o);
  const pkt = createDecodedPacket();
  const at: PacketContext = { b: Buffer.alloc(0), pkt, ordinal: 0, tsSec: 0, tsNsec: 0 };
  const decodeCounters = createDecodeCounters();
  const st = emptyStats(DECODE_EVENT_COUNT, emptyCounters(ANALYZERS));
  const streams = createFirstBytesTable();
  const resolved = createResolvedCache(cfg.policy.intel.maxResolved, cfg.policy.intel.resolvedWindow);
  let hasAddressIntel = false;
  /** Connections to intel-tied addresses waiting for their first client bytes, by flowKey. */
  const pendingConns = new Map<number, PendingConn>();
  const udpSeen = new RecentKeys(MAX_PENDING_CONNS);
  /** Directed UDP flows already reported as probes (bounded; the oldest is forgotten first). */
  const udpProbeSeen = new RecentKeys(MAX_UDP_FLOWS);
  const udpAwaitingReply = new RecentKeys(MAX_UDP_FLOWS);
  /**
   * Watched TCP attempts answered by a SYN-ACK, until the prober shows what it does next (by directed hash prober
   * -> target): HANDSHAKE_WAITING, then HANDSHAKE_ACKED once it completed the handshake without data yet.
   */
  const answeredConns = new RecentKeys(cfg.policy.scan.maxPending);
  /** Per DIRECTIONS index: whether the scan policy watches it. */
  const scanDirections = new Uint8Array(DIRECTIONS.length);
  const rec = createScanRecord();
  const quote = createIcmpQuote();
  let nextExpiry = -Infinity;
  // Probe signatures: the ports their payload signatures watch, per direction, and bytes seen per flow direction.
  let fieldSignatures = false;
  /** Per port: 1 where a payload signature watches it (client side: the server's port; server side: its own). */
  const sigClientPorts = new Uint8Array(65536);
  const sigServerPorts = new Uint8Array(65536);
  let sigDepth = 0;
  const sigBytesSeen = new RecentKeys(MAX_SIGNATURE_FLOWS);
  /** What follows from the rules: computed at start and again when they are reloaded. */
  function derive(): void {
    setUdpTunnelPorts(pkt, cfg.policy.tunnels.vxlanPorts, cfg.policy.tunnels.genevePorts);
    pkt.maxTunnelDepth = cfg.policy.tunnels.maxDepth;
    hasAddressIntel = cfg.intel.addrs4.size > 0 || cfg.intel.addrs6.size > 0 || cfg.intel.subnets.length > 0;
    DIRECTIONS.forEach((d, i) => (scanDirections[i] = cfg.policy.scan.directions.includes(d) ? 1 : 0));
    fieldSignatures = cfg.signatures.some((sg) => sg.where !== 'payload');
    sigClientPorts.fill(0);
    sigServerPorts.fill(0);
    sigDepth = 0;
    for (const sg of cfg.signatures) {
      if (sg.where !== 'payload' || sg.ports === null) continue;
      for (const p of sg.ports) (sg.direction === 'client' ? sigClientPorts : sigServerPorts)[p] = 1;
      sigDepth = Math.max(sigDepth, sg.depth);
    }
  }
  derive();

  // ---------- what the analyzers are offered ----------

  const host: AnalyzerHost = {
    packet: at,
    counters: st.app,
    metadata: () => cfg.metadata,
    setting: (protocol, name) => cfg.policy.app[protocol]?.[name] ?? ANALYZERS.find((a) => a.name === protocol)?.settings?.[name]?.default ?? 0,
    emit,
    base: (transport, intel, reversed = false) => observationBase(at, transport, intel, cfg.homeNet, reversed),
    matchName,
    matchDomain: (name) => matchDomain(cfg.intel, name),
    settleConn,
    unnamedUdpConn(firstBytes) {
      const c = resolved.size > 0 || hasAddressIntel ? connTarget() : null;
      if (c === null) return;
      const h = directedHash(at.b, pkt, false);
      udpSeen.makeRoom();
      udpSeen.set(h, 0, directedCheck(at.b, pkt, false));
      emitConn(c, firstBytes);
    },
    directedHash: (reversed) => directedHash(at.b, pkt, reversed),
    flowKey,
    decodeEvent(code) {
      decodeCounters[code]++;
    },
    matchSignatures(fields, serverPort, context) {
      if (!fieldSignatures) return;
      matchFieldSignatures(cfg.signatures, fields, serverPort, (i, value) => emitSignature(i, value.slice(0, 200), context));
    },
    rememberAnswer(family, off, entry, name) {
      // Only answers of the family the client asked over can be tied to that client's address (the receiver).
      if (family === 4 && pkt.ipVersion === 4) {
        rememberV4(resolved, pkt.dst4, u32be(at.b, off), entry, name, at.tsSec);
        cfg.shareAnswer?.(sharedV4(pkt.dst4, u32be(at.b, off), entry, name, at.tsSec));
      } else if (family === 6 && pkt.ipVersion === 6) {
        rememberV6(resolved, at.b, pkt.dstAddrOff, off, entry, name, at.tsSec);
        cfg.shareAnswer?.(sharedV6(at.b, pkt.dstAddrOff, off, entry, name, at.tsSec));
      }
    },
  };

  const analyzers: Analyzer[] = ANALYZERS.map((spec) => spec.create(host));
  /** Port -> 1 + index of the analyzer that owns it (0: none), per transport; a table, as it is read per packet. */
  const tcpPortOwner = new Uint8Array(65536);
  const udpPortOwner = new Uint8Array(65536);
  ANALYZERS.forEach((spec, i) => {
    for (const p of spec.ports?.tcp ?? []) if (tcpPortOwner[p] === 0) tcpPortOwner[p] = i + 1;
    for (const p of spec.ports?.udp ?? []) if (udpPortOwner[p] === 0) udpPortOwner[p] = i + 1;
  });
  /** Analyzers found by content: a first-bytes stream's kind is the index of its analyzer here. */
  const streamAnalyzers = analyzers.filter((a) => a.streamProbe !== undefined && a.streamHead !== undefined);
  const udpProbers = analyzers.filter((a) => a.udpProbe !== undefined && a.udpDatagram !== undefined);
  const foreignReaders = analyzers.filter((a) => a.foreignPacket !== undefined);
  ANALYZERS.forEach((spec, i) => {
    if ((analyzers[i].foreignPacket !== undefined) !== (spec.foreignPorts !== undefined)) throw new Error(`analyzer ${spec.name}: foreignPorts must say whether it has foreignPacket`);
  });

  // ---------- connections to intel-tied addresses (intel.conn) ----------

  /** The intel entry the packet's destination is tied to, for its source: by a recent DNS answer, or by an address indicator. */
  function connTarget(): PendingConn | null {
    const b = at.b;
    const ts = at.tsSec;
    const v4 = pkt.ipVersion === 4;
    const r = v4 ? lookupV4(resolved, pkt.src4, pkt.dst4, ts) : lookupV6(resolved, b, pkt.srcAddrOff, pkt.dstAddrOff, ts);
    if (r !== undefined) return { entry: r.entry, name: r.name, via: 'dns-answer', expires: ts + PENDING_CONN_SEC };
    if (!hasAddressIntel) return null;
    const a = v4 ? matchAddress4(cfg.intel, pkt.dst4) : matchAddress6(cfg.intel, b, pkt.dstAddrOff);
    return a < 0 ? null : { entry: a, name: '', via: 'address', expires: ts + PENDING_CONN_SEC };
  }

  /** reversed: the packet is the server's; the observation still names the client as its source. */
  function emitConn(c: PendingConn, firstBytes: ConnObservation['firstBytes'], reversed = false): void {
    st.connections++;
    emit({ kind: 'conn', ...observationBase(at, pkt.proto === IPPROTO_TCP ? 'tcp' : 'udp', c.entry, cfg.homeNet, reversed), via: c.via, resolvedName: c.name, firstBytes });
  }

  /**
   * A directed flow's hash and check as one exact integer below 2^53 (60 bits): the key of pendingConns and of the
   * analyzers' per-flow Maps (rare paths, so a number past a small integer costs nothing that matters).
   */
  function flowKey(reversed: boolean): number {
    return directedHash(at.b, pkt, reversed) * 0x40000000 + directedCheck(at.b, pkt, reversed);
  }

  /** The first client bytes of a flow settle a pending connection: a host name in them means no intel.conn. */
  function settleConn(firstBytes: ConnObservation['firstBytes'], named: boolean): void {
    if (pendingConns.size === 0) return;
    const h = flowKey(false);
    const c = pendingConns.get(h);
    if (c === undefined) return;
    pendingConns.delete(h);
    if (!named && c.expires > at.tsSec) emitConn(c, firstBytes);
  }

  /** A name from a connection (SNI, Host) against the intel index; IP literals are not names. */
  function matchName(name: string): number {
    return name === '' || isIpLiteral(name) ? -1 : matchDomain(cfg.intel, name);
  }

  /**
   * SYN: a connection to an intel-tied address waits for its first client bytes to show whether it names its
   * host. FIN or RST before any: it named none. The decision is made on the flow's own packets (same thread).
   */
  function onTcpControl(): void {
    const flags = pkt.tcpFlags;
    emitTcpScanRecord(flags);
    if ((flags & TCP_SYN) !== 0 && (flags & TCP_ACK) === 0) {
      // A port an analyzer owns (DNS) to an intel-tied address is that analyzer's business, not a connection
      // that names no host.
      if ((resolved.size === 0 && !hasAddressIntel) || tcpPortOwner[pkt.dstPort] !== 0) return;
      const c = connTarget();
      if (c === null) return;
      makeRoom(pendingConns, MAX_PENDING_CONNS);
      pendingConns.set(flowKey(false), c);
      return;
    }
    if (pendingConns.size === 0 || (flags & (TCP_FIN | TCP_RST)) === 0) return;
    for (const reversed of [false, true]) {
      const h = flowKey(reversed);
      const c = pendingConns.get(h);
      if (c === undefined) continue;
      pendingConns.delete(h);
      if (c.expires > at.tsSec) emitConn(c, 'none', reversed);
      return;
    }
  }

  /** UDP: the first datagram of a flow to an intel-tied address decides (a QUIC Initial may name its host). */
  function onUdpDatagram(): void {
    const h = directedHash(at.b, pkt, false);
    const hc = directedCheck(at.b, pkt, false);
    if (udpSeen.has(h, hc)) return;
    const c = connTarget();
    if (c === null) return;
    udpSeen.makeRoom();
    udpSeen.set(h, 0, hc);
    emitConn(c, 'other');
  }

  // ---------- connection attempts and their outcomes (scan detection) ----------

  /**
   * The packet's direction (from the home net) as a DIRECTIONS index when the scan policy watches it, else -1:
   * attempts in other directions (internal clients going out, most of any network's traffic) are not reported.
   */
  function scanDirection(reversed: boolean): number {
    const b = at.b;
    const v4 = pkt.ipVersion === 4;
    const srcHome = v4 ? isHome4(cfg.homeNet, pkt.src4) : isHome6(cfg.homeNet, b, pkt.srcAddrOff);
    const dstHome = v4 ? isHome4(cfg.homeNet, pkt.dst4) : isHome6(cfg.homeNet, b, pkt.dstAddrOff);
    const from = reversed ? dstHome : srcHome;
    const to = reversed ? srcHome : dstHome;
    const d = from ? (to ? 2 : 1) : to ? 0 : 3; // DIRECTIONS order: inbound, outbound, internal, external
    return scanDirections[d] === 1 ? d : -1;
  }

  /**
   * Connection attempts and their answers, for the scan aggregator: a SYN is a probe; a SYN-ACK answers one; a
   * RST that acknowledges (the reply to a SYN on a closed port) rejects one. Replies name the prober as source.
   */
  function emitTcpScanRecord(flags: number): void {
    if ((flags & TCP_SYN) !== 0 && (flags & TCP_ACK) === 0) {
      emitProbe(PROTO_TCP, 0, pkt.tcpWindow);
    } else if ((flags & TCP_SYN) !== 0) {
      if (emitReply(PROTO_TCP, OUTCOME_ANSWERED, true)) {
        answeredConns.makeRoom();
        answeredConns.set(directedHash(at.b, pkt, true), HANDSHAKE_WAITING, directedCheck(at.b, pkt, true));
      }
    } else if ((flags & (TCP_RST | TCP_ACK)) === (TCP_RST | TCP_ACK)) {
      emitReply(PROTO_TCP, OUTCOME_REJECTED, true);
    }
  }

  /**
   * What the prober does after its attempt was answered: completing the handshake, sending data or closing with
   * FIN makes it a connection (SCAN_ESTABLISHED); a reset before any payload went either way makes it a half-open
   * probe (SCAN_ABORTED: nmap -sS, zmap and masscan leave their own kernel to reset, connect scans reset after
   * the handshake). Payload from the target ends the watch too. Called for every TCP packet while any is watched.
   */
  function onAnsweredConn(): void {
    const b = at.b;
    const h = directedHash(b, pkt, false);
    const hc = directedCheck(b, pkt, false);
    const state = answeredConns.get(h, hc);
    if (state < 0) {
      // The target's payload (a banner): no longer half-open; the prober's own data is still to be told.
      if (pkt.payloadLen > 0) {
        const r = directedHash(b, pkt, true);
        const rc = directedCheck(b, pkt, true);
        const s = answeredConns.get(r, rc);
        if (s === HANDSHAKE_WAITING) emitSettled(SCAN_ESTABLISHED, true); // its ACK was not seen (lost, or a capture gap)
        if (s >= 0) answeredConns.set(r, HANDSHAKE_DATA, rc);
      }
      return;
    }
    const flags = pkt.tcpFlags;
    if ((flags & TCP_SYN) !== 0) return; // a retransmitted SYN
    if (pkt.payloadLen > 0) {
      // The prober sends data to a service it reached: a connection, and the access that follows a scan.
      answeredConns.delete(h, hc);
      if (state === HANDSHAKE_WAITING) emitSettled(SCAN_ESTABLISHED);
      emitSettled(SCAN_DATA);
    } else if ((flags & TCP_RST) !== 0) {
      answeredConns.delete(h, hc);
      if (state !== HANDSHAKE_DATA) emitSettled(SCAN_ABORTED);
    } else if ((flags & TCP_FIN) !== 0) {
      answeredConns.delete(h, hc);
      if (state === HANDSHAKE_WAITING) emitSettled(SCAN_ESTABLISHED);
    } else if (state === HANDSHAKE_WAITING && (flags & TCP_ACK) !== 0) {
      answeredConns.set(h, HANDSHAKE_ACKED, hc);
      emitSettled(SCAN_ESTABLISHED);
    }
  }

  /** A record about an answered attempt, prober -> target as its probe (reversed: from the target's packet). */
  function emitSettled(kind: number, reversed = false): void {
    emitAbout(kind, PROTO_TCP, 0, reversed);
  }

  /** A connection attempt in a watched direction, with the header traits that name tools. */
  function emitProbe(proto: number, icmpType: number, tcpWindow: number): void {
    st.probes++;
    const d = scanDirection(false);
    if (d < 0) return;
    const syn = proto === PROTO_TCP;
    fillRecord(SCAN_PROBE, proto, d, false);
    rec.icmpType = icmpType;
    rec.ttl = pkt.ttl;
    rec.ipId = pkt.ipId;
    rec.tcpWindow = tcpWindow;
    rec.tcpSeq = syn ? pkt.tcpSeq : 0;
    rec.fingerprint = matchFingerprint(cfg.fingerprints, pkt, syn ? 'tcp-syn' : proto === PROTO_UDP ? 'udp' : icmpType === 13 ? 'icmp-timestamp' : 'icmp-echo');
    sink.scan(rec);
  }

  /**
   * What the target did with a probe. The packet goes target -> prober (reversed) or, for an ICMP error, carries
   * the probe's ends in its quote (not reversed); the record names the prober as source, as the probe did.
   */
  function emitReply(proto: number, outcome: number, reversed: boolean): boolean {
    return emitAbout(SCAN_REPLY, proto, outcome, reversed);
  }

  /** A record about an attempt other than its probe (a reply, a handshake outcome, data): no probe traits. */
  function emitAbout(kind: number, proto: number, outcome: number, reversed: boolean): boolean {
    const d = scanDirection(reversed);
    if (d < 0) return false;
    fillRecord(kind, proto, d, reversed);
    rec.outcome = outcome;
    rec.icmpType = rec.ttl = rec.ipId = rec.tcpWindow = rec.tcpSeq = 0;
    rec.fingerprint = -1;
    sink.scan(rec);
    return true;
  }

  /** The record's packet facts, prober -> target. */
  function fillRecord(kind: number, proto: number, d: number, reversed: boolean): void {
    const b = at.b;
    rec.kind = kind;
    rec.ordinal = at.ordinal;
    rec.tsSec = at.tsSec;
    rec.tsNsec = at.tsNsec;
    rec.proto = proto;
    rec.outcome = 0;
    rec.attemptKey = attemptKey(proto, reversed);
    rec.ipVersion = pkt.ipVersion;
    rec.srcPort = reversed ? pkt.dstPort : pkt.srcPort;
    rec.dstPort = reversed ? pkt.srcPort : pkt.dstPort;
    rec.direction = d;
    const a = rec.addr;
    a.fill(0);
    const len = pkt.ipVersion === 4 ? 4 : 16;
    const from = reversed ? pkt.dstAddrOff : pkt.srcAddrOff;
    const to = reversed ? pkt.srcAddrOff : pkt.dstAddrOff;
    for (let i = 0; i < len; i++) {
      a[i] = b[from + i];
      a[16 + i] = b[to + i];
    }
    rec.tunnelDepth = pkt.tunnelDepth;
    if (pkt.tunnelDepth === 0) return;
    // The tunnel as the packet came in (not flipped with the ends: it names the mirror, not the conversation).
    rec.tunnelKind = pkt.tunnelKind;
    rec.tunnelId = pkt.tunnelId;
    const v = (rec.tunnelOuterVersion = pkt.tunnelOuterVersion);
    const t = rec.tunnelAddr;
    t.fill(0);
    const n = v === 4 ? 4 : v === 6 ? 16 : 0;
    for (let i = 0; i < n; i++) {
      t[i] = b[pkt.tunnelOuterSrcOff + i];
      t[16 + i] = b[pkt.tunnelOuterDstOff + i];
    }
  }

  /** The attempt's (prober -> target) ends and ports as a small integer, with the protocol mixed in. */
  function attemptKey(proto: number, reversed: boolean): number {
    return (directedHash(at.b, pkt, reversed) ^ (proto === PROTO_TCP ? 0 : proto === PROTO_UDP ? 0x15555555 : 0x2aaaaaaa)) & 0x3fffffff;
  }

  /** ICMP: echo and timestamp requests are probes (host discovery), their replies answer them; errors quote a probe. */
  function onIcmp(): void {
    const t = pkt.icmpType;
    const v6 = pkt.ipVersion === 6;
    if (v6 ? t === 128 : t === 8 || t === 13) {
      emitProbe(PROTO_ICMP, t, 0);
    } else if (v6 ? t === 129 : t === 0 || t === 14) {
      emitReply(PROTO_ICMP, OUTCOME_ANSWERED, true);
    } else if (v6 ? t === 1 : t === 3) {
      const b = at.b;
      if (!readIcmpQuote(b, pkt.payloadOff, pkt.payloadOff + pkt.payloadLen, quote) || quote.ipVersion !== pkt.ipVersion) return;
      const proto = quote.proto === IPPROTO_TCP ? PROTO_TCP : quote.proto === IPPROTO_UDP ? PROTO_UDP : PROTO_ICMP;
      // The quoted probe went from the prober to the target: describe the reply with those ends. (Saved in
      // locals, not an array: a mixed array would hand back the offsets as doubles, and storing a double in a
      // small-integer field changes the packet's hidden class, discarding the optimised code that reads it.)
      const srcAddrOff = pkt.srcAddrOff;
      const dstAddrOff = pkt.dstAddrOff;
      const src4 = pkt.src4;
      const dst4 = pkt.dst4;
      const srcPort = pkt.srcPort;
      const dstPort = pkt.dstPort;
      setEnds(pkt, quote.srcOff, quote.dstOff, v6 ? src4 : u32be(b, quote.srcOff), v6 ? dst4 : u32be(b, quote.dstOff), quote.srcPort, quote.dstPort);
      emitReply(proto, OUTCOME_UNREACHABLE, false);
      setEnds(pkt, srcAddrOff, dstAddrOff, src4, dst4, srcPort, dstPort);
    }
  }

  /**
   * UDP: the first datagram of a directed flow is a probe (a UDP scan sends one to each port); the first datagram
   * back on a probed flow answers it (a service spoke), so busy UDP clients are not mistaken for failing ones.
   */
  function onUdpProbe(): void {
    const b = at.b;
    if (scanDirection(false) < 0) {
      // Not a direction that is watched (an inside client going out, most UDP): it can only be the answer to a
      // watched probe, and only when probes are waiting.
      if (udpAwaitingReply.size > 0 && udpAwaitingReply.delete(directedHash(b, pkt, true), directedCheck(b, pkt, true))) emitReply(PROTO_UDP, OUTCOME_ANSWERED, true);
      return;
    }
    // A service port answering an ephemeral one (DNS, NTP replies coming in) is a reply, never a probe.
    if (pkt.srcPort < 1024 && pkt.dstPort >= 1024) return;
    const h = directedHash(b, pkt, false);
    const hc = directedCheck(b, pkt, false);
    if (udpProbeSeen.has(h, hc)) return;
    udpProbeSeen.makeRoom();
    udpProbeSeen.set(h, 0, hc);
    if (udpAwaitingReply.delete(directedHash(b, pkt, true), directedCheck(b, pkt, true))) {
      // Internal flows: the answer is watched too, and seen here.
      emitReply(PROTO_UDP, OUTCOME_ANSWERED, true);
      return;
    }
    udpAwaitingReply.makeRoom();
    udpAwaitingReply.set(h, 0, hc);
    emitProbe(PROTO_UDP, 0, 0);
  }

  // ---------- probe signatures ----------

  function emitSignature(i: number, matched: string, c: SignatureContext): void {
    emit({
      kind: 'signature', ...observationBase(at, 'tcp', -1, cfg.homeNet, c.fromServer), signature: i, excerpt: matched,
      httpMethod: c.httpMethod, httpPath: c.httpPath, userAgent: c.userAgent, ...(c.app !== undefined ? { app: c.app } : {}),
    });
  }

  /**
   * A segment of a flow to or from a port that payload signatures watch: while the flow direction is within the
   * signatures' depth, look for them (each segment on its own; the bytes seen so far are counted per direction).
   */
  function onSignaturePort(off: number, end: number): void {
    const b = at.b;
    const h = directedHash(b, pkt, false);
    const hc = directedCheck(b, pkt, false);
    const seen = Math.max(0, sigBytesSeen.get(h, hc));
    if (seen >= sigDepth) return;
    if (seen === 0) sigBytesSeen.makeRoom();
    sigBytesSeen.set(h, seen + end - off, hc);
    const toServer = sigClientPorts[pkt.dstPort] === 1;
    const serverPort = toServer ? pkt.dstPort : pkt.srcPort;
    const side = toServer ? 'client' : 'server';
    for (let i = matchPayloadSignature(cfg.signatures, b, off, end, serverPort, side); i >= 0; i = matchPayloadSignature(cfg.signatures, b, off, end, serverPort, side, i + 1)) {
      if (seen >= cfg.signatures[i].depth) continue;
      emitSignature(i, excerpt(b, off, end), { fromServer: !toServer, httpMethod: '', httpPath: '', userAgent: '' });
    }
  }

  // ---------- application payload ----------

  /** A TCP segment with payload: continue an open first-bytes stream, or offer its bytes to the analyzers. */
  function onTcpPayload(): void {
    const b = at.b;
    const off = pkt.payloadOff;
    const end = off + pkt.payloadLen;
    if ((sigClientPorts[pkt.dstPort] | sigServerPorts[pkt.srcPort]) !== 0) onSignaturePort(off, end);
    if (streams.count > 0) {
      const s = findStream(streams, b, pkt, directedHash(b, pkt, false));
      // A stream past its time is closed by its own next packet, not only by the sweep, so that the outcome
      // depends on the flow's packets alone and not on which other packets share this thread.
      if (s !== undefined && s.expires <= at.tsSec) {
        closeStream(streams, s);
        streams.evicted++;
      } else if (s !== undefined) {
        if (addSegment(streams, s, b, pkt) && streamHead(streamAnalyzers[s.kind], s.data, 0, s.have) !== HEAD_NEED_MORE) closeStream(streams, s);
        else if (s.have >= streams.limits.maxBytes) closeStream(streams, s);
        return;
      }
    }
    for (let k = 0; k < streamAnalyzers.length; k++) {
      const a = streamAnalyzers[k];
      if (!a.streamProbe!(b, off, end)) continue;
      if (streamHead(a, b, off, end) === HEAD_NEED_MORE) openStream(streams, b, pkt, directedHash(b, pkt, false), k, at.tsSec);
      return;
    }
    settleConn('other', false);
  }

  /** An analyzer's verdict on a flow direction's first bytes; bytes that were not its protocol settle as other. */
  function streamHead(a: Analyzer, data: Uint8Array, off: number, end: number): number {
    const r = a.streamHead!(data, off, end);
    if (r === HEAD_NOT_MINE) settleConn('other', false);
    return r;
  }

  function onUdpPayload(): void {
    const off = pkt.payloadOff;
    const end = off + pkt.payloadLen;
    const owner = udpPortOwner[pkt.dstPort] || udpPortOwner[pkt.srcPort];
    if (owner !== 0) {
      analyzers[owner - 1].udpDatagram!(off, end);
      return;
    }
    if (pkt.fragment === 2) return;
    let handled = false;
    for (const a of udpProbers) {
      if (!a.udpProbe!(at.b, off, end)) continue;
      handled = a.udpDatagram!(off, end);
      break;
    }
    if (!handled && (resolved.size > 0 || hasAddressIntel)) onUdpDatagram();
  }

  return {
    processBatch(batch) {
      const b = batch.data;
      at.b = b;
      const sharded = cfg.shardCount > 1;
      const shards = sharded ? batch.shard : undefined;
      for (let i = 0; i < batch.count; i++) {
        const caplen = batch.caplen[i];
        at.tsSec = batch.tsSec[i];
        at.tsNsec = batch.tsNsec[i];
        // Swept on every packet's time, this thread's or not: each worker then sweeps at the same packets as an
        // inline run does, so that streams_evicted counts the same whatever the number of workers.
        if (at.tsSec >= nextExpiry) {
          if (streams.count > 0) expireStreams(streams, at.tsSec);
          nextExpiry = at.tsSec + STREAM_SWEEP_SEC;
        }
        // Most of another thread's packets are known as such from their headers (by the reading thread), and
        // skipped without being touched.
        if (shards !== undefined && shards[i] !== cfg.shardIndex && shards[i] !== SHARD_BYTE_UNKNOWN) continue;
        decodePacket(b, batch.offset[i], caplen, batch.origlen[i], batch.linktype[i], pkt);
        // A packet the reading thread named as this thread's is (shardOfFrame agrees with shardOfPacket wherever it
        // answers); only the unknown ones are asked again.
        if (sharded && (shards === undefined || shards[i] === SHARD_BYTE_UNKNOWN) && shardOfPacket(b, pkt, cfg.shardCount) !== cfg.shardIndex) {
          // Another thread owns the flow; some analyzers still learn from it (DNS answers feed every thread's
          // cache of resolved intel addresses, so a later connection finds it on whichever thread owns that).
          if (foreignReaders.length > 0 && pkt.payloadLen > 0) {
            at.ordinal = -1;
            for (const a of foreignReaders) a.foreignPacket!();
          }
          continue;
        }
        at.ordinal = batch.firstOrdinal + i;
        st.packets++;
        st.bytes += caplen;
        st.wireBytes += batch.origlen[i];
        const t = packetSeconds(at.tsSec, at.tsNsec);
        if (t < st.firstTs) st.firstTs = t;
        if (t > st.lastTs) st.lastTs = t;
        if ((pkt.events | pkt.eventsHi) !== 0) countDecodeEvents(decodeCounters, pkt.events, pkt.eventsHi);
        if (pkt.fragment !== 0 && pkt.proto !== IPPROTO_UDP) continue;
        const proto = pkt.proto;
        if (proto === IPPROTO_TCP) {
          if (answeredConns.size > 0) onAnsweredConn();
          if ((pkt.tcpFlags & (TCP_SYN | TCP_FIN | TCP_RST)) !== 0) onTcpControl();
          if (pkt.payloadLen === 0) continue;
          const owner = tcpPortOwner[pkt.srcPort] || tcpPortOwner[pkt.dstPort];
          if (owner !== 0) analyzers[owner - 1].tcpSegment!(pkt.payloadOff, pkt.payloadOff + pkt.payloadLen);
          else onTcpPayload();
        } else if (proto === IPPROTO_UDP) {
          if (pkt.fragment === 0) onUdpProbe();
          if (pkt.payloadLen > 0) onUdpPayload();
        } else if ((proto === IPPROTO_ICMP || proto === IPPROTO_ICMPV6) && pkt.payloadOff > 0) {
          onIcmp();
        }
      }
    },
    rememberAnswers(list) {
      // By name, not by the sender's entry position: a worker that has not yet taken a reload the sender has (or the
      // other way round) numbers the entries differently.
      for (const a of list) {
        a.entry = host.matchDomain(a.name);
        if (a.entry >= 0) rememberShared(resolved, a);
      }
    },
    stats() {
      st.decode = Array.from(decodeCounters);
      st.streamsEvicted = streams.evicted;
      return st;
    },
    reload(rules) {
      // Flow state (streams, UDP flows, probes awaiting replies) is kept, within the bounds it was made with (a new
      // scan.max_pending applies from the next start). What refers to intel entries by position is looked up again
      // by name, as a fresh DNS answer would be: address ties from DNS answers (a reload used to forget them, and
      // with them intel.conn for the connections after it) and connections waiting on them. Connections waiting on
      // an address entry (a few seconds) are dropped: they carry no name to look up.
      cfg = { ...cfg, ...rules };
      remapResolved(resolved, host.matchDomain, cfg.policy.intel.maxResolved, cfg.policy.intel.resolvedWindow);
      for (const [key, c] of pendingConns) {
        c.entry = c.via === 'dns-answer' ? host.matchDomain(c.name) : -1;
        if (c.entry < 0) pendingConns.delete(key);
      }
      derive();
      for (const a of analyzers) a.reload?.();
    },
  };
}

interface PendingConn {
  entry: number;
  name: string;
  via: ConnObservation['via'];
  expires: number;
}

/**
 * The packet facts every observation carries; built only for packets that become observations. reversed: the
 * packet described from its receiver's side (a server's packet named from its client, a reply from its prober).
 */
function observationBase(at: PacketContext, transport: 'udp' | 'tcp', intel: number, home: HomeNet, reversed: boolean): ObservationBase {
  const b = at.b;
  const pkt: DecodedPacket = at.pkt;
  const v4 = pkt.ipVersion === 4;
  const srcHome = v4 ? isHome4(home, pkt.src4) : isHome6(home, b, pkt.srcAddrOff);
  const dstHome = v4 ? isHome4(home, pkt.dst4) : isHome6(home, b, pkt.dstAddrOff);
  const srcIp = v4 ? ipv4ToString(pkt.src4) : ipv6ToString(b, pkt.srcAddrOff);
  const dstIp = v4 ? ipv4ToString(pkt.dst4) : ipv6ToString(b, pkt.dstAddrOff);
  const base: ObservationBase = {
    ordinal: at.ordinal,
    tsSec: at.tsSec,
    tsNsec: at.tsNsec,
    ipVersion: pkt.ipVersion,
    srcIp: reversed ? dstIp : srcIp,
    dstIp: reversed ? srcIp : dstIp,
    srcPort: reversed ? pkt.dstPort : pkt.srcPort,
    dstPort: reversed ? pkt.srcPort : pkt.dstPort,
    transport,
    direction: reversed ? direction(dstHome, srcHome) : direction(srcHome, dstHome),
    vlan: pkt.vlanOuter,
    intel,
  };
  // Only tunnelled packets carry the field (no empty object spread into every observation).
  if (pkt.tunnelDepth > 0) base.tunnel = tunnelOf(b, pkt);
  return base;
}

/** The outermost tunnel a packet came in (its addresses are the inner packet's). */
function tunnelOf(b: Buffer, pkt: DecodedPacket): TunnelInfo {
  const v = pkt.tunnelOuterVersion;
  const addr = (off: number): string => (v === 4 ? ipv4ToString(u32be(b, off)) : ipv6ToString(b, off));
  return {
    kind: TUNNEL_KIND_NAMES[pkt.tunnelKind],
    id: pkt.tunnelId,
    depth: pkt.tunnelDepth,
    ...(v !== 0 ? { outerSrcIp: addr(pkt.tunnelOuterSrcOff), outerDstIp: addr(pkt.tunnelOuterDstOff) } : {}),
  };
}

/**
 * Whether a name is an IP literal; net.isIP's regular expression only where it can be (an IPv4 literal ends in a
 * digit, an IPv6 one has a colon): most host names end in a letter and skip it (it was 1-2 % of a replay).
 */
function isIpLiteral(name: string): boolean {
  const last = name.charCodeAt(name.length - 1);
  return (last >= 0x30 && last <= 0x39) || name.includes(':') ? isIP(name) !== 0 : false;
}

/** Sets a packet's ends (addresses and ports), as the ICMP error path borrows its quote's for one record. */
function setEnds(pkt: DecodedPacket, srcAddrOff: number, dstAddrOff: number, src4: number, dst4: number, srcPort: number, dstPort: number): void {
  pkt.srcAddrOff = srcAddrOff;
  pkt.dstAddrOff = dstAddrOff;
  pkt.src4 = src4;
  pkt.dst4 = dst4;
  pkt.srcPort = srcPort;
  pkt.dstPort = dstPort;
}
