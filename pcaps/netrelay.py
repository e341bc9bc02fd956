#!/usr/bin/env python3
"""Userspace links between two network namespaces, used by pcaps/make.sh.

Why this exists: the kernel the captures were made on has no ipip, sit,
ip6tnl, gre or 8021q support (and no loadable modules), so `ip link add
... type ipip` and `... type vlan` fail there.  TUN/TAP and AF_PACKET are
available everywhere, so this helper provides the same *observable* links:

  --tun NAME
      A TUN device NAME in each namespace.  IP packets the kernel routes
      into one are written into the other: a point-to-point layer-3 link,
      which is what the inner side of an ipip tunnel looks like.  tcpdump
      on a TUN device writes LINKTYPE_RAW (raw IPv4/IPv6, no link header).

  --vlan TAP:PARENT:TAGS
      A TAP device TAP in each namespace, stacked on the existing interface
      PARENT (a veth) of the same namespace, like a VLAN sub-interface.
      Ethernet frames the kernel sends out of TAP get the tag stack TAGS
      inserted after the MAC addresses and are transmitted on PARENT
      through an AF_PACKET socket; tagged frames received on PARENT whose
      tag stack equals TAGS are untagged and handed to TAP.
      TAGS is outer-first, e.g. "8100.100" (802.1Q, VID 100) or
      "88a8.200,8100.300" (802.1ad S-tag 200 carrying 802.1Q C-tag 300).

All packets are produced and consumed by the kernels' own IP stacks (dig,
dnsmasq, ARP); this program only moves frames and pushes/pops tags.

It runs until --max-seconds have passed or it is killed.  When it exits the
TUN/TAP devices disappear with it.  Only the namespaces named on the
command line are touched.  Python 3 standard library only.
"""
import argparse
import ctypes
import fcntl
import os
import select
import socket
import struct
import sys
import time

CLONE_NEWNET = 0x40000000
TUNSETIFF = 0x400454CA
IFF_TUN = 0x0001
IFF_TAP = 0x0002
IFF_NO_PI = 0x1000
ETH_P_ALL = 0x0003
SOL_PACKET = 263
PACKET_AUXDATA = 8
PACKET_OUTGOING = 4
TP_STATUS_VLAN_VALID = 0x10
TP_STATUS_VLAN_TPID_VALID = 0x40
VLAN_TPIDS = (0x8100, 0x88A8, 0x9100)

_libc = ctypes.CDLL(None, use_errno=True)


def setns(name):
    fd = os.open("/run/netns/" + name, os.O_RDONLY)
    try:
        if _libc.setns(fd, CLONE_NEWNET) != 0:
            err = ctypes.get_errno()
            raise OSError(err, "setns(%s): %s" % (name, os.strerror(err)))
    finally:
        os.close(fd)


def open_tuntap(name, flags):
    fd = os.open("/dev/net/tun", os.O_RDWR | os.O_NONBLOCK)
    ifr = struct.pack("16sH22x", name.encode(), flags | IFF_NO_PI)
    fcntl.ioctl(fd, TUNSETIFF, ifr)
    return fd


def parse_tags(spec):
    tags = []
    for part in spec.split(","):
        tpid, vid = part.split(".")
        tpid, vid = int(tpid, 16), int(vid)
        if tpid not in VLAN_TPIDS or not 0 < vid < 4095:
            raise ValueError("bad tag %r" % part)
        tags.append((tpid, vid))
    return tuple(tags)


class Relay:
    def __init__(self):
        self.poll = select.poll()
        self.handlers = {}

    def add(self, fd, fn):
        self.handlers[fd] = fn
        self.poll.register(fd, select.POLLIN)

    def run(self, seconds):
        deadline = time.monotonic() + seconds
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return
            for fd, _ev in self.poll.poll(min(left, 0.5) * 1000):
                # Drain a bounded number of packets per wake-up.
                for _ in range(64):
                    try:
                        if not self.handlers[fd]():
                            break
                    except (BlockingIOError, InterruptedError):
                        break
                    except OSError as e:  # peer device down, etc.
                        print("netrelay: %s" % e, file=sys.stderr)
                        break


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--ns", nargs=2, required=True, metavar=("NS_A", "NS_B"))
    ap.add_argument("--tun", action="append", default=[], metavar="NAME")
    ap.add_argument("--vlan", action="append", default=[], metavar="TAP:PARENT:TAGS")
    ap.add_argument("--ready", required=True, help="file written once devices exist")
    ap.add_argument("--max-seconds", type=float, default=300)
    args = ap.parse_args()

    vlans = []
    for spec in args.vlan:
        tap, parent, tags = spec.split(":")
        vlans.append((tap, parent, parse_tags(tags)))

    # side index 0 = NS_A, 1 = NS_B
    tun_fds = {}    # (name, side) -> fd
    tap_fds = {}    # (tap, side) -> fd
    psocks = {}     # (parent, side) -> socket
    for side, ns in enumerate(args.ns):
        setns(ns)
        for name in args.tun:
            tun_fds[(name, side)] = open_tuntap(name, IFF_TUN)
        for tap, parent, _tags in vlans:
            tap_fds[(tap, side)] = open_tuntap(tap, IFF_TAP)
            if (parent, side) not in psocks:
                s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
                s.bind((parent, ETH_P_ALL))
                s.setsockopt(SOL_PACKET, PACKET_AUXDATA, 1)
                s.setblocking(False)
                psocks[(parent, side)] = s

    relay = Relay()

    def tun_fwd(src, dst):
        def fn():
            os.write(dst, os.read(src, 65535))
            return True
        return fn

    for (name, side), fd in tun_fds.items():
        relay.add(fd, tun_fwd(fd, tun_fds[(name, 1 - side)]))

    def tap_to_parent(fd, sock, tags):
        hdr = b"".join(struct.pack("!HH", tpid, vid) for tpid, vid in tags)

        def fn():
            frame = os.read(fd, 65535)
            if len(frame) >= 14:
                sock.send(frame[:12] + hdr + frame[12:])
            return True
        return fn

    for tap, parent, tags in vlans:
        for side in (0, 1):
            relay.add(tap_fds[(tap, side)],
                      tap_to_parent(tap_fds[(tap, side)], psocks[(parent, side)], tags))

    def parent_to_taps(sock, side, parent):
        mine = {tags: tap_fds[(tap, side)] for tap, p, tags in vlans if p == parent}
        cmsg_space = socket.CMSG_SPACE(20)

        def fn():
            data, anc, _flags, addr = sock.recvmsg(65535, cmsg_space)
            if addr[2] == PACKET_OUTGOING or len(data) < 14:
                return True
            stack = []
            for level, ctype, cdata in anc:
                if level == SOL_PACKET and ctype == PACKET_AUXDATA and len(cdata) >= 20:
                    status, _l, _s, _m, _n, tci, tpid = struct.unpack("IIIHHHH", cdata[:20])
                    if status & TP_STATUS_VLAN_VALID:
                        if not status & TP_STATUS_VLAN_TPID_VALID:
                            tpid = 0x8100
                        stack.append((tpid, tci & 0x0FFF))
            off = 12
            while len(data) >= off + 4:
                tpid, tci = struct.unpack_from("!HH", data, off)
                if tpid not in VLAN_TPIDS:
                    break
                stack.append((tpid, tci & 0x0FFF))
                off += 4
            fd = mine.get(tuple(stack))
            if fd is not None:
                os.write(fd, data[:12] + data[off:])
            return True
        return fn

    for (parent, side), s in psocks.items():
        relay.add(s.fileno(), parent_to_taps(s, side, parent))

    with open(args.ready, "w") as f:
        f.write("ready %d\n" % os.getpid())
    relay.run(args.max_seconds)


if __name__ == "__main__":
    main()
