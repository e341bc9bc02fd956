import { u16be, u32be } from '../capture/bytes';
import type { PacketBatch } from '../capture/batch';
import { createDnsQuestion, isReconQtype, RCODE_NXDOMAIN, readDnsAnswers, readDnsQuestion } from '../app/dns';
import { direction, isHome4, isHome6, type HomeNet } from '../config/homenet';
import { ipv4ToString, ipv6ToString } from '../decode/addr';
import { decodePacket } from '../decode/decode';
import { countDecodeEvents, createDecodeCounters, DecodeEvent, DECODE_EVENT_COUNT } from '../decode/events';
import { createDecodedPacket, IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_TCP, IPPROTO_UDP, TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN, type DecodedPacket } from '../decode/packet';
import { createIcmpQuote, readIcmpQuote } from '../decode/icmp';
import { shardOfRaw, type RawPeek } from '../flow/shard';
import { makeRoom } from '../util/bounded';
import { createResolvedCache, lookupV4, lookupV6, rememberV4, rememberV6 } from '../intel/resolved';
import type { Policy } from '../config/rules';
import { matchAddress4, matchAddress6, matchDomain, type DomainIndex } from '../intel/domains';
import { matchFingerprint, type Fingerprint } from '../scan/fingerprint';
import { excerpt, matchHttpSignatures, matchPayloadSignature, type Signature } from '../recon/signatures';
import { emptyStats, type ConnObservation, type EngineStats, type Observation, type ObservationBase, type ProbeObservation, type ReplyObservation } from './observation';
import { isIP } from 'node:net';
import { looksLikeHttpRequest, parseHttpRequest, type HttpRequest } from '../app/http';
import { looksLikeTlsClientHello, parseClientHelloMessage, parseTlsClientStream, type ClientHello } from '../app/tls';
import { assembleCrypto, decryptClientInitials, looksLikeQuicInitial, type CryptoChunk } from '../app/quic';
import { addSegment, closeStream, createFirstBytesTable, directedHash, expireStreams, findStream, openStream } from '../flow/first-bytes';

export interface EngineConfig {
  intel: DomainIndex;
  fingerprints: Fingerprint[];
  signatures: Signature[];
  policy: Policy;
  homeNet: HomeNet;
  /** Emit an observation for every DNS query, not only those that match intel (--metadata). */
  metadata: boolean;
  shardIndex: number;
  shardCount: number;
}

export interface Engine {
  processBatch(batch: PacketBatch): void;
  stats(): EngineStats;
  /** New rules (SIGHUP) without losing flow state. */
  reload(rules: Pick<EngineConfig, 'intel' | 'fingerprints' | 'signatures' | 'policy'>): void;
}

const DNS_PORT = 53;
const STREAM_HTTP = 1;
const STREAM_TLS = 2;
/** encrypted_client_hello (draft-ietf-tls-esni): the SNI beside it is the public outer name. */
const TLS_EXT_ECH = 0xfe0d;
const MAX_QUIC_PENDING = 1024;
const MAX_QUIC_CRYPTO = 65536;
/** How often (packet seconds) open first-bytes streams are checked for their timeout. */
const STREAM_SWEEP_SEC = 5;

/**
 * The per-thread packet path: decode, keep this shard's packets, find app-layer names, match intel, and emit
 * observations. Allocates nothing per packet; strings are built only for DNS names and for observations.
 */
export function createEngine(cfg: EngineConfig, emit: (o: Observation) => void): Engine {
  const pkt = createDecodedPacket();
  const dns = createDnsQuestion();
  const decodeCounters = createDecodeCounters();
  const st = emptyStats(DECODE_EVENT_COUNT);
  const streams = createFirstBytesTable();
  const peek: RawPeek = { proto: 0, srcPort: 0 };
  const answer = createDnsQuestion();
  let resolved = createResolvedCache(cfg.policy.intel.maxResolved, cfg.policy.intel.resolvedWindow);
  let hasAddressIntel = false;
  /** Connections to intel-tied addresses waiting for their first client bytes, by directed flow hash. */
  const pendingConns = new Map<number, PendingConn>();
  const udpSeen = new Set<number>();
  /** Directed UDP flows already reported as probes (bounded; the oldest is forgotten first). */
  const udpProbeSeen = new Set<number>();
  const udpAwaitingReply = new Set<number>();
  let scanDirections = new Set<string>();
  const quote = createIcmpQuote();
  /** QUIC flows whose ClientHello is still incomplete, and flows already read (later Initials are skipped). */
  const quicPending = new Map<number, { chunks: CryptoChunk[]; expires: number }>();
  const quicDone = new Set<number>();
  let nextExpiry = -Infinity;
  // Probe signatures: the ports their payload signatures watch, per direction, and bytes seen per flow direction.
  let httpSignatures = false;
  let sigClientPorts = new Set<number>();
  let sigServerPorts = new Set<number>();
  let sigDepth = 0;
  /** What follows from the rules: computed at start and again when they are reloaded. */
  function derive(): void {
    hasAddressIntel = cfg.intel.addrs4.size > 0 || cfg.intel.addrs6.size > 0 || cfg.intel.subnets.length > 0;
    scanDirections = new Set(cfg.policy.scan.directions);
    httpSignatures = cfg.signatures.some((sg) => sg.where !== 'payload');
    sigClientPorts = new Set();
    sigServerPorts = new Set();
    sigDepth = 0;
    for (const sg of cfg.signatures) {
      if (sg.where !== 'payload' || sg.ports === null) continue;
      for (const p of sg.ports) (sg.direction === 'client' ? sigClientPorts : sigServerPorts).add(p);
      sigDepth = Math.max(sigDepth, sg.depth);
    }
  }
  derive();
  const sigBytesSeen = new Map<number, number>();

  function observeDns(b: Buffer, p: number, end: number, transport: 'udp' | 'tcp', ordinal: number, ts: number, nsec: number): void {
    st.dnsMessages++;
    if (!readDnsQuestion(b, p, end, dns, true)) {
      decodeCounters[DecodeEvent.DNS_MALFORMED]++;
      return;
    }
    if (dns.isResponse || dns.opcode !== 0) return;
    st.dnsQueries++;
    const hit = matchDomain(cfg.intel, dns.name);
    if (hit < 0 && !cfg.metadata && !isReconQtype(dns.qtype)) return;
    emit({ kind: 'dns_query', ...observationBase(b, pkt, transport, ordinal, ts, nsec, hit, cfg.homeNet), name: dns.name, qtype: dns.qtype, id: dns.id });
  }

  /**
   * A DNS response: NXDOMAIN and PTR/AXFR/IXFR answers go to the reconnaissance detectors; the addresses of an
   * answer for an intel name are tied to the client that asked (the response's destination).
   */
  function learnAnswers(b: Buffer, p: number, end: number, ts: number, ordinal: number, nsec: number): void {
    // ordinal < 0: a packet of another thread's flow, read only to learn answers (its owner reports it).
    if (!readDnsQuestion(b, p, end, answer, false) || !answer.isResponse) return;
    if (ordinal >= 0 && answer.opcode === 0 && (answer.rcode === RCODE_NXDOMAIN || isReconQtype(answer.qtype))) {
      swapEnds(pkt);
      emit({
        kind: 'dns_response', ...observationBase(b, pkt, pkt.proto === IPPROTO_TCP ? 'tcp' : 'udp', ordinal, ts, nsec, -1, cfg.homeNet),
        name: answer.name, qtype: answer.qtype, rcode: answer.rcode, ancount: answer.ancount, id: answer.id,
      });
      swapEnds(pkt);
    }
    if (answer.ancount === 0 || answer.rcode !== 0) return;
    const hit = matchDomain(cfg.intel, answer.name);
    if (hit < 0) return;
    const name = answer.name;
    readDnsAnswers(b, p, end, answer, (family, at) => {
      // Only answers of the family the client asked over can be tied to that client's address.
      if (family === 4 && pkt.ipVersion === 4) rememberV4(resolved, pkt.dst4, u32be(b, at), hit, name, ts);
      else if (family === 6 && pkt.ipVersion === 6) rememberV6(resolved, b, pkt.dstAddrOff, at, hit, name, ts);
    });
  }

  /** DNS answers in a UDP datagram, or in the length-prefixed messages that start in a TCP segment. */
  function learnAllAnswers(b: Buffer, ts: number, ordinal: number, nsec: number): void {
    const end = pkt.payloadOff + pkt.payloadLen;
    if (pkt.proto === IPPROTO_UDP) {
      learnAnswers(b, pkt.payloadOff, end, ts, ordinal, nsec);
      return;
    }
    if (pkt.proto !== IPPROTO_TCP) return;
    for (let q = pkt.payloadOff; q + 2 + 12 <= end; ) {
      const len = u16be(b, q);
      if (len < 12) return;
      learnAnswers(b, q + 2, Math.min(end, q + 2 + len), ts, ordinal, nsec);
      q += 2 + len;
    }
  }

  /** The intel entry the packet's destination is tied to, for its source: by a recent DNS answer, or by an address indicator. */
  function connTarget(b: Buffer, ts: number): PendingConn | null {
    const v4 = pkt.ipVersion === 4;
    const r = v4 ? lookupV4(resolved, pkt.src4, pkt.dst4, ts) : lookupV6(resolved, b, pkt.srcAddrOff, pkt.dstAddrOff, ts);
    if (r !== undefined) return { entry: r.entry, name: r.name, via: 'dns-answer', expires: ts + PENDING_CONN_SEC };
    if (!hasAddressIntel) return null;
    const a = v4 ? matchAddress4(cfg.intel, pkt.dst4) : matchAddress6(cfg.intel, b, pkt.dstAddrOff);
    return a < 0 ? null : { entry: a, name: '', via: 'address', expires: ts + PENDING_CONN_SEC };
  }

  function emitConn(b: Buffer, c: PendingConn, firstBytes: ConnObservation['firstBytes'], ordinal: number, ts: number, nsec: number): void {
    st.connections++;
    emit({ kind: 'conn', ...observationBase(b, pkt, pkt.proto === IPPROTO_TCP ? 'tcp' : 'udp', ordinal, ts, nsec, c.entry, cfg.homeNet), via: c.via, resolvedName: c.name, firstBytes });
  }

  /**
   * SYN: a connection to an intel-tied address waits for its first client bytes to show whether it names its
   * host. FIN or RST before any: it named none. The decision is made on the flow's own packets (same thread).
   */
  function onTcpControl(b: Buffer, ordinal: number, ts: number, nsec: number): void {
    const flags = pkt.tcpFlags;
    emitTcpScanRecord(b, flags, ordinal, ts, nsec);
    if ((flags & TCP_SYN) !== 0 && (flags & TCP_ACK) === 0) {
      // DNS to an intel-tied address is intel.dns's business, not a connection that names no host.
      if ((resolved.size === 0 && !hasAddressIntel) || pkt.dstPort === DNS_PORT) return;
      const c = connTarget(b, ts);
      if (c === null) return;
      makeRoom(pendingConns, MAX_PENDING_CONNS);
      pendingConns.set(directedHash(b, pkt, false), c);
      return;
    }
    if (pendingConns.size === 0 || (flags & (TCP_FIN | TCP_RST)) === 0) return;
    for (const reversed of [false, true]) {
      const h = directedHash(b, pkt, reversed);
      const c = pendingConns.get(h);
      if (c === undefined) continue;
      pendingConns.delete(h);
      // The packet is the server's when reversed: the observation still names the client as its source.
      if (!reversed && c.expires > ts) emitConn(b, c, 'none', ordinal, ts, nsec);
      else if (reversed && c.expires > ts) emitConnReversed(b, c, ordinal, ts, nsec);
      return;
    }
  }

  /**
   * Whether the packet's direction (from the home net) is one the scan policy watches: attempts in other
   * directions (internal clients going out, most of any network's traffic) are not built into observations.
   */
  function scanWatched(b: Buffer): boolean {
    const v4 = pkt.ipVersion === 4;
    const srcHome = v4 ? isHome4(cfg.homeNet, pkt.src4) : isHome6(cfg.homeNet, b, pkt.srcAddrOff);
    const dstHome = v4 ? isHome4(cfg.homeNet, pkt.dst4) : isHome6(cfg.homeNet, b, pkt.dstAddrOff);
    return scanDirections.has(direction(srcHome, dstHome));
  }

  /**
   * Connection attempts and their answers, for the scan aggregator: a SYN is a probe; a SYN-ACK answers one; a
   * RST that acknowledges (the reply to a SYN on a closed port) rejects one. Replies name the prober as source.
   */
  function emitTcpScanRecord(b: Buffer, flags: number, ordinal: number, ts: number, nsec: number): void {
    if ((flags & TCP_SYN) !== 0 && (flags & TCP_ACK) === 0) {
      emitProbe(b, 'tcp', 'tcp', 0, pkt.tcpWindow, ordinal, ts, nsec);
    } else if ((flags & TCP_SYN) !== 0 || (flags & (TCP_RST | TCP_ACK)) === (TCP_RST | TCP_ACK)) {
      emitReply(b, 'tcp', 'tcp', (flags & TCP_SYN) !== 0 ? 'answered' : 'rejected', ordinal, ts, nsec);
    }
  }

  /** A connection attempt in a watched direction, with the header traits that name tools. */
  function emitProbe(b: Buffer, transport: 'tcp' | 'udp', proto: ProbeObservation['proto'], icmpType: number, tcpWindow: number, ordinal: number, ts: number, nsec: number): void {
    st.probes++;
    if (!scanWatched(b)) return;
    const syn = proto === 'tcp';
    const fingerprint = matchFingerprint(cfg.fingerprints, pkt, syn ? 'tcp-syn' : proto === 'udp' ? 'udp' : icmpType === 13 ? 'icmp-timestamp' : 'icmp-echo');
    emit({
      kind: 'probe', ...observationBase(b, pkt, transport, ordinal, ts, nsec, -1, cfg.homeNet), proto, attemptKey: attemptKey(b, proto), icmpType,
      ttl: pkt.ttl, ipId: pkt.ipId, tcpWindow, tcpSeq: syn ? pkt.tcpSeq : 0, fingerprint,
    });
  }

  /**
   * What the target did with a probe. The packet goes target -> prober; the observation names the prober as
   * source, as the probe did, so that the aggregator finds the probe under the same key.
   */
  function emitReply(b: Buffer, transport: 'tcp' | 'udp', proto: ReplyObservation['proto'], outcome: ReplyObservation['outcome'], ordinal: number, ts: number, nsec: number): void {
    swapEnds(pkt);
    if (scanWatched(b)) emit({ kind: 'reply', ...observationBase(b, pkt, transport, ordinal, ts, nsec, -1, cfg.homeNet), proto, attemptKey: attemptKey(b, proto), outcome });
    swapEnds(pkt);
  }

  /** The packet's (prober -> target) ends and ports as a small integer, with the protocol mixed in. */
  function attemptKey(b: Buffer, proto: ProbeObservation['proto']): number {
    return (directedHash(b, pkt, false) ^ (proto === 'tcp' ? 0 : proto === 'udp' ? 0x15555555 : 0x2aaaaaaa)) & 0x3fffffff;
  }

  /** ICMP: echo and timestamp requests are probes (host discovery), their replies answer them; errors quote a probe. */
  function onIcmp(b: Buffer, ordinal: number, ts: number, nsec: number): void {
    const t = pkt.icmpType;
    const v6 = pkt.ipVersion === 6;
    if (v6 ? t === 128 : t === 8 || t === 13) {
      emitProbe(b, 'udp', 'icmp', t, 0, ordinal, ts, nsec);
    } else if (v6 ? t === 129 : t === 0 || t === 14) {
      emitReply(b, 'udp', 'icmp', 'answered', ordinal, ts, nsec);
    } else if (v6 ? t === 1 : t === 3) {
      if (!readIcmpQuote(b, pkt.payloadOff, pkt.payloadOff + pkt.payloadLen, quote) || quote.ipVersion !== pkt.ipVersion) return;
      const proto = quote.proto === IPPROTO_TCP ? 'tcp' : quote.proto === IPPROTO_UDP ? 'udp' : 'icmp';
      // The quoted probe went from the prober to the target: describe the reply with those ends.
      const saved = [pkt.srcAddrOff, pkt.dstAddrOff, pkt.src4, pkt.dst4, pkt.srcPort, pkt.dstPort];
      pkt.srcAddrOff = quote.srcOff;
      pkt.dstAddrOff = quote.dstOff;
      if (!v6) {
        pkt.src4 = u32be(b, quote.srcOff);
        pkt.dst4 = u32be(b, quote.dstOff);
      }
      pkt.srcPort = quote.srcPort;
      pkt.dstPort = quote.dstPort;
      if (scanWatched(b)) emit({ kind: 'reply', ...observationBase(b, pkt, proto === 'tcp' ? 'tcp' : 'udp', ordinal, ts, nsec, -1, cfg.homeNet), proto, attemptKey: attemptKey(b, proto), outcome: 'unreachable' });
      [pkt.srcAddrOff, pkt.dstAddrOff, pkt.src4, pkt.dst4, pkt.srcPort, pkt.dstPort] = saved;
    }
  }

  /**
   * UDP: the first datagram of a directed flow is a probe (a UDP scan sends one to each port); the first datagram
   * back on a probed flow answers it (a service spoke), so busy UDP clients are not mistaken for failing ones.
   */
  function onUdpProbe(b: Buffer, ordinal: number, ts: number, nsec: number): void {
    if (!scanWatched(b)) {
      // Not a direction that is watched (an inside client going out, most UDP): it can only be the answer to a
      // watched probe, and only when probes are waiting.
      if (udpAwaitingReply.size > 0 && udpAwaitingReply.delete(directedHash(b, pkt, true))) emitReply(b, 'udp', 'udp', 'answered', ordinal, ts, nsec);
      return;
    }
    // A service port answering an ephemeral one (DNS, NTP replies coming in) is a reply, never a probe.
    if (pkt.srcPort < 1024 && pkt.dstPort >= 1024) return;
    const h = directedHash(b, pkt, false);
    if (udpProbeSeen.has(h)) return;
    makeRoom(udpProbeSeen, MAX_UDP_FLOWS);
    udpProbeSeen.add(h);
    if (udpAwaitingReply.delete(directedHash(b, pkt, true))) {
      // Internal flows: the answer is watched too, and seen here.
      emitReply(b, 'udp', 'udp', 'answered', ordinal, ts, nsec);
      return;
    }
    makeRoom(udpAwaitingReply, MAX_UDP_FLOWS);
    udpAwaitingReply.add(h);
    emitProbe(b, 'udp', 'udp', 0, 0, ordinal, ts, nsec);
  }

  /** A server's FIN/RST settles a pending connection: the observation is built from the client's side. */
  function emitConnReversed(b: Buffer, c: PendingConn, ordinal: number, ts: number, nsec: number): void {
    swapEnds(pkt);
    emitConn(b, c, 'none', ordinal, ts, nsec);
    swapEnds(pkt);
  }

  /** The first client bytes of a flow settle a pending connection: a host name in them means no intel.conn. */
  function settleConn(b: Buffer, firstBytes: ConnObservation['firstBytes'], named: boolean, ordinal: number, ts: number, nsec: number): void {
    if (pendingConns.size === 0) return;
    const h = directedHash(b, pkt, false);
    const c = pendingConns.get(h);
    if (c === undefined) return;
    pendingConns.delete(h);
    if (!named && c.expires > ts) emitConn(b, c, firstBytes, ordinal, ts, nsec);
  }

  /** UDP: the first datagram of a flow to an intel-tied address decides (a QUIC Initial may name its host). */
  function onUdpDatagram(b: Buffer, ordinal: number, ts: number, nsec: number): void {
    const h = directedHash(b, pkt, false);
    if (udpSeen.has(h)) return;
    const c = connTarget(b, ts);
    if (c === null) return;
    makeRoom(udpSeen, MAX_PENDING_CONNS);
    udpSeen.add(h);
    emitConn(b, c, 'other', ordinal, ts, nsec);
  }

  /** A name from a connection (SNI, Host) against the intel index; IP literals are not names. */
  function matchName(name: string): number {
    return name === '' || isIP(name) !== 0 ? -1 : matchDomain(cfg.intel, name);
  }

  function observeHttp(b: Buffer, req: HttpRequest, ordinal: number, ts: number, nsec: number): void {
    st.httpRequests++;
    settleConn(b, 'http', req.host !== '' && isIP(req.host) === 0, ordinal, ts, nsec);
    if (httpSignatures) {
      matchHttpSignatures(cfg.signatures, req, pkt.dstPort, (i, value) => emit({
        kind: 'signature', ...observationBase(b, pkt, 'tcp', ordinal, ts, nsec, -1, cfg.homeNet), signature: i, excerpt: value.slice(0, 200),
        httpMethod: req.method, httpPath: req.path, userAgent: req.userAgent,
      }));
    }
    const hit = matchName(req.host);
    if (hit < 0 && !cfg.metadata) return;
    emit({
      kind: 'http_request', ...observationBase(b, pkt, 'tcp', ordinal, ts, nsec, hit, cfg.homeNet),
      method: req.method, path: req.path, httpVersion: req.version, host: req.host, userAgent: req.userAgent,
    });
  }

  function observeTls(b: Buffer, h: ClientHello, quic: boolean, transport: 'tcp' | 'udp', ordinal: number, ts: number, nsec: number): void {
    st.tlsHellos++;
    const ech = h.extensions.includes(TLS_EXT_ECH);
    settleConn(b, quic ? 'quic' : 'tls', h.sni !== null && !ech, ordinal, ts, nsec);
    const hit = h.sni === null ? -1 : matchName(h.sni);
    if (hit < 0 && !cfg.metadata) return;
    emit({
      kind: 'tls_client_hello', ...observationBase(b, pkt, transport, ordinal, ts, nsec, hit, cfg.homeNet),
      quic, sni: h.sni, alpn: h.alpn, version: h.version, ja4: h.ja4, ech,
    });
  }

  /**
   * Tries the app-layer parsers on a stream's first bytes. Returns true when the stream is settled (a head was
   * read, or the bytes are not one) and false when more bytes are needed.
   */
  function parseHead(b: Buffer, data: Buffer, end: number, kind: number, ordinal: number, ts: number, nsec: number): boolean {
    if (kind === STREAM_HTTP) {
      const r = parseHttpRequest(data, 0, end);
      if (r.kind === 'need-more') return false;
      if (r.kind === 'request') observeHttp(b, r.request, ordinal, ts, nsec);
      else settleConn(b, 'other', false, ordinal, ts, nsec);
      return true;
    }
    const r = parseTlsClientStream(data, 0, end, 't');
    if (r.kind === 'need-more') return false;
    if (r.kind === 'hello') observeTls(b, r.hello, false, 'tcp', ordinal, ts, nsec);
    else settleConn(b, 'other', false, ordinal, ts, nsec);
    return true;
  }

  /**
   * A segment of a flow to or from a port that payload signatures watch: while the flow direction is within the
   * signatures' depth, look for them (each segment on its own; the bytes seen so far are counted per direction).
   */
  function onSignaturePort(b: Buffer, off: number, end: number, ordinal: number, ts: number, nsec: number): void {
    const h = directedHash(b, pkt, false);
    const seen = sigBytesSeen.get(h) ?? 0;
    if (seen >= sigDepth) return;
    if (seen === 0) makeRoom(sigBytesSeen, MAX_SIGNATURE_FLOWS);
    sigBytesSeen.set(h, seen + end - off);
    const toServer = sigClientPorts.has(pkt.dstPort);
    const serverPort = toServer ? pkt.dstPort : pkt.srcPort;
    for (let i = matchPayloadSignature(cfg.signatures, b, off, end, serverPort, toServer ? 'client' : 'server'); i >= 0;
      i = matchPayloadSignature(cfg.signatures, b, off, end, serverPort, toServer ? 'client' : 'server', i + 1)) {
      if (seen >= cfg.signatures[i].depth) continue;
      if (!toServer) swapEnds(pkt);
      emit({
        kind: 'signature', ...observationBase(b, pkt, 'tcp', ordinal, ts, nsec, -1, cfg.homeNet), signature: i, excerpt: excerpt(b, off, end),
        httpMethod: '', httpPath: '', userAgent: '',
      });
      if (!toServer) swapEnds(pkt);
    }
  }

  /** A TCP segment with payload: continue an open stream, or see whether it starts an application head. */
  function onTcpPayload(b: Buffer, ordinal: number, ts: number, nsec: number): void {
    const off = pkt.payloadOff;
    const end = off + pkt.payloadLen;
    if (sigClientPorts.has(pkt.dstPort) || sigServerPorts.has(pkt.srcPort)) onSignaturePort(b, off, end, ordinal, ts, nsec);
    if (streams.count > 0) {
      if (ts >= nextExpiry) {
        expireStreams(streams, ts);
        nextExpiry = ts + STREAM_SWEEP_SEC;
      }
      const hash = directedHash(b, pkt, false);
      const s = findStream(streams, b, pkt, hash);
      // A stream past its time is closed by its own next packet, not only by the sweep, so that the outcome
      // depends on the flow's packets alone and not on which other packets share this thread.
      if (s !== undefined && s.expires <= ts) {
        closeStream(streams, s);
        streams.evicted++;
      } else if (s !== undefined) {
        if (addSegment(streams, s, b, pkt) && parseHead(b, s.data, s.have, s.kind, ordinal, ts, nsec)) closeStream(streams, s);
        else if (s.have >= streams.limits.maxBytes) closeStream(streams, s);
        return;
      }
    }
    if (looksLikeHttpRequest(b, off, end)) {
      const r = parseHttpRequest(b, off, end);
      if (r.kind === 'request') observeHttp(b, r.request, ordinal, ts, nsec);
      else if (r.kind === 'need-more') openStream(streams, b, pkt, directedHash(b, pkt, false), STREAM_HTTP, ts);
      else settleConn(b, 'other', false, ordinal, ts, nsec);
      return;
    }
    if (looksLikeTlsClientHello(b, off, end)) {
      const r = parseTlsClientStream(b, off, end, 't');
      if (r.kind === 'hello') observeTls(b, r.hello, false, 'tcp', ordinal, ts, nsec);
      else if (r.kind === 'need-more') openStream(streams, b, pkt, directedHash(b, pkt, false), STREAM_TLS, ts);
      else settleConn(b, 'other', false, ordinal, ts, nsec);
      return;
    }
    settleConn(b, 'other', false, ordinal, ts, nsec);
  }

  /**
   * A QUIC Initial: decrypt it (keys come from its own header), gather CRYPTO data per flow until the
   * ClientHello is whole (large ones span datagrams), and read it. Returns false when the datagram did not
   * decrypt as a client Initial, so the caller treats it as other UDP.
   */
  function onQuicInitial(b: Buffer, ordinal: number, ts: number, nsec: number): boolean {
    const initials = decryptClientInitials(b, pkt.payloadOff, pkt.payloadOff + pkt.payloadLen);
    if (initials.length === 0) return false;
    const h = directedHash(b, pkt, false);
    const pending = quicPending.get(h);
    if (pending === undefined && quicDone.has(h)) return true; // a retransmitted or later Initial of a settled flow
    const chunks = pending !== undefined && pending.expires > ts ? pending.chunks : [];
    for (const ini of initials) for (const c of ini.crypto) if (chunks.length < 64) chunks.push(c);
    const data = assembleCrypto(chunks, MAX_QUIC_CRYPTO);
    const r = data === null ? null : parseClientHelloMessage(data, 0, data.length, 'q');
    if (r === null || r.kind === 'need-more') {
      if (pending === undefined) {
        makeRoom(quicPending, MAX_QUIC_PENDING);
        quicPending.set(h, { chunks, expires: ts + PENDING_CONN_SEC });
      }
      return true;
    }
    quicPending.delete(h);
    makeRoom(quicDone, MAX_QUIC_PENDING);
    quicDone.add(h);
    if (r.kind === 'hello') {
      const c = resolved.size > 0 || hasAddressIntel ? connTarget(b, ts) : null;
      const ech = r.hello.extensions.includes(TLS_EXT_ECH);
      if (c !== null && (r.hello.sni === null || ech)) {
        makeRoom(udpSeen, MAX_PENDING_CONNS);
        udpSeen.add(h);
        emitConn(b, c, 'quic', ordinal, ts, nsec);
      }
      observeTls(b, r.hello, true, 'udp', ordinal, ts, nsec);
    }
    return true;
  }

  return {
    processBatch(batch) {
      const b = batch.data;
      for (let i = 0; i < batch.count; i++) {
        const off = batch.offset[i];
        const caplen = batch.caplen[i];
        if (cfg.shardCount > 1 && shardOfRaw(b, off, caplen, batch.linktype[i], cfg.shardCount, peek) !== cfg.shardIndex) {
          // DNS answers feed every thread's cache of resolved intel addresses, whoever owns the DNS flow, so that
          // a later connection finds it on whichever thread owns that connection.
          if (peek.srcPort === DNS_PORT) {
            decodePacket(b, off, caplen, batch.origlen[i], batch.linktype[i], pkt);
            if (pkt.payloadLen > 0 && pkt.fragment === 0) learnAllAnswers(b, batch.tsSec[i], -1, 0);
          }
          continue;
        }
        decodePacket(b, off, caplen, batch.origlen[i], batch.linktype[i], pkt);
        st.packets++;
        st.bytes += caplen;
        st.wireBytes += batch.origlen[i];
        const ts = batch.tsSec[i];
        const t = ts + batch.tsNsec[i] * 1e-9;
        if (t < st.firstTs) st.firstTs = t;
        if (t > st.lastTs) st.lastTs = t;
        if (pkt.events !== 0) countDecodeEvents(decodeCounters, pkt.events);
        if (pkt.proto === IPPROTO_TCP && pkt.fragment === 0 && (pkt.tcpFlags & (TCP_SYN | TCP_FIN | TCP_RST)) !== 0) {
          onTcpControl(b, batch.firstOrdinal + i, ts, batch.tsNsec[i]);
        }
        if ((pkt.proto === IPPROTO_ICMP || pkt.proto === IPPROTO_ICMPV6) && pkt.fragment === 0 && pkt.payloadOff > 0) {
          onIcmp(b, batch.firstOrdinal + i, ts, batch.tsNsec[i]);
          continue;
        }
        if (pkt.proto === IPPROTO_UDP && pkt.fragment === 0) onUdpProbe(b, batch.firstOrdinal + i, ts, batch.tsNsec[i]);
        if (pkt.payloadLen === 0) continue;
        if (pkt.proto === IPPROTO_UDP) {
          if (pkt.srcPort === DNS_PORT || pkt.dstPort === DNS_PORT) {
            observeDns(b, pkt.payloadOff, pkt.payloadOff + pkt.payloadLen, 'udp', batch.firstOrdinal + i, ts, batch.tsNsec[i]);
            if (pkt.srcPort === DNS_PORT) learnAnswers(b, pkt.payloadOff, pkt.payloadOff + pkt.payloadLen, ts, batch.firstOrdinal + i, batch.tsNsec[i]);
          } else if (pkt.fragment !== 2) {
            const handled = looksLikeQuicInitial(b, pkt.payloadOff, pkt.payloadOff + pkt.payloadLen) && onQuicInitial(b, batch.firstOrdinal + i, ts, batch.tsNsec[i]);
            if (!handled && (resolved.size > 0 || hasAddressIntel)) onUdpDatagram(b, batch.firstOrdinal + i, ts, batch.tsNsec[i]);
          }
        } else if (pkt.proto === IPPROTO_TCP && pkt.fragment === 0) {
          if (pkt.srcPort === DNS_PORT) {
            learnAllAnswers(b, ts, batch.firstOrdinal + i, batch.tsNsec[i]);
            continue;
          }
          if (pkt.dstPort !== DNS_PORT) {
            onTcpPayload(b, batch.firstOrdinal + i, ts, batch.tsNsec[i]);
            continue;
          }
          // DNS over TCP: length-prefixed messages, possibly several in one segment. Only the client's side is
          // read here, and only messages that start in this segment (reassembly comes with per-flow state).
          let q = pkt.payloadOff;
          const end = pkt.payloadOff + pkt.payloadLen;
          while (q + 2 + 12 <= end) {
            const len = u16be(b, q);
            if (len < 12) break;
            observeDns(b, q + 2, Math.min(end, q + 2 + len), 'tcp', batch.firstOrdinal + i, ts, batch.tsNsec[i]);
            q += 2 + len;
          }
        }
      }
    },
    stats() {
      st.decode = Array.from(decodeCounters);
      st.streamsEvicted = streams.evicted;
      return st;
    },
    reload(rules) {
      // Flow state (streams, UDP flows, probes awaiting replies) is kept. What refers to intel entries by
      // position (address ties from DNS answers, connections waiting on them) is dropped: positions change.
      cfg = { ...cfg, ...rules };
      resolved = createResolvedCache(cfg.policy.intel.maxResolved, cfg.policy.intel.resolvedWindow);
      pendingConns.clear();
      derive();
    },
  };
}

interface PendingConn {
  entry: number;
  name: string;
  via: ConnObservation['via'];
  expires: number;
}

/** A connection that shows nothing within this long (packet time) is forgotten, not reported. */
const PENDING_CONN_SEC = 60;
const MAX_PENDING_CONNS = 4096;
const MAX_UDP_FLOWS = 65536;
const MAX_SIGNATURE_FLOWS = 65536;

/** Exchanges source and destination in the decoded packet (to describe a server's packet from the client's side). */
function swapEnds(p: DecodedPacket): void {
  const a = p.srcAddrOff;
  p.srcAddrOff = p.dstAddrOff;
  p.dstAddrOff = a;
  const v = p.src4;
  p.src4 = p.dst4;
  p.dst4 = v;
  const port = p.srcPort;
  p.srcPort = p.dstPort;
  p.dstPort = port;
}

/** The packet facts every observation carries; built only for packets that become observations. */
function observationBase(
  b: Buffer, pkt: DecodedPacket, transport: 'udp' | 'tcp', ordinal: number, tsSec: number, tsNsec: number, intel: number, home: HomeNet,
): ObservationBase {
  const v4 = pkt.ipVersion === 4;
  const srcHome = v4 ? isHome4(home, pkt.src4) : isHome6(home, b, pkt.srcAddrOff);
  const dstHome = v4 ? isHome4(home, pkt.dst4) : isHome6(home, b, pkt.dstAddrOff);
  return {
    ordinal,
    tsSec,
    tsNsec,
    ipVersion: pkt.ipVersion,
    srcIp: v4 ? ipv4ToString(pkt.src4) : ipv6ToString(b, pkt.srcAddrOff),
    dstIp: v4 ? ipv4ToString(pkt.dst4) : ipv6ToString(b, pkt.dstAddrOff),
    srcPort: pkt.srcPort,
    dstPort: pkt.dstPort,
    transport,
    direction: direction(srcHome, dstHome),
    vlan: pkt.vlanOuter,
    intel,
  };
}
