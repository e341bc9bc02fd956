import { u16be } from '../capture/bytes';
import { DecodeEvent } from './events';
import { enterTunnel, failTunnel, innerPayload, TUNNEL_KIND } from './tunnel';
import type { DecodedPacket } from '../core/packet';

const GENEVE_HEADER = 8;

/**
 * GENEVE (RFC 8926 3.4): version (2 bits, 0), options length (6 bits, 4-byte words), flags, the payload's
 * EtherType (0x6558 for Ethernet; AWS Gateway Load Balancer sends 0x0800, the IP packet bare), a 24-bit VNI, then
 * the options. p: the UDP payload.
 */
export function decodeGeneve(b: Buffer, p: number, end: number, pkt: DecodedPacket): number {
  if (end - p < GENEVE_HEADER) return failTunnel(pkt, DecodeEvent.GENEVE_TRUNCATED);
  if (b[p] >> 6 !== 0) return failTunnel(pkt, DecodeEvent.GENEVE_BAD_VERSION);
  const header = GENEVE_HEADER + (b[p] & 0x3f) * 4;
  if (p + header > end) return failTunnel(pkt, DecodeEvent.GENEVE_BAD_OPTIONS);
  const vni = (b[p + 4] << 16) | (b[p + 5] << 8) | b[p + 6];
  const r = enterTunnel(pkt, TUNNEL_KIND.GENEVE, vni);
  return r !== 0 ? r : innerPayload(pkt, u16be(b, p + 2), p + header, end);
}
