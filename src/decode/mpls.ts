import { DecodeEvent } from './events';
import { enterTunnel, failTunnel, innerPayload, INNER_ETHERNET, INNER_IP, TUNNEL_KIND } from './tunnel';
import type { DecodedPacket } from '../core/packet';

/** Label stack entries read before giving up (a stack deeper than this is not a network's). */
const MAX_LABELS = 16;
const LABEL_IPV4_NULL = 0;
const LABEL_IPV6_NULL = 2;

/**
 * An MPLS label stack (RFC 3032, EtherTypes 0x8847/0x8848): 4-byte entries until the bottom-of-stack bit. MPLS
 * does not say what follows; as Wireshark and Suricata do, an IP version nibble means IP, a 0 nibble a
 * pseudowire control word (RFC 4385) before an Ethernet frame. The tunnel id is the top label.
 */
export function decodeMpls(b: Buffer, p: number, end: number, pkt: DecodedPacket): number {
  let top = -1;
  let label = 0;
  for (let n = 0; ; n++) {
    if (n === MAX_LABELS) return failTunnel(pkt, DecodeEvent.MPLS_TOO_DEEP);
    if (end - p < 4) return failTunnel(pkt, DecodeEvent.MPLS_TRUNCATED);
    label = (b[p] << 12) | (b[p + 1] << 4) | (b[p + 2] >> 4);
    if (top < 0) top = label;
    const bottom = (b[p + 2] & 1) !== 0;
    p += 4;
    if (bottom) break;
  }
  if (end - p < 1) return failTunnel(pkt, DecodeEvent.MPLS_TRUNCATED);
  const nibble = b[p] >> 4;
  let type: number;
  if (label === LABEL_IPV4_NULL || label === LABEL_IPV6_NULL || nibble === 4 || nibble === 6) {
    type = INNER_IP;
  } else if (nibble === 0) {
    type = INNER_ETHERNET;
    p += 4;
  } else {
    return failTunnel(pkt, DecodeEvent.MPLS_UNKNOWN_PAYLOAD);
  }
  const r = enterTunnel(pkt, TUNNEL_KIND.MPLS, top);
  return r !== 0 ? r : innerPayload(pkt, type, p, end);
}
