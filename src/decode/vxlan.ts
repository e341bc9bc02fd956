import { DecodeEvent } from './events';
import { enterTunnel, failTunnel, innerPayload, INNER_ETHERNET, TUNNEL_KIND } from './tunnel';
import type { DecodedPacket } from '../core/packet';

const VXLAN_HEADER = 8;
/** The I flag: the VNI is valid (RFC 7348 5); the only flag VXLAN defines, and set on every VXLAN packet. */
const FLAG_VNI = 0x08;

/**
 * VXLAN (RFC 7348): 8 bytes (flags, reserved, 24-bit VNI, reserved) before a whole Ethernet frame. What AWS VPC
 * Traffic Mirroring and Azure virtual network TAP deliver the mirrored packets in. p: the UDP payload.
 */
export function decodeVxlan(b: Buffer, p: number, end: number, pkt: DecodedPacket): number {
  if (end - p < VXLAN_HEADER) return failTunnel(pkt, DecodeEvent.VXLAN_TRUNCATED);
  if ((b[p] & FLAG_VNI) === 0) return failTunnel(pkt, DecodeEvent.VXLAN_BAD_FLAGS);
  const vni = (b[p + 4] << 16) | (b[p + 5] << 8) | b[p + 6];
  const r = enterTunnel(pkt, TUNNEL_KIND.VXLAN, vni);
  return r !== 0 ? r : innerPayload(pkt, INNER_ETHERNET, p + VXLAN_HEADER, end);
}
