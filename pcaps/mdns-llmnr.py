#!/usr/bin/env python3
"""mDNS (RFC 6762) and LLMNR (RFC 4795) on the wire, for pcaps/make-mdns.sh: a responder and the queries.

  mdns-llmnr.py respond --v4 ADDR --v6 ADDR --ready FILE --seconds N
      answers, for the names it owns, mDNS questions on 224.0.0.251 / ff02::fb port 5353 (multicast answers with no
      question section, as RFC 6762 6 has them; to the querier's port for one-shot queries from another port) and
      LLMNR questions on 224.0.0.252 / ff02::1:3 UDP 5355 and TCP 5355 (unicast answers repeating the question,
      RFC 4795 2.1.1); names it does not own get no answer, as both RFCs say.
  mdns-llmnr.py query --v4 ADDR --v6 ADDR --peer4 ADDR --peer6 ADDR
      sends the fixed list of queries in QUERIES below, one at a time, waiting up to 1 s for each answer.

Messages are built with struct (the standard library only), so the bytes are exactly what the RFCs describe.
"""
import argparse
import select
import socket
import struct
import sys
import time

MDNS4, MDNS6, LLMNR4, LLMNR6 = "224.0.0.251", "ff02::fb", "224.0.0.252", "ff02::1:3"
A, PTR, TXT, AAAA, SRV = 1, 12, 16, 28, 33
QU = 0x8000  # the unicast-response bit in an mDNS question's class (RFC 6762 5.4)
FLUSH = 0x8000  # the cache-flush bit in an mDNS answer's class (RFC 6762 10.2)


def name(n):
    out = b""
    for label in n.rstrip(".").split("."):
        out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def header(id_, flags, qd, an):
    return struct.pack("!HHHHHH", id_, flags, qd, an, 0, 0)


def question(n, t, cls=1):
    return name(n) + struct.pack("!HH", t, cls)


def rr(n, t, data, ttl=120, cls=1):
    return name(n) + struct.pack("!HHIH", t, cls, ttl, len(data)) + data


def parse_question(msg):
    """(id, flags, qname, qtype, qclass, end of question) of a message with one question, or None."""
    if len(msg) < 12:
        return None
    id_, flags, qd = struct.unpack("!HHH", msg[:6])
    if qd != 1:
        return None
    p, labels = 12, []
    while p < len(msg) and msg[p] != 0:
        ln = msg[p]
        labels.append(msg[p + 1:p + 1 + ln].decode("latin-1").lower())
        p += 1 + ln
    p += 1
    if p + 4 > len(msg):
        return None
    t, c = struct.unpack("!HH", msg[p:p + 4])
    return id_, flags, ".".join(labels), t, c, p + 4


def respond(args):
    v4, v6 = socket.inet_aton(args.v4), socket.inet_pton(socket.AF_INET6, args.v6)
    # What this host owns: its mDNS host name, one DNS-SD service, and its LLMNR (single-label) name.
    mdns_owned = {
        ("picket-host.local", A): [rr("picket-host.local", A, v4, cls=1 | FLUSH)],
        ("picket-host.local", AAAA): [rr("picket-host.local", AAAA, v6, cls=1 | FLUSH)],
        ("_http._tcp.local", PTR): [
            rr("_http._tcp.local", PTR, name("picket web._http._tcp.local"), ttl=4500),
            rr("picket web._http._tcp.local", SRV, struct.pack("!HHH", 0, 0, 80) + name("picket-host.local"), cls=1 | FLUSH),
            rr("picket web._http._tcp.local", TXT, b"\x06path=/", ttl=4500, cls=1 | FLUSH),
            rr("picket-host.local", A, v4, cls=1 | FLUSH),
        ],
    }
    llmnr_owned = {("fileserver", A): v4, ("fileserver", AAAA): v6}

    socks = []

    def udp(family, group, port, local):
        s = socket.socket(family, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET:
            s.bind(("0.0.0.0", port))
            s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, socket.inet_aton(group) + socket.inet_aton(local))
            s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(local))
            s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 255)
        else:
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            s.bind(("::", port))
            idx = socket.if_nametoindex("veth0")
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_JOIN_GROUP, socket.inet_pton(socket.AF_INET6, group) + struct.pack("@I", idx))
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_IF, idx)
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, 255)
        socks.append((s, family, group, port))

    udp(socket.AF_INET, MDNS4, 5353, args.v4)
    udp(socket.AF_INET6, MDNS6, 5353, args.v6)
    udp(socket.AF_INET, LLMNR4, 5355, args.v4)
    udp(socket.AF_INET6, LLMNR6, 5355, args.v6)
    tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    tcp.bind((args.v4, 5355))
    tcp.listen(4)
    open(args.ready, "w").write("ready\n")

    def llmnr_answer(msg):
        q = parse_question(msg)
        if q is None or q[1] & 0x8000:
            return None
        id_, _, qn, qt, qc, qend = q
        if (qn, qt) not in llmnr_owned:
            return None
        return header(id_, 0x8000, 1, 1) + msg[12:qend] + rr(qn, qt, llmnr_owned[(qn, qt)], ttl=30)

    deadline = time.time() + args.seconds
    while time.time() < deadline:
        ready, _, _ = select.select([s for s, *_ in socks] + [tcp], [], [], 0.2)
        for r in ready:
            if r is tcp:
                c, _ = tcp.accept()
                c.settimeout(2)
                data = b""
                while len(data) < 2 or len(data) < 2 + struct.unpack("!H", data[:2])[0]:
                    chunk = c.recv(4096)
                    if not chunk:
                        break
                    data += chunk
                ans = llmnr_answer(data[2:]) if len(data) >= 2 else None
                if ans is not None:
                    c.sendall(struct.pack("!H", len(ans)) + ans)
                c.close()
                continue
            s, family, group, port = next(x for x in socks if x[0] is r)
            msg, src = s.recvfrom(9000)
            if port == 5355:
                ans = llmnr_answer(msg)
                if ans is not None:
                    s.sendto(ans, src[:2] if family == socket.AF_INET else src)
                continue
            q = parse_question(msg)
            if q is None or q[1] & 0x8000:
                continue
            id_, _, qn, qt, qc, _ = q
            records = mdns_owned.get((qn, qt))
            if records is None:
                continue
            legacy = src[1] != 5353  # one-shot query: answer to its port, with its id and question (RFC 6762 6.7)
            if legacy:
                out = header(id_, 0x8400, 1, len(records)) + question(qn, qt) + b"".join(records)
                s.sendto(out, src)
            else:
                out = header(0, 0x8400, 0, len(records)) + b"".join(records)
                dest = (group, 5353) if not (qc & QU) else src
                s.sendto(out, dest)


QUERIES = [
    # (protocol, family, transport, name, type, how)
    ("mdns", 4, "udp", "picket-host.local", A, "qm"),
    ("mdns", 4, "udp", "_http._tcp.local", PTR, "qu"),
    ("mdns", 6, "udp", "picket-host.local", AAAA, "qm"),
    ("mdns", 4, "udp", "api.shodan.io", A, "qm"),
    ("mdns", 4, "udp", "picket-host.local", A, "oneshot"),
    ("llmnr", 4, "udp", "fileserver", A, ""),
    ("llmnr", 6, "udp", "fileserver", AAAA, ""),
    ("llmnr", 4, "udp", "search.censys.io", A, ""),
    ("llmnr", 4, "tcp", "fileserver", A, ""),
    ("llmnr", 4, "udp", "printer", A, ""),
]


def query(args):
    idx = socket.if_nametoindex("veth0")
    for n, (proto, fam, transport, qn, qt, how) in enumerate(QUERIES):
        qid = 0 if proto == "mdns" and how != "oneshot" else 0x5000 + n  # mDNS multicast queries carry id 0
        cls = 1 | (QU if how == "qu" else 0)
        msg = header(qid, 0, 1, 0) + question(qn, qt, cls)
        if transport == "tcp":
            c = socket.create_connection((args.peer4, 5355), timeout=2)
            c.sendall(struct.pack("!H", len(msg)) + msg)
            try:
                while c.recv(4096):
                    pass
            except socket.timeout:
                pass
            c.close()
            time.sleep(0.2)
            continue
        family = socket.AF_INET if fam == 4 else socket.AF_INET6
        s = socket.socket(family, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        port = 5353 if proto == "mdns" and how != "oneshot" else 0
        if fam == 4:
            s.bind((args.v4, port) if port == 0 else ("0.0.0.0", port))
            s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(args.v4))
            s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 255 if proto == "mdns" else 1)
            if port == 5353:
                s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, socket.inet_aton(MDNS4) + socket.inet_aton(args.v4))
            dest = (MDNS4 if proto == "mdns" else LLMNR4, 5353 if proto == "mdns" else 5355)
        else:
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            s.bind(("::", port))
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_IF, idx)
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, 255 if proto == "mdns" else 1)
            if port == 5353:
                s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_JOIN_GROUP, socket.inet_pton(socket.AF_INET6, MDNS6) + struct.pack("@I", idx))
            dest = (MDNS6 if proto == "mdns" else LLMNR6, 5353 if proto == "mdns" else 5355, 0, idx)
        s.sendto(msg, dest)
        end = time.time() + 1.0
        got = 0
        while time.time() < end:
            r, _, _ = select.select([s], [], [], max(0.0, end - time.time()))
            if not r:
                break
            s.recvfrom(9000)
            got += 1
        print(f"{proto} {transport}{fam} {qn} type {qt} {how}: {got} answer(s)")
        s.close()
        time.sleep(0.2)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["respond", "query"])
    ap.add_argument("--v4", required=True)
    ap.add_argument("--v6", required=True)
    ap.add_argument("--peer4")
    ap.add_argument("--ready")
    ap.add_argument("--seconds", type=float, default=60)
    args = ap.parse_args()
    respond(args) if args.mode == "respond" else query(args)


if __name__ == "__main__":
    sys.exit(main())
