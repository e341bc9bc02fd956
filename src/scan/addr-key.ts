import { SCAN_PROTOS } from '../core/scan-record';
import { ipv4ToString, ipv6ToString } from '../decode/addr';
import { parseIpv4 } from '../config/homenet';

/**
 * Addresses and targets as the scan detectors key them: an IPv4 address is its number and a (host, port) target a
 * number below 2^50, so that counting the attempts of a busy link makes no strings; IPv6 (rarer, 128 bits) is
 * keyed by its text. Text is made only for what goes into an alert.
 */
export type AddrKey = number | string;

/** The address at `off` (16 bytes, IPv4 in the first 4) of a record's or attempt's address block. */
export function addrKey(ipVersion: number, addr: Uint8Array, off: number): AddrKey {
  if (ipVersion === 6) return ipv6Text(addr, off);
  return ipv4At(addr, off);
}

/** The IPv4 address at addr[off] as its number (its key). */
export function ipv4At(addr: Uint8Array, off: number): number {
  return ((addr[off] << 24) | (addr[off + 1] << 16) | (addr[off + 2] << 8) | addr[off + 3]) >>> 0;
}

/** A 32-bit hash of the 16 address bytes at addr[off] (the IPv6 text cache's slot, the source index's IPv6 key). */
export function hash16(addr: Uint8Array, off: number): number {
  let h = 0;
  for (let i = 0; i < 16; i += 4) h = Math.imul(h ^ ipv4At(addr, off + i), 0x9e3779b1);
  return (h ^ (h >>> 15)) | 0;
}

/**
 * IPv6 text through a small direct-mapped cache: the same few addresses (a scanner, the hosts it probes, busy
 * clients) come back record after record, and each would otherwise make its text anew.
 */
const V6_SLOTS = 1024;
const v6Bytes = new Uint8Array(V6_SLOTS * 16);
const v6Texts: string[] = new Array<string>(V6_SLOTS).fill('');

function ipv6Text(addr: Uint8Array, off: number): string {
  const slot = (hash16(addr, off) >>> 22) % V6_SLOTS;
  const at = slot * 16;
  let same = v6Texts[slot] !== '';
  for (let i = 0; same && i < 16; i++) same = v6Bytes[at + i] === addr[off + i];
  if (same) return v6Texts[slot];
  const text = ipv6ToString(addr, off);
  for (let i = 0; i < 16; i++) v6Bytes[at + i] = addr[off + i];
  v6Texts[slot] = text;
  return text;
}

export function addrText(k: AddrKey): string {
  return typeof k === 'number' ? ipv4ToString(k) : k;
}

/** The key of an address given as text. */
export function addrKeyOfText(ip: string): AddrKey {
  return ip.includes(':') ? ip : parseIpv4(ip);
}

/** A port with its protocol (a SCAN_PROTOS index) as one number. */
export function portKey(proto: number, port: number): number {
  return proto * 65536 + port;
}

/** "tcp/443" */
export function portText(p: number): string {
  return `${SCAN_PROTOS[Math.floor(p / 65536)]}/${p % 65536}`;
}

const PORT_SPACE = 262144; // 2^18 > every portKey

export function targetKey(host: AddrKey, port: number): AddrKey {
  return typeof host === 'number' ? host * PORT_SPACE + port : `${host}|${port}`;
}

export function targetHost(t: AddrKey): AddrKey {
  if (typeof t === 'number') return Math.floor(t / PORT_SPACE);
  return t.slice(0, t.lastIndexOf('|'));
}

export function targetPort(t: AddrKey): number {
  if (typeof t === 'number') return t % PORT_SPACE;
  return Number(t.slice(t.lastIndexOf('|') + 1));
}
