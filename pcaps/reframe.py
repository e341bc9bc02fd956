#!/usr/bin/env python3
"""Re-frames a classic little-endian Ethernet pcap's IPv4/IPv6 frames as other link types, for pcaps/make-linktypes.sh.

  reframe.py ppp|ppp-hdlc|c-hdlc|radiotap IN.pcap OUT.pcap

The IP datagrams, their order and their times are kept byte for byte; only the link header changes:
  ppp       DLT_PPP (9): even frames with HDLC address/control (ff 03) before the PPP protocol, odd frames without,
            as libpcap allows both; one LCP Echo-Request first (no IP: a NON_IP frame).
  ppp-hdlc  DLT_PPP_HDLC (50): PPP in HDLC-like framing (ff 03, protocol) for IPv4, Cisco HDLC (0f 00, EtherType)
            for IPv6, both of which the link type carries.
  c-hdlc    DLT_C_HDLC (104): Cisco HDLC, address 0x0f (unicast; 0x8f for frames to a broadcast MAC), control 0,
            the EtherType; one SLARP keepalive first (EtherType 0x8035, no IP: a NON_IP frame), as a Cisco serial
            link sends every 10 s.
  radiotap  DLT_IEEE802_11_RADIOTAP (127): a radiotap header (flags, rate, channel) and an 802.11 data frame, QoS
            for odd frames, To-DS when the Ethernet source is the first frame's source, From-DS otherwise, with
            LLC/SNAP; one beacon first (a management frame) and one protected data frame last (neither carries IP
            that can be read).
Frames that are not IPv4 or IPv6 (ARP) are dropped.
"""
import struct
import sys

LINKTYPES = {"ppp": 9, "ppp-hdlc": 50, "c-hdlc": 104, "radiotap": 127}


def read_pcap(path):
    d = open(path, "rb").read()
    magic, = struct.unpack("<I", d[:4])
    if magic != 0xA1B2C3D4:
        sys.exit(f"{path}: want a little-endian microsecond pcap")
    if struct.unpack("<I", d[20:24])[0] != 1:
        sys.exit(f"{path}: want Ethernet")
    p, out = 24, []
    while p + 16 <= len(d):
        sec, usec, incl, orig = struct.unpack("<IIII", d[p:p + 16])
        out.append((sec, usec, d[p + 16:p + 16 + incl], orig))
        p += 16 + incl
    return out


def radiotap():
    # version 0, pad, length 14, present: Flags (bit 1), Rate (bit 2), Channel (bit 3); flags 0, 24 Mb/s, 2437 MHz 2.4 GHz OFDM
    return struct.pack("<BBHI", 0, 0, 14, 0x0000000E) + struct.pack("<BBHH", 0x00, 48, 2437, 0x00C0)


def wifi_data(frame, i, first_src, protected=False):
    dst, src, etype = frame[0:6], frame[6:12], frame[12:14]
    bssid = bytes.fromhex("02a0000000ff")
    qos = i % 2 == 1
    fc0 = 0x88 if qos else 0x08
    to_ds = src == first_src
    fc1 = (0x01 if to_ds else 0x02) | (0x40 if protected else 0)
    a1, a2, a3 = (bssid, src, dst) if to_ds else (dst, bssid, src)
    hdr = bytes([fc0, fc1]) + struct.pack("<H", 44) + a1 + a2 + a3 + struct.pack("<H", (i & 0xFFF) << 4)
    if qos:
        hdr += struct.pack("<H", 0)
    if protected:
        return hdr + bytes.fromhex("0100002000000000") + bytes(range(64))  # a CCMP header and ciphertext-like bytes
    return hdr + bytes.fromhex("aaaa03000000") + etype + frame[14:]


def main():
    kind, src, dst = sys.argv[1:4]
    frames = [f for f in read_pcap(src) if f[2][12:14] in (b"\x08\x00", b"\x86\xdd")]
    if not frames:
        sys.exit("no IP frames")
    out = []
    sec0, usec0 = frames[0][0], frames[0][1]
    if kind == "ppp":
        out.append((sec0, usec0, bytes.fromhex("ff03c021") + bytes.fromhex("0901000800000000")))  # LCP Echo-Request
    if kind == "c-hdlc":
        # SLARP keepalive (code 2): my sequence, your sequence, reliability 0xffff
        out.append((sec0, usec0, bytes.fromhex("8f008035") + struct.pack(">IIIH", 2, 1, 0, 0xFFFF)))
    if kind == "radiotap":
        beacon = bytes([0x80, 0x00, 0, 0]) + b"\xff" * 6 + bytes.fromhex("02a0000000ff") * 2 + b"\x00\x00" \
            + b"\x00" * 8 + struct.pack("<HH", 100, 0x0401) + b"\x00\x06picket"
        out.append((sec0, usec0, radiotap() + beacon))
    first_src = frames[0][2][6:12]
    for i, (sec, usec, f, _orig) in enumerate(frames):
        etype, ip = f[12:14], f[14:]
        if kind == "ppp":
            proto = b"\x00\x21" if etype == b"\x08\x00" else b"\x00\x57"
            out.append((sec, usec, (b"\xff\x03" if i % 2 == 0 else b"") + proto + ip))
        elif kind == "c-hdlc":
            out.append((sec, usec, (b"\x8f" if f[0:6] == b"\xff" * 6 else b"\x0f") + b"\x00" + etype + ip))
        elif kind == "ppp-hdlc":
            out.append((sec, usec, (b"\xff\x03\x00\x21" if etype == b"\x08\x00" else b"\x0f\x00\x86\xdd") + ip))
        else:
            out.append((sec, usec, radiotap() + wifi_data(f, i, first_src)))
    if kind == "radiotap":
        sec, usec, f, _ = frames[-1]
        out.append((sec, usec, radiotap() + wifi_data(f, len(frames), first_src, protected=True)))
    with open(dst, "wb") as w:
        w.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, LINKTYPES[kind]))
        for sec, usec, data in out:
            w.write(struct.pack("<IIII", sec, usec, len(data), len(data)) + data)
    print(f"{dst}: {len(out)} frames")


if __name__ == "__main__":
    main()
