import { u16be } from '../capture/bytes';
import { DecodeEvent } from './events';
import { enterTunnel, failTunnel, innerPayload, INNER_ETHERNET, INNER_IP, TUNNEL_KIND } from './tunnel';
import type { DecodedPacket } from '../core/packet';

const ERSPAN_II_HEADER = 8;
const ERSPAN_III_HEADER = 12;
/** ERSPAN III's optional platform-specific subheader (its O flag). */
const ERSPAN_III_PLATFORM = 8;
const FRAME_ETHERNET = 0;
const FRAME_IP = 2;

/**
 * ERSPAN type II (Cisco remote SPAN over GRE 0x88be with a sequence number; draft-foschiano-erspan): version 1
 * in the first nibble, the 10-bit session id, then the mirrored Ethernet frame. p: the GRE payload.
 */
export function decodeErspanII(b: Buffer, p: number, end: number, pkt: DecodedPacket): number {
  if (end - p < ERSPAN_II_HEADER) return failTunnel(pkt, DecodeEvent.ERSPAN_TRUNCATED);
  if (b[p] >> 4 !== 1) return failTunnel(pkt, DecodeEvent.ERSPAN_BAD_VERSION);
  const r = enterTunnel(pkt, TUNNEL_KIND.ERSPAN_II, u16be(b, p + 2) & 0x3ff);
  return r !== 0 ? r : innerPayload(pkt, INNER_ETHERNET, p + ERSPAN_II_HEADER, end);
}

/**
 * ERSPAN type III (GRE 0x22eb): version 2, the session id, a timestamp, then the frame type (0 Ethernet, 2 IP) and
 * the O flag, which adds an 8-byte platform-specific subheader.
 */
export function decodeErspanIII(b: Buffer, p: number, end: number, pkt: DecodedPacket): number {
  if (end - p < ERSPAN_III_HEADER) return failTunnel(pkt, DecodeEvent.ERSPAN_TRUNCATED);
  if (b[p] >> 4 !== 2) return failTunnel(pkt, DecodeEvent.ERSPAN_BAD_VERSION);
  const header = ERSPAN_III_HEADER + ((b[p + 11] & 1) !== 0 ? ERSPAN_III_PLATFORM : 0);
  if (p + header > end) return failTunnel(pkt, DecodeEvent.ERSPAN_TRUNCATED);
  const frameType = (b[p + 10] >> 2) & 0x1f;
  if (frameType !== FRAME_ETHERNET && frameType !== FRAME_IP) return failTunnel(pkt, DecodeEvent.ERSPAN_BAD_VERSION);
  const r = enterTunnel(pkt, TUNNEL_KIND.ERSPAN_III, u16be(b, p + 2) & 0x3ff);
  return r !== 0 ? r : innerPayload(pkt, frameType === FRAME_IP ? INNER_IP : INNER_ETHERNET, p + header, end);
}
