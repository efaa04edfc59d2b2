#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""squid-model.py - evaluate exported Squid ACLs the way Squid does, against `lookup`.

Reads squid.conf fragments (the snippet `o365bypass export squid` prints and
the TLS file it writes), builds every `acl` they define, the files they load
included, and evaluates two rules on every case of `lookup --json` output:

  adaptation  the ACLs of the snippet's `adaptation_access ... deny ACL...`
              line (commented or not): matching means the DLP chain is
              skipped, i.e. bypassed;
  tls         the ACLs of the `ssl_bump splice ACL...` line (CONNECTs only):
              matching means spliced, i.e. bypassed.

Squid semantics modelled (Squid 5.7): dstdomain (".a.com" is a.com and
below, case-insensitive; -n: no reverse lookup, so an IP literal matches
no name), dstdom_regex [-n] [-i] (search), dst [-n] (addresses and
prefixes; a name matches nothing with -n), port (numbers and ranges),
method, proto, ssl::server_name and ssl::server_name_regex (at step 1: the
CONNECT host), at_step (step 1), all-of / any-of with '!' terms (each name
defined before it is used), several lines of one group ORed, several lines
of a list appended.  Malformed cases
(lookup's target_status is not "ok") are left out: Squid refuses or
canonicalises those itself.

usage: squid-model.py [--show N] [--known REGEX] --lookup LOOKUP.json CONF...
Prints one line per rule: "RULE: N cases, A agree, B wrongly bypassed, C
wrongly inspected (K known)" and the first N mismatches of each (default
20): "RULE MISMATCH input: acl bypass|inspect, lookup HEADER".  --known:
wrongly inspected cases whose input matches REGEX are what the lists are
known not to express (counted as K, not shown, not failing).
Exit 0 when every rule agrees on every other case, 1 otherwise, 2 on errors.
"""
import ipaddress
import json
import re
import shlex
import sys


class Acl:
    def __init__(self, kind, flags):
        self.kind, self.flags, self.values, self.groups = kind, flags, [], []


def read_values(words):
    """ACL values: literal words and "quoted file" contents."""
    out = []
    for w in words:
        if w.startswith("/") and w.endswith(".txt"):
            with open(w, encoding="utf-8") as f:
                out += [l.strip() for l in f if l.strip() and not l.startswith("#")]
        else:
            out.append(w)
    return out


def parse_conf(paths):
    acls, rules = {}, {}
    for path in paths:
        for line in open(path, encoding="utf-8"):
            text = line.strip()
            m = re.match(r"^#?\s*(adaptation_access\s+\S+\s+deny|ssl_bump\s+splice)\s+(.*)$", text)
            if m:
                rule = "adaptation" if m.group(1).startswith("adaptation") else "tls"
                rules.setdefault(rule, m.group(2).split())
                continue
            if not text.startswith("acl "):
                continue
            words = shlex.split(text)[1:]
            name, kind, rest = words[0], words[1], words[2:]
            flags = {w for w in rest if w in ("-n", "-i")}
            rest = [w for w in rest if w not in flags]
            acl = acls.setdefault(name, Acl(kind, flags))
            if acl.kind != kind:
                raise SystemExit("acl %s: type %s, then %s" % (name, acl.kind, kind))
            if kind in ("all-of", "any-of"):
                for member in rest:  # Squid refuses a name it has not seen yet
                    if member.lstrip("!") not in acls:
                        raise SystemExit("%s: acl %s uses %s before it is defined"
                                         % (path, name, member))
                acl.groups.append(rest)
            else:
                acl.values += read_values(rest)
    for acl in acls.values():
        compile_acl(acl)
    return acls, rules


def compile_acl(acl):
    if acl.kind in ("dstdom_regex", "ssl::server_name_regex"):
        acl.res = [re.compile(v, re.I if "-i" in acl.flags else 0) for v in acl.values]
    elif acl.kind == "dst":
        acl.nets = [ipaddress.ip_network(v, strict=False) for v in acl.values]
    elif acl.kind == "port":
        acl.ranges = [tuple(int(x) for x in (v.split("-") + [v])[:2]) for v in acl.values]
    elif acl.kind in ("dstdomain", "ssl::server_name"):
        acl.exact = {v.lower() for v in acl.values if not v.startswith(".")}
        acl.suffixes = [v.lower() for v in acl.values if v.startswith(".")]


def address(host):
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def match(acls, name, req):
    negate = name.startswith("!")
    acl = acls[name.lstrip("!")]
    return match_acl(acls, acl, req) != negate


def match_acl(acls, acl, req):
    host, k = req["host"], acl.kind
    if k == "all-of":
        return any(all(match(acls, n, req) for n in g) for g in acl.groups)
    if k == "any-of":
        return any(match(acls, n, req) for g in acl.groups for n in g)
    if k in ("dstdomain", "ssl::server_name"):
        h = host.lower()
        return h in acl.exact or any(h == s[1:] or h.endswith(s) for s in acl.suffixes)
    if k in ("dstdom_regex", "ssl::server_name_regex"):
        return any(r.search(host) for r in acl.res)
    if k == "dst":
        a = address(host)
        return a is not None and any(a.version == n.version and a in n for n in acl.nets)
    if k == "port":
        return any(lo <= req["port"] <= hi for lo, hi in acl.ranges)
    if k == "method":
        return req["method"] in acl.values
    if k == "proto":
        return req["proto"] in acl.values
    if k == "at_step":
        return "SslBump1" in acl.values
    raise SystemExit("acl type %s is not modelled" % k)


def request_of(o):
    connect = o["form"] == "connect"
    proto = "HTTPS" if o["input"].startswith("https://") else "HTTP"
    return {"host": o["host"], "port": o["port"], "method": "CONNECT" if connect else "GET",
            "proto": proto, "connect": connect}


def main():
    args, show, known = sys.argv[1:], 20, None
    while args[:1] in (["--show"], ["--known"]):
        if args[0] == "--show":
            show = int(args[1])
        else:
            known = re.compile(args[1])
        args = args[2:]
    if args[:1] != ["--lookup"] or len(args) < 3:
        sys.exit("usage: squid-model.py [--show N] [--known REGEX] --lookup LOOKUP.json CONF...")
    looked = [json.loads(l) for l in open(args[1], encoding="utf-8") if l.strip()]
    acls, rules = parse_conf(args[2:])
    bad_total = 0
    for rule in ("adaptation", "tls"):
        if rule not in rules:
            continue
        n = agree = wrong_bypass = wrong_inspect = n_known = 0
        for o in looked:
            if o["target_status"] != "ok":
                continue
            req = request_of(o)
            if rule == "tls" and not req["connect"]:
                continue
            got = all(match(acls, a, req) for a in rules[rule])
            want = o["verdict"] == "bypass"
            n += 1
            if got == want:
                agree += 1
                continue
            if not got and known is not None and known.search(o["input"]):
                n_known += 1
                continue
            if got:
                wrong_bypass += 1
            else:
                wrong_inspect += 1
            if wrong_bypass + wrong_inspect <= show:
                print("%s MISMATCH %s: acl %s, lookup %s" % (rule, o["input"],
                      "bypass" if got else "inspect", o["header"]))
        print("%s: %d cases, %d agree, %d wrongly bypassed, %d wrongly inspected (%d known)"
              % (rule, n, agree, wrong_bypass, wrong_inspect, n_known))
        bad_total += wrong_bypass + wrong_inspect
    sys.exit(1 if bad_total else 0)


if __name__ == "__main__":
    main()
