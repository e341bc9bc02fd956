import { u16be } from '../capture/bytes';
import type { PacketBatch } from '../capture/batch';
import { createDnsQuestion, readDnsQuestion } from '../app/dns';
import { direction, isHome4, isHome6, type HomeNet } from '../config/homenet';
import { ipv4ToString, ipv6ToString } from '../decode/addr';
import { decodePacket } from '../decode/decode';
import { countDecodeEvents, createDecodeCounters, DecodeEvent, DECODE_EVENT_COUNT } from '../decode/events';
import { createDecodedPacket, IPPROTO_TCP, IPPROTO_UDP, type DecodedPacket } from '../decode/packet';
import { shardOfRaw } from '../flow/shard';
import { matchDomain, type DomainIndex } from '../intel/domains';
import { emptyStats, type EngineStats, type Observation, type ObservationBase } from './observation';
import { isIP } from 'node:net';
import { looksLikeHttpRequest, parseHttpRequest, type HttpRequest } from '../app/http';
import { addSegment, closeStream, createFirstBytesTable, directedHash, expireStreams, findStream, openStream } from '../flow/first-bytes';

export interface EngineConfig {
  intel: DomainIndex;
  homeNet: HomeNet;
  /** Emit an observation for every DNS query, not only those that match intel (--metadata). */
  metadata: boolean;
  shardIndex: number;
  shardCount: number;
}

export interface Engine {
  processBatch(batch: PacketBatch): void;
  stats(): EngineStats;
}

const DNS_PORT = 53;
const STREAM_HTTP = 1;
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
  let nextExpiry = -Infinity;

  function observeDns(b: Buffer, p: number, end: number, transport: 'udp' | 'tcp', ordinal: number, ts: number, nsec: number): void {
    st.dnsMessages++;
    if (!readDnsQuestion(b, p, end, dns, true)) {
      decodeCounters[DecodeEvent.DNS_MALFORMED]++;
      return;
    }
    if (dns.isResponse || dns.opcode !== 0) return;
    st.dnsQueries++;
    const hit = matchDomain(cfg.intel, dns.name);
    if (hit < 0 && !cfg.metadata) return;
    emit({ kind: 'dns_query', ...observationBase(b, pkt, transport, ordinal, ts, nsec, hit, cfg.homeNet), name: dns.name, qtype: dns.qtype, id: dns.id });
  }

  /** A name from a connection (SNI, Host) against the intel index; IP literals are not names. */
  function matchName(name: string): number {
    return name === '' || isIP(name) !== 0 ? -1 : matchDomain(cfg.intel, name);
  }

  function observeHttp(b: Buffer, req: HttpRequest, ordinal: number, ts: number, nsec: number): void {
    st.httpRequests++;
    const hit = matchName(req.host);
    if (hit < 0 && !cfg.metadata) return;
    emit({
      kind: 'http_request', ...observationBase(b, pkt, 'tcp', ordinal, ts, nsec, hit, cfg.homeNet),
      method: req.method, path: req.path, httpVersion: req.version, host: req.host, userAgent: req.userAgent,
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
      return true;
    }
    return true;
  }

  /** A TCP segment with payload: continue an open stream, or see whether it starts an application head. */
  function onTcpPayload(b: Buffer, ordinal: number, ts: number, nsec: number): void {
    const off = pkt.payloadOff;
    const end = off + pkt.payloadLen;
    if (streams.count > 0) {
      if (ts >= nextExpiry) {
        expireStreams(streams, ts);
        nextExpiry = ts + STREAM_SWEEP_SEC;
      }
      const hash = directedHash(b, pkt);
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
      else if (r.kind === 'need-more') openStream(streams, b, pkt, directedHash(b, pkt), STREAM_HTTP, ts);
    }
  }

  return {
    processBatch(batch) {
      const b = batch.data;
      for (let i = 0; i < batch.count; i++) {
        const off = batch.offset[i];
        const caplen = batch.caplen[i];
        if (cfg.shardCount > 1 && shardOfRaw(b, off, caplen, batch.linktype[i], cfg.shardCount) !== cfg.shardIndex) continue;
        decodePacket(b, off, caplen, batch.origlen[i], batch.linktype[i], pkt);
        st.packets++;
        st.bytes += caplen;
        st.wireBytes += batch.origlen[i];
        const ts = batch.tsSec[i];
        const t = ts + batch.tsNsec[i] * 1e-9;
        if (t < st.firstTs) st.firstTs = t;
        if (t > st.lastTs) st.lastTs = t;
        if (pkt.events !== 0) countDecodeEvents(decodeCounters, pkt.events);
        if (pkt.payloadLen === 0) continue;
        if (pkt.proto === IPPROTO_UDP) {
          if (pkt.srcPort === DNS_PORT || pkt.dstPort === DNS_PORT) {
            observeDns(b, pkt.payloadOff, pkt.payloadOff + pkt.payloadLen, 'udp', batch.firstOrdinal + i, ts, batch.tsNsec[i]);
          }
        } else if (pkt.proto === IPPROTO_TCP && pkt.fragment === 0) {
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
  };
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
