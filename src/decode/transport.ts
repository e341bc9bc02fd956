import { DecodeEvent } from './events';
import { decodeGre } from './gre';
import { decodeIcmp } from './icmp';
import { IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_TCP, IPPROTO_UDP, type DecodedPacket } from '../core/packet';
import { decodeTcp } from './tcp';
import { decodeUdp } from './udp';

const IPPROTO_GRE = 47;

export function decodeTransport(b: Buffer, p: number, end: number, pkt: DecodedPacket): number {
  pkt.l4Off = p;
  switch (pkt.proto) {
    case IPPROTO_TCP:
      return decodeTcp(b, p, end, pkt);
    case IPPROTO_UDP:
      return decodeUdp(b, p, end, pkt);
    case IPPROTO_ICMP:
    case IPPROTO_ICMPV6:
      return decodeIcmp(b, p, end, pkt);
    default:
      return decodeOtherL4(b, p, end, pkt);
  }
}

/** Rare transports, out of the common path (keeps decodeTransport small enough to be inlined). */
function decodeOtherL4(b: Buffer, p: number, end: number, pkt: DecodedPacket): number {
  if (pkt.proto === IPPROTO_GRE) return decodeGre(b, p, end, pkt);
  pkt.events |= 1 << DecodeEvent.OTHER_L4;
  return DecodeEvent.OK;
}
