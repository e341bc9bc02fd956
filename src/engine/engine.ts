import { u16be } from '../capture/bytes';
import type { PacketBatch } from '../capture/batch';
import { createDnsQuestion, readDnsQuestion, type DnsQuestion } from '../app/dns';
import { direction, isHome4, isHome6, type HomeNet } from '../config/homenet';
import { ipv4ToString, ipv6ToString } from '../decode/addr';
import { decodePacket } from '../decode/decode';
import { countDecodeEvents, createDecodeCounters, DecodeEvent, DECODE_EVENT_COUNT } from '../decode/events';
import { createDecodedPacket, IPPROTO_TCP, IPPROTO_UDP, type DecodedPacket } from '../decode/packet';
import { shardOfRaw } from '../flow/shard';
import { matchDomain, type DomainIndex } from '../intel/domains';
import { emptyStats, type EngineStats, type Observation } from './observation';

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

/**
 * The per-thread packet path: decode, keep this shard's packets, find app-layer names, match intel, and emit
 * observations. Allocates nothing per packet; strings are built only for DNS names and for observations.
 */
export function createEngine(cfg: EngineConfig, emit: (o: Observation) => void): Engine {
  const pkt = createDecodedPacket();
  const dns = createDnsQuestion();
  const decodeCounters = createDecodeCounters();
  const st = emptyStats(DECODE_EVENT_COUNT);

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
    emit(makeDnsObservation(b, pkt, dns, transport, ordinal, ts, nsec, hit, cfg.homeNet));
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
        } else if (pkt.proto === IPPROTO_TCP && pkt.dstPort === DNS_PORT) {
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
      return st;
    },
  };
}

function makeDnsObservation(
  b: Buffer, pkt: DecodedPacket, dns: DnsQuestion, transport: 'udp' | 'tcp', ordinal: number, tsSec: number, tsNsec: number,
  intel: number, home: HomeNet,
): Observation {
  const v4 = pkt.ipVersion === 4;
  const srcHome = v4 ? isHome4(home, pkt.src4) : isHome6(home, b, pkt.srcAddrOff);
  const dstHome = v4 ? isHome4(home, pkt.dst4) : isHome6(home, b, pkt.dstAddrOff);
  return {
    kind: 'dns_query',
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
    name: dns.name,
    qtype: dns.qtype,
    id: dns.id,
    intel,
  };
}
