import { DecodeEvent } from './events';
import { decodeIpv4 } from './ipv4';
import { decodeIpv6 } from './ipv6';
import type { DecodedPacket } from '../core/packet';

const AF_INET = 2;
const AF_INET6 = 10;
const NFULA_PAYLOAD = 9;
/** TLVs read before giving up on finding the payload (the kernel writes about a dozen). */
const MAX_TLVS = 64;
/** Larger than any NFULA attribute type: what tells the byte order apart. */
const MAX_TYPE = 63;

/**
 * DLT_NFLOG (239): Linux netfilter's log messages as libpcap writes them (tcpdump -i nflog:N). A 4-byte header
 * (address family, version 0, resource id) and TLVs of length, type and value, each padded to 4 bytes; the IP
 * packet is the value of NFULA_PAYLOAD. TLV lengths and types are in the byte order of the machine that captured
 * (libpcap's link-layer documentation), told apart by the first TLV's type (a small number) and kept for the rest.
 */
export function decodeNflog(b: Buffer, p: number, end: number, pkt: DecodedPacket): number {
  if (end - p < 4) return DecodeEvent.LINK_TRUNCATED;
  const family = b[p];
  if (family !== AF_INET && family !== AF_INET6) return DecodeEvent.NULL_UNKNOWN_FAMILY;
  let q = p + 4;
  let bigEndian = -1; // decided by the first TLV, then kept: one file, one machine
  for (let n = 0; n < MAX_TLVS && end - q >= 4; n++) {
    // NFULA types are small (1 to 20 today): read little-endian, a type's bytes are "t 0"; big-endian, "0 t".
    if (bigEndian < 0) bigEndian = b[q + 2] !== 0 && b[q + 2] <= MAX_TYPE ? 0 : b[q + 3] !== 0 && b[q + 3] <= MAX_TYPE ? 1 : -1;
    if (bigEndian < 0) return DecodeEvent.LINK_TRUNCATED;
    const len = bigEndian === 1 ? (b[q] << 8) | b[q + 1] : b[q] | (b[q + 1] << 8);
    // The type's top bits are netlink flags (NLA_F_NESTED, NLA_F_NET_BYTEORDER).
    const type = (bigEndian === 1 ? (b[q + 2] << 8) | b[q + 3] : b[q + 2] | (b[q + 3] << 8)) & 0x3fff;
    if (len < 4 || len > end - q) return DecodeEvent.LINK_TRUNCATED;
    if (type === NFULA_PAYLOAD) return family === AF_INET ? decodeIpv4(b, q + 4, q + len, pkt) : decodeIpv6(b, q + 4, q + len, pkt);
    q += (len + 3) & ~3;
  }
  // No payload: the rule logged without copying the packet (or with a zero copy range).
  pkt.events |= 1 << DecodeEvent.NON_IP;
  return DecodeEvent.OK;
}
