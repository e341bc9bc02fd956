import { u16be, u32be } from '../capture/bytes';
import { DecodeEvent } from './events';
import { decodeTransport } from './transport';
import type { DecodedPacket } from '../core/packet';

export function decodeIpv4(b: Buffer, p: number, end: number, pkt: DecodedPacket): number {
  if (end - p < 20) return DecodeEvent.IPV4_TRUNCATED;
  const vihl = b[p];
  if (vihl >> 4 !== 4) return DecodeEvent.IP_BAD_VERSION;
  const ihl = (vihl & 15) * 4;
  if (ihl < 20) return DecodeEvent.IPV4_BAD_IHL;
  if (p + ihl > end) return DecodeEvent.IPV4_TRUNCATED;
  const total = u16be(b, p + 2);
  if (total < ihl) return DecodeEvent.IPV4_BAD_TOTAL_LEN;
  let ipEnd = p + total;
  if (ipEnd > end) {
    // Past the captured bytes: expected when the snap length cut the packet, a lie otherwise.
    if (!pkt.snaplenCut) pkt.events |= 1 << DecodeEvent.IPV4_BAD_TOTAL_LEN;
    ipEnd = end;
  }
  pkt.ipVersion = 4;
  pkt.l3Off = p;
  pkt.ipId = u16be(b, p + 4);
  const frag = u16be(b, p + 6);
  pkt.dontFragment = (frag & 0x4000) !== 0;
  pkt.ttl = b[p + 8];
  pkt.proto = b[p + 9];
  pkt.srcAddrOff = p + 12;
  pkt.dstAddrOff = p + 16;
  pkt.src4 = u32be(b, p + 12);
  pkt.dst4 = u32be(b, p + 16);
  pkt.ipEnd = ipEnd;
  if (ihl > 20) pkt.events |= 1 << DecodeEvent.IPV4_OPTIONS;
  if ((frag & 0x3fff) !== 0) {
    pkt.events |= 1 << DecodeEvent.IPV4_FRAGMENT;
    // Only the first fragment carries the transport header; later ones are counted, not decoded.
    if ((frag & 0x1fff) !== 0) {
      pkt.fragment = 2;
      return DecodeEvent.OK;
    }
    pkt.fragment = 1;
  }
  return decodeTransport(b, p + ihl, ipEnd, pkt);
}
