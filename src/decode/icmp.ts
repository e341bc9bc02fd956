import { DecodeEvent } from './events';
import type { DecodedPacket } from '../core/packet';

/** ICMP and ICMPv6 share the first four bytes; the payload starts after the 4-byte rest-of-header. */
export function decodeIcmp(b: Buffer, p: number, end: number, pkt: DecodedPacket): number {
  if (end - p < 8) return DecodeEvent.ICMP_TRUNCATED;
  pkt.icmpType = b[p];
  pkt.icmpCode = b[p + 1];
  pkt.payloadOff = p + 8;
  pkt.payloadLen = end - pkt.payloadOff;
  return DecodeEvent.OK;
}

/** The probe an ICMP error quotes (its IP header and the first 8 bytes after it), as offsets into the packet. */
export interface IcmpQuote {
  ipVersion: number;
  srcOff: number;
  dstOff: number;
  proto: number;
  srcPort: number;
  dstPort: number;
}

export function createIcmpQuote(): IcmpQuote {
  return { ipVersion: 0, srcOff: 0, dstOff: 0, proto: 0, srcPort: 0, dstPort: 0 };
}

/**
 * Reads the packet quoted in an ICMP destination-unreachable (RFC 792: IP header + 8 bytes; RFC 4443 for v6),
 * at b[p, end). Returns false when the quote is too short to name the probe. Never throws.
 */
export function readIcmpQuote(b: Uint8Array, p: number, end: number, out: IcmpQuote): boolean {
  if (end - p < 1) return false;
  const v = b[p] >> 4;
  let l4: number;
  if (v === 4) {
    if (end - p < 20) return false;
    const ihl = (b[p] & 15) * 4;
    if (ihl < 20) return false;
    out.proto = b[p + 9];
    out.srcOff = p + 12;
    out.dstOff = p + 16;
    l4 = p + ihl;
  } else if (v === 6) {
    if (end - p < 40) return false;
    out.proto = b[p + 6];
    out.srcOff = p + 8;
    out.dstOff = p + 24;
    l4 = p + 40;
  } else {
    return false;
  }
  out.ipVersion = v;
  out.srcPort = 0;
  out.dstPort = 0;
  if ((out.proto === 6 || out.proto === 17) && l4 + 4 <= end) {
    out.srcPort = (b[l4] << 8) | b[l4 + 1];
    out.dstPort = (b[l4 + 2] << 8) | b[l4 + 3];
  }
  return true;
}
