import { u16be } from '../capture/bytes';
import { DecodeEvent } from './events';
import { decodeTransport } from './transport';
import type { DecodedPacket } from '../core/packet';

const HOP_BY_HOP = 0;
const ROUTING = 43;
const FRAGMENT = 44;
const AUTH = 51;
const NO_NEXT = 59;
const DEST_OPTS = 60;
const MOBILITY = 135;
const HIP = 139;
const SHIM6 = 140;
const MAX_EXT_HEADERS = 16;

export function decodeIpv6(b: Buffer, p: number, end: number, pkt: DecodedPacket): number {
  if (end - p < 40) return DecodeEvent.IPV6_TRUNCATED;
  if (b[p] >> 4 !== 6) return DecodeEvent.IP_BAD_VERSION;
  const plen = u16be(b, p + 4);
  let ipEnd = p + 40 + plen;
  // A payload length of 0 is a jumbogram (RFC 2675) or a lie; either way the captured end is all we have.
  if (plen === 0 || ipEnd > end) {
    if (plen !== 0 && !pkt.snaplenCut) pkt.events |= 1 << DecodeEvent.IPV6_BAD_PAYLOAD_LEN;
    ipEnd = end;
  }
  pkt.ipVersion = 6;
  pkt.l3Off = p;
  pkt.ttl = b[p + 7];
  pkt.ipId = 0;
  pkt.dontFragment = false;
  pkt.srcAddrOff = p + 8;
  pkt.dstAddrOff = p + 24;
  pkt.src4 = 0;
  pkt.dst4 = 0;
  pkt.ipEnd = ipEnd;
  let next = b[p + 6];
  let q = p + 40;
  for (let n = 0; ; n++) {
    if (n === MAX_EXT_HEADERS) return DecodeEvent.IPV6_TOO_MANY_EXT;
    if (next === HOP_BY_HOP || next === ROUTING || next === DEST_OPTS || next === MOBILITY || next === HIP || next === SHIM6) {
      if (q + 8 > ipEnd) return DecodeEvent.IPV6_EXT_TRUNCATED;
      next = b[q];
      q += (b[q + 1] + 1) * 8;
    } else if (next === FRAGMENT) {
      if (q + 8 > ipEnd) return DecodeEvent.IPV6_EXT_TRUNCATED;
      pkt.events |= 1 << DecodeEvent.IPV6_FRAGMENT;
      const offFlags = u16be(b, q + 2);
      pkt.ipId = u16be(b, q + 6); // low half of the identification, for fingerprinting like IPv4's
      next = b[q];
      q += 8;
      if (offFlags >> 3 !== 0) {
        pkt.fragment = 2;
        pkt.proto = next;
        return DecodeEvent.OK;
      }
      pkt.fragment = 1;
    } else if (next === AUTH) {
      if (q + 8 > ipEnd) return DecodeEvent.IPV6_EXT_TRUNCATED;
      next = b[q];
      q += (b[q + 1] + 2) * 4;
    } else {
      break;
    }
  }
  if (q > ipEnd) return DecodeEvent.IPV6_EXT_TRUNCATED;
  pkt.proto = next;
  if (next === NO_NEXT) return DecodeEvent.OK;
  return decodeTransport(b, q, ipEnd, pkt);
}
