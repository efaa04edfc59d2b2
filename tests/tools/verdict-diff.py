#!/usr/bin/env python3
"""verdict-diff.py - what two builds of `o365bypass lookup` decide differently.

For every entry of each endpoint table given (an exact host; one concrete
host per pattern, every '*' replaced by "x"; one address inside each prefix,
the network address plus one), on every TCP port the table lists plus 80
and 443, ask both CLIs (`lookup --json`, default policy unless -c names a
configuration) and print one line per target whose decision differs:

    TABLE  TARGET  OLD-HEADER  ->  NEW-HEADER

then a summary per table (targets, verdict changes, explanation-only
changes: same verdict, other reason, set or match).  Exit 0, or 2 on errors.

usage: verdict-diff.py OLD_CLI NEW_CLI [-c CONF] TABLE.json...
"""
import ipaddress
import json
import subprocess
import sys


def targets(path):
    sets = json.load(open(path, encoding="utf-8-sig"))
    ports = {80, 443}
    hosts, addrs = [], []
    for s in sets:
        for part in (s.get("tcpPorts") or "").replace(" ", "").split(","):
            if part:
                lo, _, hi = part.partition("-")
                ports.update(range(int(lo), int(hi or lo) + 1))
        for u in s.get("urls", []):
            h = u.lower().replace("*", "x")
            if h not in hosts:
                hosts.append(h)
        for ip in s.get("ips", []):
            n = ipaddress.ip_network(ip)
            a = n.network_address + (1 if n.num_addresses > 1 else 0)
            t = "[%s]" % a if n.version == 6 else str(a)
            if t not in addrs:
                addrs.append(t)
    return ["%s:%d" % (h, p) for h in hosts + addrs for p in sorted(ports)]


def decide(cli, conf, table, items):
    cmd = [cli, "-q", "-c", conf, "-t", table, "lookup", "--json"] + items
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode not in (0, 1):
        sys.exit("%s failed (%d): %s" % (cli, out.returncode, out.stderr.strip()))
    return {o["input"]: o["header"] for o in map(json.loads, out.stdout.splitlines())}


def main(argv):
    if len(argv) < 4:
        sys.exit(__doc__)
    old_cli, new_cli, rest = argv[1], argv[2], argv[3:]
    conf = "/dev/null"
    if rest[:1] == ["-c"]:
        conf, rest = rest[1], rest[2:]
    summary = []
    for table in rest:
        items = targets(table)
        old, new = decide(old_cli, conf, table, items), decide(new_cli, conf, table, items)
        verdicts = explained = 0
        for t in items:
            if old[t] == new[t]:
                continue
            if old[t].split(";")[0] != new[t].split(";")[0]:
                verdicts += 1
                kind = "VERDICT"
            else:
                explained += 1
                kind = "reason "
            print("%s  %s  %-40s  %s  ->  %s" % (kind, table.rsplit("/", 1)[-1], t, old[t], new[t]))
        summary.append("%s: %d targets, %d verdict changes, %d explanation-only changes"
                       % (table.rsplit("/", 1)[-1], len(items), verdicts, explained))
    print("\n".join(summary))


if __name__ == "__main__":
    main(sys.argv)
