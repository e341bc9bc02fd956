import { DecodeEvent } from './events';
import type { DecodedPacket } from './packet';

/** ICMP and ICMPv6 share the first four bytes; the payload starts after the 4-byte rest-of-header. */
export function decodeIcmp(b: Buffer, p: number, end: number, pkt: DecodedPacket): number {
  if (end - p < 8) return DecodeEvent.ICMP_TRUNCATED;
  pkt.icmpType = b[p];
  pkt.icmpCode = b[p + 1];
  pkt.payloadOff = p + 8;
  pkt.payloadLen = end - pkt.payloadOff;
  return DecodeEvent.OK;
}
