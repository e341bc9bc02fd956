"""Shared by the truth.json programs of make-ssh.sh and make-recon.sh (python3 stdlib only; a module, not run).

Each script copies this file into its temp dir next to the program it writes there ($TMP/pkssh.py, $TMP/pkr.py),
so `import truthlib` works whichever python3 runs the program (make-ssh.sh uses /usr/bin/python3 for it, make-recon.sh
the first python3 on PATH) and no __pycache__ is written below pcaps/.

What is here: tshark's field output as dicts (tshark, multi, truthy), the raw frames of a pcap (frames), byte
escaping (esc), value counts (counts), the temp-dir tables the scripts write (read_tmp: versions.tsv, cmds.tsv,
skipped.tsv), nmap's XML script output (nmap_scripts), the JSON layout of truth.json and its writing (dump,
write_truth; capture_entry: a file's commands, packets and bytes), the checks' error collection (Checks),
the README's Markdown (md, files_table) and the command dispatch (main).
"""
import collections, json, struct, subprocess, sys

SEP = "\x1f"   # tshark's aggregator between the occurrences of one field


# ---------------------------------------------------------------- reading captures
def tshark(pcap, flt, fields):
    """tshark -T fields: one dict per packet (field -> text, "" when absent; all occurrences joined by SEP)."""
    cmd = ["tshark", "-n", "-r", pcap, "-T", "fields", "-E", "occurrence=a", "-E", "aggregator=" + SEP,
           "-E", "separator=\t"]
    if flt:
        cmd += ["-Y", flt]
    for f in fields:
        cmd += ["-e", f]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    rows = []
    for line in out.splitlines():
        r = line.split("\t")
        rows.append(dict(zip(fields, r + [""] * (len(fields) - len(r)))))
    return rows


def multi(v):
    """The occurrences of one tshark field value (a list, empty for "")."""
    return [x for x in v.split(SEP)] if v else []


def frames(pcap):
    """The link type and the raw frames of a classic little-endian pcap (what tcpdump -w writes here)."""
    data = open(pcap, "rb").read()
    magic, _, _, _, _, _, linktype = struct.unpack("<IHHiIII", data[:24])
    if magic not in (0xA1B2C3D4, 0xA1B23C4D):
        raise SystemExit(f"{pcap}: not a little-endian pcap")
    off, out = 24, []
    while off + 16 <= len(data):
        _, _, incl, _ = struct.unpack("<IIII", data[off:off + 16])
        out.append(data[off + 16:off + 16 + incl])
        off += 16 + incl
    return linktype, out


def truthy(v):
    """A tshark boolean field that is set ("1", or "True" in some versions' output)."""
    return v in ("1", "True")


def esc(b):
    """Bytes as text, Python-escaped (\\r, \\n, \\xNN)."""
    return b.decode("latin-1").encode("unicode_escape").decode()


def counts(xs):
    """value -> count, most frequent first (ties by value)."""
    return dict(sorted(collections.Counter(xs).items(), key=lambda kv: (-kv[1], str(kv[0]))))


# ---------------------------------------------------------------- the scripts' temp-dir tables
def read_tmp(tmp):
    """versions (tool -> version, versions.tsv), cmds (file -> [{tool, command}], cmds.tsv) and skipped (file or
    file:part -> reason, skipped.tsv, written by lib.sh's pk_skip)."""
    versions = dict(l.rstrip("\n").split("\t", 1) for l in open(f"{tmp}/versions.tsv"))
    cmds = collections.defaultdict(list)
    for l in open(f"{tmp}/cmds.tsv"):
        f, tool, c = l.rstrip("\n").split("\t", 2)
        cmds[f].append({"tool": tool, "command": c})
    skipped = dict(l.rstrip("\n").split("\t", 1) for l in open(f"{tmp}/skipped.tsv"))
    return versions, cmds, skipped


def nmap_scripts(root):
    """NSE script id -> its output, from the root of nmap's -oX XML."""
    return {s.get("id"): s.get("output").strip() for s in root.iter("script")}


# ---------------------------------------------------------------- truth.json
def capture_entry(e, pcap, commands):
    """A built file's entry e gets "commands", "packets" and "bytes" (in that order).  Returns the raw frames."""
    frames_ = frames(pcap)[1]
    e["commands"] = commands
    e["packets"] = len(frames_)
    e["bytes"] = sum(len(fr) for fr in frames_)
    return frames_


def dump(o, depth=0):
    """JSON with one item per line, but a list or object of plain values on one line when that line is short."""
    flat = json.dumps(o, ensure_ascii=False)
    if not isinstance(o, (dict, list)) or not o:
        return flat
    items = o.values() if isinstance(o, dict) else o
    if len(flat) <= 150 and not any(isinstance(v, (dict, list)) and v for v in items):
        return flat
    pad, end = " " * (depth + 1), " " * depth
    if isinstance(o, dict):
        body = [pad + json.dumps(k, ensure_ascii=False) + ": " + dump(v, depth + 1) for k, v in o.items()]
        return "{\n" + ",\n".join(body) + "\n" + end + "}"
    return "[\n" + ",\n".join(pad + dump(v, depth + 1) for v in o) + "\n" + end + "]"


def write_truth(doc, truth_path):
    """Write doc as truth.json (dump's layout, a final newline), after checking it reads back as doc."""
    text = dump(doc)
    assert json.loads(text) == doc, "truth.json does not read back as what was built"
    with open(truth_path, "w") as fh:
        fh.write(text + "\n")


# ---------------------------------------------------------------- checks
class Checks:
    """Collects failed checks; done() reports them (stderr, exit 1) or that all passed."""

    def __init__(self):
        self.errors = []

    def ok(self, cond, msg):
        if not cond:
            self.errors.append(msg)

    def capture(self, name, pcap, max_kb, link_and_addrs, our_macs, our_addrs):
        """The checks every capture gets: Ethernet link type, size below max_kb KB, only our MACs and addresses
        (link_and_addrs(pcap)["macs"] / ["addrs"]).  Returns what link_and_addrs found."""
        linktype, _ = frames(pcap)
        size = len(open(pcap, "rb").read())
        self.ok(linktype == 1, f"{name}: link type {linktype}, want 1 (Ethernet)")
        self.ok(size < max_kb * 1000, f"{name}: {size} bytes, want < {max_kb} KB")
        la = link_and_addrs(pcap)
        self.ok(set(la["macs"]) <= our_macs, f"{name}: foreign MACs {set(la['macs']) - our_macs}")
        self.ok(set(la["addrs"]) <= our_addrs, f"{name}: foreign addresses {set(la['addrs']) - our_addrs}")
        return la

    def done(self, nfiles):
        if self.errors:
            for m in self.errors:
                print("CHECK FAILED:", m, file=sys.stderr)
            raise SystemExit(1)
        print(f"all checks passed ({nfiles} files)")


# ---------------------------------------------------------------- README tables
def md(s):
    """Text for a Markdown table cell."""
    return str(s).replace("|", "\\|")


def files_table(t, extra=(), no_alert=lambda e: "none (benign)"):
    """The README's table of files in truth.json t: packets, bytes, tool, the extra columns ((heading, entry ->
    cell) each), the alerts expected (no_alert(entry) when none)."""
    heads = ["file", "packets", "bytes", "tool", *[h for h, _ in extra], "expect (rule: tool)"]
    print("| " + " | ".join(heads) + " |")
    print("|" + " --- |" * len(heads))
    for n, e in t["files"].items():
        if "skipped" in e:
            print(f"| `{n}` | - | - | {e['tool']} | " + "- | " * len(extra) + f"skipped: {md(e['skipped'])} |")
            continue
        exp = ", ".join(f"`{x['rule']}`: {x['tool']}" for x in e["expect"]) or no_alert(e)
        cells = "".join(f"{cell(e)} | " for _, cell in extra)
        print(f"| `{n}` | {e['packets']} | {e['bytes']} | {e['tool']} | {cells}{exp} |")


# ---------------------------------------------------------------- command line
def main(commands):
    """Run the program's command sys.argv[1]: commands maps its name to (function, number of arguments it takes
    from sys.argv[2:])."""
    cmd = sys.argv[1]
    if cmd not in commands:
        raise SystemExit(f"unknown command {cmd}")
    f, nargs = commands[cmd]
    f(*sys.argv[2:2 + nargs])
