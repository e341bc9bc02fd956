#!/usr/bin/env python3
"""Rewrite a LINKTYPE_RAW pcap into LINKTYPE_NULL (DLT_NULL, BSD loopback).

Linux cannot capture DLT_NULL, so pcaps/formats/null.pcap is *derived* from
the real raw-IP capture(s): every record gets a 4-byte address family in
front of the IP packet (2 = AF_INET, 24 = AF_INET6 as on NetBSD/OpenBSD and
in libpcap's BSD_AFNUM_INET6_BSD), written in the byte order of the pcap
file header (which is the capturing host's order for files written by
libpcap), and caplen/len grow by 4.  Timestamps, resolution (usec or nsec
magic) and byte order of the input are kept.

usage: rawip-to-null.py IN.pcap OUT.pcap      (Python 3 standard library only)
"""
import struct
import sys

MAGICS = {0xA1B2C3D4, 0xA1B23C4D}
RAW_LINKTYPES = {101, 12, 14}  # LINKTYPE_RAW, and the DLT_RAW values some BSDs write
AF = {4: 2, 6: 24}


def convert(src, dst):
    with open(src, "rb") as f:
        data = f.read()
    if len(data) < 24:
        raise SystemExit("%s: too short for a pcap header" % src)
    for endian in ("<", ">"):
        magic = struct.unpack(endian + "I", data[:4])[0]
        if magic in MAGICS:
            break
    else:
        raise SystemExit("%s: not a classic pcap file" % src)
    vmaj, vmin, thiszone, sigfigs, snaplen, linktype = struct.unpack(endian + "HHiIII", data[4:24])
    if linktype & 0x0FFFFFFF not in RAW_LINKTYPES:
        raise SystemExit("%s: linktype %d is not raw IP" % (src, linktype))
    out = [struct.pack(endian + "IHHiIII", magic, vmaj, vmin, thiszone, sigfigs, snaplen + 4, 0)]
    off, n = 24, 0
    while off < len(data):
        if off + 16 > len(data):
            raise SystemExit("%s: truncated record header at %d" % (src, off))
        ts_s, ts_f, caplen, origlen = struct.unpack(endian + "IIII", data[off:off + 16])
        pkt = data[off + 16:off + 16 + caplen]
        if len(pkt) != caplen:
            raise SystemExit("%s: truncated record at %d" % (src, off))
        ver = pkt[0] >> 4 if pkt else 0
        if ver not in AF:
            raise SystemExit("%s: record %d is not IPv4/IPv6" % (src, n + 1))
        out.append(struct.pack(endian + "IIII", ts_s, ts_f, caplen + 4, origlen + 4))
        out.append(struct.pack(endian + "I", AF[ver]))
        out.append(pkt)
        off += 16 + caplen
        n += 1
    with open(dst, "wb") as f:
        f.write(b"".join(out))
    return n


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    print("%s: %d packets -> %s (LINKTYPE_NULL)" % (sys.argv[1], convert(sys.argv[1], sys.argv[2]), sys.argv[2]))
