import { u32be, u32le } from '../capture/bytes';
import { DecodeEvent } from './events';
import { decodeIpv4 } from './ipv4';
import { decodeIpv6 } from './ipv6';
import type { DecodedPacket } from '../core/packet';

const AF_INET = 2;
/** AF_INET6 differs by system: Linux 10, the BSDs 24, FreeBSD 28, macOS 30. */
function isInet6(af: number): boolean {
  return af === 24 || af === 28 || af === 30 || af === 10;
}

/**
 * BSD loopback: a 4-byte address family before the IP header, in the byte order of the machine that captured
 * (DLT_NULL) or in network order (DLT_LOOP). Families are small, so the byte order shows in the value.
 */
export function decodeLoopback(b: Buffer, p: number, end: number, pkt: DecodedPacket, networkOrder: boolean): number {
  if (end - p < 4) return DecodeEvent.LINK_TRUNCATED;
  let af = networkOrder ? u32be(b, p) : u32le(b, p);
  if (af > 0xffff) af = networkOrder ? u32le(b, p) : u32be(b, p);
  if (af === AF_INET) return decodeIpv4(b, p + 4, end, pkt);
  if (isInet6(af)) return decodeIpv6(b, p + 4, end, pkt);
  return DecodeEvent.NULL_UNKNOWN_FAMILY;
}
