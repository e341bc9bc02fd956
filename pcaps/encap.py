#!/usr/bin/env python3
"""Wraps the frames of a classic little-endian Ethernet pcap in tunnels, for pcaps/make-tunnels.sh: the tunnels
this kernel cannot make (no geneve, gretap, erspan or mpls devices), built by hand from their RFCs around real
captured frames (python3 stdlib only; scapy is not needed).

  encap.py KIND IN.pcap OUT.pcap

Every frame of IN is kept byte for byte inside the tunnel, with its time; the outer headers are those a mirror
session would put around it (outer Ethernet 02:98:00:00:00:aa -> 02:98:00:00:00:bb, outer IPv4 10.98.0.2 ->
10.98.0.1 or IPv6 fd98::2 -> fd98::1, IPv4 header checksums computed, UDP checksum 0 as RFC 7348/8926 allow):
  geneve      UDP 6081, GENEVE (RFC 8926) VNI 7, protocol 0x6558 (Ethernet), one 8-byte option (class 0x0108)
  gre-teb     GRE (RFC 2784/2890) with key 5 and a sequence number, protocol 0x6558: transparent Ethernet bridging
  gre-ip6     GRE without key over an IPv6 outer header, carrying the inner IP packet (protocol 0x0800/0x86dd)
  erspan2     GRE with a sequence number, protocol 0x88be, ERSPAN type II header (version 1, session 100)
  erspan3     GRE with a sequence number, protocol 0x22eb, ERSPAN type III header (version 2, session 200, frame
              type 0), with the optional 8-byte platform-specific subheader on odd frames (O flag)
  mpls        Ethernet 0x8847, a two-label stack (1000, then bottom label 2000), the inner IP packet
  pppoe       Ethernet 0x8864, PPPoE session 0x1234 (RFC 2516), PPP protocol 0x0021/0x0057, the inner IP packet
Inner frames that are not IP (ARP) are dropped for the kinds that carry IP packets only (gre-ip6, mpls, pppoe).
"""
import struct
import sys

OUT_SRC_MAC, OUT_DST_MAC = bytes.fromhex("0298000000aa"), bytes.fromhex("0298000000bb")
SRC4, DST4 = bytes([10, 98, 0, 2]), bytes([10, 98, 0, 1])
SRC6, DST6 = bytes.fromhex("fd980000000000000000000000000002"), bytes.fromhex("fd980000000000000000000000000001")


def read_pcap(path):
    d = open(path, "rb").read()
    if struct.unpack("<I", d[:4])[0] != 0xA1B2C3D4 or struct.unpack("<I", d[20:24])[0] != 1:
        sys.exit(f"{path}: want a little-endian microsecond Ethernet pcap")
    p, out = 24, []
    while p + 16 <= len(d):
        sec, usec, incl, _orig = struct.unpack("<IIII", d[p:p + 16])
        out.append((sec, usec, d[p + 16:p + 16 + incl]))
        p += 16 + incl
    return out


def checksum(h):
    s = sum(struct.unpack(f"!{len(h) // 2}H", h))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return ~s & 0xFFFF


def ipv4(proto, payload, ident):
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident & 0xFFFF, 0x4000, 64, proto, 0, SRC4, DST4)
    return h[:10] + struct.pack("!H", checksum(h)) + h[12:] + payload


def ipv6(nxt, payload):
    return struct.pack("!IHBB", 0x60000000, len(payload), nxt, 64) + SRC6 + DST6 + payload


def eth(etype, payload):
    return OUT_DST_MAC + OUT_SRC_MAC + struct.pack("!H", etype) + payload


def gre(proto, payload, key=None, seq=None):
    flags = (0x2000 if key is not None else 0) | (0x1000 if seq is not None else 0)
    h = struct.pack("!HH", flags, proto)
    if key is not None:
        h += struct.pack("!I", key)
    if seq is not None:
        h += struct.pack("!I", seq)
    return h + payload


def wrap(kind, i, frame):
    etype, ip = struct.unpack("!H", frame[12:14])[0], frame[14:]
    is_ip = etype in (0x0800, 0x86DD)
    if kind == "geneve":
        opt = struct.pack("!HBB", 0x0108, 0x01, 1) + b"\x00\x00\x00\x2a"   # class, type, length 1 word, data
        g = struct.pack("!BBH", len(opt) // 4, 0, 0x6558) + struct.pack("!I", 7 << 8) + opt
        udp = struct.pack("!HHHH", 49152 + i % 1000, 6081, 8 + len(g) + len(frame), 0) + g + frame
        return eth(0x0800, ipv4(17, udp, i))
    if kind == "gre-teb":
        return eth(0x0800, ipv4(47, gre(0x6558, frame, key=5, seq=i), i))
    if kind == "gre-ip6":
        return eth(0x86DD, ipv6(47, gre(etype, ip))) if is_ip else None
    if kind == "erspan2":
        # version 1, VLAN 0 | COS 0, En 0, T 0, session 100 | reserved, index 0
        h = struct.pack("!HHI", 0x1000, 100, 0)
        return eth(0x0800, ipv4(47, gre(0x88BE, h + frame, seq=i), i))
    if kind == "erspan3":
        o = i % 2
        # version 2, VLAN 0 | COS 0, BSO 0, T 0, session 200 | timestamp | SGT 0 | P 0, FT 0, HW ID 1, D 0, Gra 1, O
        h = struct.pack("!HHIHBB", 0x2000, 200, (i * 1000) & 0xFFFFFFFF, 0, 0x00, 0x10 | 0x02 | o)
        if o:
            h += struct.pack("!II", 0x0B000000, i)   # platform id 3 subheader
        return eth(0x0800, ipv4(47, gre(0x22EB, h + frame, seq=i), i))
    if kind == "mpls":
        labels = struct.pack("!II", (1000 << 12) | 64, (2000 << 12) | 0x100 | 64)
        return eth(0x8847, labels + ip) if is_ip else None
    if kind == "pppoe":
        ppp = struct.pack("!H", 0x0021 if etype == 0x0800 else 0x0057) + ip
        return eth(0x8864, struct.pack("!BBHH", 0x11, 0x00, 0x1234, len(ppp)) + ppp) if is_ip else None
    sys.exit(f"unknown kind {kind}")


def main():
    kind, src, dst = sys.argv[1:4]
    out = []
    for i, (sec, usec, f) in enumerate(read_pcap(src)):
        w = wrap(kind, i, f)
        if w is not None:
            out.append((sec, usec, w))
    with open(dst, "wb") as fh:
        fh.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
        for sec, usec, data in out:
            fh.write(struct.pack("<IIII", sec, usec, len(data), len(data)) + data)
    print(f"{dst}: {len(out)} frames")


if __name__ == "__main__":
    main()
