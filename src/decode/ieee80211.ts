import { u16be } from '../capture/bytes';
import { decodeEthertype } from './ethernet';
import { DecodeEvent } from './events';
import type { DecodedPacket } from '../core/packet';

const TYPE_DATA = 2;
const FC1_TO_DS = 0x01;
const FC1_FROM_DS = 0x02;
const FC1_PROTECTED = 0x40;
const FC1_ORDER = 0x80;
/** Data subtypes with bit 2 set carry no payload (Null, QoS Null, CF-Ack/Poll without data). */
const SUBTYPE_NO_DATA = 0x4;
const SUBTYPE_QOS = 0x8;

/**
 * DLT_IEEE802_11_RADIOTAP (127): a radiotap header (version 0, its own length little-endian at offset 2) before an
 * 802.11 frame. Its fields (rates, signal, the FCS flag) are not read: the IP datagram's own length bounds it, so a
 * trailing FCS is padding to the IP decoder.
 */
export function decodeRadiotap(b: Buffer, p: number, end: number, pkt: DecodedPacket): number {
  if (end - p < 8) return DecodeEvent.LINK_TRUNCATED;
  if (b[p] !== 0) return DecodeEvent.LINK_TRUNCATED; // only version 0 exists; another is not radiotap as we know it
  const len = b[p + 2] | (b[p + 3] << 8);
  if (len < 8 || end - p < len) return DecodeEvent.LINK_TRUNCATED;
  return decodeIeee80211(b, p + len, end, pkt);
}

/**
 * An 802.11 MAC frame (IEEE 802.11-2020 9.2): data frames with a payload are followed by LLC/SNAP (RFC 1042
 * encapsulation, AA AA 03 and an OUI, then an EtherType). Management and control frames and data frames without a
 * payload carry no IP (NON_IP); protected data frames are encrypted (WIFI_PROTECTED).
 */
export function decodeIeee80211(b: Buffer, p: number, end: number, pkt: DecodedPacket): number {
  if (end - p < 2) return DecodeEvent.LINK_TRUNCATED;
  const fc0 = b[p];
  const fc1 = b[p + 1];
  const type = (fc0 >> 2) & 3;
  const subtype = fc0 >> 4;
  if (type !== TYPE_DATA || (subtype & SUBTYPE_NO_DATA) !== 0) {
    pkt.events |= 1 << DecodeEvent.NON_IP;
    return DecodeEvent.OK;
  }
  // Frame control, duration, 3 addresses, sequence control; a 4th address between two distribution systems; QoS
  // control in QoS data; HT control when the Order bit is set on a QoS data frame.
  let hdr = 24;
  if ((fc1 & (FC1_TO_DS | FC1_FROM_DS)) === (FC1_TO_DS | FC1_FROM_DS)) hdr += 6;
  if ((subtype & SUBTYPE_QOS) !== 0) {
    hdr += 2;
    if ((fc1 & FC1_ORDER) !== 0) hdr += 4;
  }
  if (end - p < hdr) return DecodeEvent.LINK_TRUNCATED;
  if ((fc1 & FC1_PROTECTED) !== 0) {
    pkt.events |= 1 << DecodeEvent.WIFI_PROTECTED;
    return DecodeEvent.OK;
  }
  const llc = p + hdr;
  if (end - llc < 8) return DecodeEvent.LINK_TRUNCATED;
  if (b[llc] !== 0xaa || b[llc + 1] !== 0xaa || b[llc + 2] !== 0x03) {
    pkt.events |= 1 << DecodeEvent.NON_IP; // other LLC (STP, IPX...): no EtherType
    return DecodeEvent.OK;
  }
  return decodeEthertype(b, u16be(b, llc + 6), llc + 8, end, pkt);
}
