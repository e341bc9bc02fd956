import { isIPv4, isIPv6 } from 'node:net';
import { PicketError } from '../errors';

/** The protected network: which addresses are "ours", for the direction of traffic (ECS network.direction). */
export interface HomeNet {
  text: string;
  /**
   * The IPv4 networks and masks as int32 (bit patterns), for the per-packet test: the unsigned values above
   * 2^31 would be boxed doubles in V8.
   */
  nets4: Int32Array;
  masks4: Int32Array;
  v6: Array<{ net: Uint8Array; prefix: number }>;
}

/** RFC 1918, RFC 6598 (carrier-grade NAT), RFC 4193 (unique local IPv6). */
export const DEFAULT_HOME_NET = '10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,100.64.0.0/10,fc00::/7';

export function parseIpv4(s: string): number {
  const parts = s.split('.').map(Number);
  return ((parts[0] << 24) | (parts[1] << 16) | (parts[2] << 8) | parts[3]) >>> 0;
}

export function parseIpv6(s: string): Uint8Array {
  const out = new Uint8Array(16);
  let text = s;
  // A dotted IPv4 tail (::ffff:1.2.3.4) becomes two hex groups.
  const dot = text.lastIndexOf('.');
  if (dot >= 0) {
    const colon = text.lastIndexOf(':');
    const v4 = parseIpv4(text.slice(colon + 1));
    text = `${text.slice(0, colon + 1)}${(v4 >>> 16).toString(16)}:${(v4 & 0xffff).toString(16)}`;
  }
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const hg = head === '' ? [] : head.split(':');
  const tg = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = tail === undefined ? hg : [...hg, ...new Array<string>(8 - hg.length - tg.length).fill('0'), ...tg];
  for (let i = 0; i < 8; i++) {
    const v = parseInt(groups[i], 16);
    out[2 * i] = v >> 8;
    out[2 * i + 1] = v & 255;
  }
  return out;
}

/**
 * Parses "CIDR[,CIDR...]" (a bare address is a /32 or /128); `where` names the flag or file for errors.
 * `exact`: a CIDR with host bits set (10.0.0.1/8) is an error, not quietly its network. The home net decides every
 * alert's direction and which scans are watched, and 10.0.0.1/8 is as likely a typo for 10.0.0.1/32 (one host) as
 * a way of writing 10.0.0.0/8: a guess either way silently changes what is detected, and a warning scrolls past in
 * a service's log. Intel lists (not exact) keep taking such entries as their networks: they are third-party data.
 */
export function parseHomeNet(text: string, where: string, exact = false): HomeNet {
  const home: HomeNet = { text, v6: [], nets4: new Int32Array(0), masks4: new Int32Array(0) };
  const v4: Array<{ net: number; mask: number }> = [];
  for (const raw of text.split(',')) {
    const item = raw.trim();
    if (item === '') continue;
    const slash = item.indexOf('/');
    const addr = slash < 0 ? item : item.slice(0, slash);
    const bits = slash < 0 ? null : item.slice(slash + 1);
    if (isIPv4(addr)) {
      const prefix = bits === null ? 32 : Number(bits);
      if (!/^\d{1,2}$/.test(bits ?? '32') || prefix > 32) throw new PicketError(`${where}: bad IPv4 prefix length in "${item}"`);
      const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
      const a = parseIpv4(addr);
      if (exact && ((a & ~mask) >>> 0) !== 0) {
        throw new PicketError(`${where}: "${item}" has host bits set: write ${ipv4Text((a & mask) >>> 0)}/${prefix} for the network, or ${addr}/32 for the one host`);
      }
      v4.push({ net: (parseIpv4(addr) & mask) >>> 0, mask });
    } else if (isIPv6(addr)) {
      const prefix = bits === null ? 128 : Number(bits);
      if (!/^\d{1,3}$/.test(bits ?? '128') || prefix > 128) throw new PicketError(`${where}: bad IPv6 prefix length in "${item}"`);
      const net = parseIpv6(addr);
      if (exact && hostBits6(net, prefix)) {
        throw new PicketError(`${where}: "${item}" has host bits set: give the network address for /${prefix}, or ${addr}/128 for the one host`);
      }
      home.v6.push({ net, prefix });
    } else {
      throw new PicketError(`${where}: "${item}" is not an IPv4 or IPv6 address or CIDR`);
    }
  }
  home.nets4 = Int32Array.from(v4, (n) => n.net | 0);
  home.masks4 = Int32Array.from(v4, (n) => n.mask | 0);
  return home;
}

export function isHome4(home: HomeNet, a: number): boolean {
  const nets = home.nets4;
  const masks = home.masks4;
  for (let i = 0; i < nets.length; i++) if ((a & masks[i]) === nets[i]) return true;
  return false;
}

export function isHome6(home: HomeNet, b: Uint8Array, p: number): boolean {
  for (const n of home.v6) {
    let bits = n.prefix;
    let i = 0;
    let match = true;
    while (bits >= 8) {
      if (b[p + i] !== n.net[i]) {
        match = false;
        break;
      }
      i++;
      bits -= 8;
    }
    if (match && bits > 0) {
      const m = (0xff << (8 - bits)) & 0xff;
      if ((b[p + i] & m) !== (n.net[i] & m)) match = false;
    }
    if (match) return true;
  }
  return false;
}

/** ECS network.direction from whether each end is in the home network. */
export function direction(srcHome: boolean, dstHome: boolean): 'inbound' | 'outbound' | 'internal' | 'external' {
  if (srcHome) return dstHome ? 'internal' : 'outbound';
  return dstHome ? 'inbound' : 'external';
}

function ipv4Text(a: number): string {
  return `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;
}

function hostBits6(b: Uint8Array, prefix: number): boolean {
  for (let i = 0; i < 16; i++) {
    const keep = Math.max(0, Math.min(8, prefix - i * 8));
    if ((b[i] & (0xff >> keep)) !== 0) return true;
  }
  return false;
}
