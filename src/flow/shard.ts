import type { DecodedPacket } from '../core/packet';
import { IPPROTO_TCP, IPPROTO_UDP } from '../core/packet';
// fmix32 spreads neighbouring addresses evenly over workers.
import { fmix32 } from '../util/hash';

/**
 * Which of `count` workers owns a decoded packet. It reads the decoder's own results (addresses, transport, ports),
 * so a packet's shard and the flow the engine files it under can never disagree, whatever is odd about its
 * headers (an IP length that cuts the transport header, IPv6 extension headers on some packets of a flow).
 * Symmetric (XOR of the two ends), so both directions of a connection land on one worker. Fragments hash on
 * addresses only (later fragments carry no ports); anything not IP belongs to worker 0, which counts whatever is
 * wrong with it.
 */
export function shardOfPacket(b: Uint8Array, pkt: DecodedPacket, count: number): number {
  if (count <= 1 || pkt.ipVersion === 0) return 0;
  let h: number;
  if (pkt.ipVersion === 4) {
    h = (pkt.src4 ^ pkt.dst4) >>> 0;
  } else {
    h = 0;
    const s = pkt.srcAddrOff;
    const d = pkt.dstAddrOff;
    for (let i = 0; i < 16; i += 4) {
      const x = ((b[s + i] ^ b[d + i]) << 24) | ((b[s + i + 1] ^ b[d + i + 1]) << 16) | ((b[s + i + 2] ^ b[d + i + 2]) << 8) | (b[s + i + 3] ^ b[d + i + 3]);
      h = Math.imul(h ^ x, 0x9e3779b1);
    }
  }
  if (pkt.fragment === 0 && (pkt.proto === IPPROTO_TCP || pkt.proto === IPPROTO_UDP)) h ^= ((pkt.srcPort ^ pkt.dstPort) << 8) ^ pkt.proto;
  return fmix32(h) % count;
}
