#!/usr/bin/env python3
"""Send DNS queries over UDP with IP-layer options dig cannot set.  Used by pcaps/make.sh.

  --ext hbh,srh,dst
                  IPv6 only: add a Hop-by-Hop Options header, a Segment
                  Routing Header (routing type 4, one segment = the server,
                  Segments Left 0) and/or a Destination Options header
                  through the IPV6_HOPOPTS / IPV6_RTHDR / IPV6_DSTOPTS socket
                  options; the kernel builds
                  IPv6 -> HBH -> Routing -> DSTOPTS -> UDP  (the ones asked for).
                  The receiver needs net.ipv6.conf.*.seg6_enabled=1 for SRH.
  --pad N         add an EDNS(0) OPT record with an N-byte Padding option
                  (RFC 7830).  With N larger than the MTU the kernel fragments
                  the datagram (IPv4: DF cleared; IPv6: Fragment header).

Waits up to --wait seconds for each answer and prints a one-line summary.
Python 3 standard library only.
"""
import argparse
import random
import socket
import struct
import sys

QTYPES = {"A": 1, "NS": 2, "TXT": 16, "AAAA": 28, "ANY": 255}
IPV6_HOPOPTS = getattr(socket, "IPV6_HOPOPTS", 54)
IPV6_DSTOPTS = getattr(socket, "IPV6_DSTOPTS", 59)
IPV6_RTHDR = getattr(socket, "IPV6_RTHDR", 57)
IP_MTU_DISCOVER = getattr(socket, "IP_MTU_DISCOVER", 10)
IP_PMTUDISC_DONT = getattr(socket, "IP_PMTUDISC_DONT", 0)
# next-header (filled by kernel), hdr-ext-len 0 (= 8 bytes), PadN type 1 len 4
PADN_EXT = bytes([0, 0, 1, 4, 0, 0, 0, 0])


def srh(segment):
    # next-header (kernel), hdr-ext-len 2 (= 24 bytes), type 4, Segments Left 0,
    # Last Entry 0, flags 0, tag 0, then the one segment
    return bytes([0, 2, 4, 0, 0, 0, 0, 0]) + socket.inet_pton(socket.AF_INET6, segment)


def build_query(name, qtype, pad, qid):
    flags = 0x0100  # RD
    arcount = 1 if pad is not None else 0
    msg = struct.pack("!HHHHHH", qid, flags, 1, 0, 0, arcount)
    for label in name.rstrip(".").split("."):
        raw = label.encode("ascii")
        msg += bytes([len(raw)]) + raw
    msg += b"\x00" + struct.pack("!HH", qtype, 1)
    if pad is not None:
        opt = struct.pack("!HH", 12, pad) + b"\x00" * pad
        msg += b"\x00" + struct.pack("!HHIH", 41, 4096, 0, len(opt)) + opt
    return msg


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--server", required=True)
    ap.add_argument("--port", type=int, default=53)
    ap.add_argument("--type", default="A", choices=sorted(QTYPES))
    ap.add_argument("--ext", default="", help="comma list of hbh,srh,dst (IPv6 only)")
    ap.add_argument("--pad", type=int, default=None)
    ap.add_argument("--wait", type=float, default=2.0)
    ap.add_argument("names", nargs="+")
    args = ap.parse_args()

    fam = socket.AF_INET6 if ":" in args.server else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.settimeout(args.wait)
    exts = [e for e in args.ext.split(",") if e]
    if exts and fam != socket.AF_INET6:
        sys.exit("--ext needs an IPv6 server")
    for e in exts:
        if e == "srh":
            s.setsockopt(socket.IPPROTO_IPV6, IPV6_RTHDR, srh(args.server))
        else:
            opt = {"hbh": IPV6_HOPOPTS, "dst": IPV6_DSTOPTS}[e]
            s.setsockopt(socket.IPPROTO_IPV6, opt, PADN_EXT)
    if args.pad is not None and fam == socket.AF_INET:
        s.setsockopt(socket.IPPROTO_IP, IP_MTU_DISCOVER, IP_PMTUDISC_DONT)

    failed = 0
    for name in args.names:
        qid = random.randrange(1, 65536)
        s.sendto(build_query(name, QTYPES[args.type], args.pad, qid), (args.server, args.port))
        try:
            while True:
                data, _ = s.recvfrom(65535)
                if len(data) >= 4 and struct.unpack("!H", data[:2])[0] == qid:
                    break
            rcode = data[3] & 0x0F
            ancount = struct.unpack("!H", data[6:8])[0]
            print("%s %s: rcode=%d answers=%d" % (name, args.type, rcode, ancount))
        except socket.timeout:
            print("%s %s: no answer" % (name, args.type))
            failed += 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
