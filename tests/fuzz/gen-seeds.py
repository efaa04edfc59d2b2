#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""gen-seeds.py - (re)write the seed corpora of the fuzz targets.

Not part of the build: run it by hand after tests/data changes, then commit
the result.  It only adds or overwrites files in tests/fuzz/corpus/<target>/,
so inputs merged by `make fuzz FUZZ_MERGE=1` and crash-* regression seeds
stay.  Output is deterministic.

  loader   the four real feed files (byte-exact copies) plus hand-made edge
           cases: the cache wrapper, nulls, deep nesting, big numbers,
           unicode escapes, bad ports and CIDRs, duplicates, trailing data
  target   one input per row of tests/data/hostile-targets.tsv (escapes and
           {repeat} decoded; request line, then the Host values, joined by
           '\\n'), named by a short hash; rows over 16 KiB are left out
  headers  one header block per row of tests/data/hostile-targets.tsv (the
           request line, then "Host: VALUE" per Host value, then a User-Agent
           line, joined by '\\n'), the same in other Host spellings for a few,
           and hand-made blocks: nine Host lines, look-alike names, no colon
  matcher  every URL pattern of the feed files instantiated, plus look-alikes
           (apex, glued prefix, appended domain, wrong TLD, case and trailing
           dot, URL and host:port forms), each with the pattern as a line for
           the input-derived index; a few IP literals and pattern mixes

Usage: tests/fuzz/gen-seeds.py [SRCDIR]   (default: the tree this file is in)
"""
import hashlib
import json
import os
import re
import shutil
import struct
import sys

FEEDS = ["worldwide-2025-11-14.json", "worldwide-noipv6-post-2025-11-14.json",
         "china-2025-11-14.json", "usgovgcchigh-2025-11-14.json"]
TARGET_SEED_MAX = 16384


def short_hash(data):
    return hashlib.sha1(data).hexdigest()[:12]


def write(path, data):
    with open(path, "wb") as f:
        f.write(data)


# ---- target ---------------------------------------------------------------------

def expand_repeats(field):
    return re.sub(r"\{repeat:(\d+):([^}]*)\}", lambda m: m.group(2) * int(m.group(1)), field)


def decode_escapes(field):
    if field == "\\e":
        return b""
    out, i = bytearray(), 0
    raw = field.encode("latin-1")
    simple = {ord("t"): 9, ord("r"): 13, ord("n"): 10, ord("\\"): 92}
    while i < len(raw):
        c = raw[i]
        if c != 0x5C:
            out.append(c)
            i += 1
        elif raw[i + 1] in simple:
            out.append(simple[raw[i + 1]])
            i += 2
        elif raw[i + 1] == ord("x"):
            out.append(int(raw[i + 2:i + 4], 16))
            i += 4
        else:
            raise ValueError("bad escape in %r" % field)
    return bytes(out)


def target_seeds(src):
    seeds = []
    with open(os.path.join(src, "tests/data/hostile-targets.tsv"), encoding="latin-1") as f:
        for row in f:
            row = row.rstrip("\n")
            if not row or row.startswith("#"):
                continue
            fields = row.split("\t")
            parts = [decode_escapes(expand_repeats(x)) for x in fields[3:]]
            data = b"\n".join(parts)
            if len(data) <= TARGET_SEED_MAX:
                seeds.append(data)
    return seeds


# ---- headers --------------------------------------------------------------------

def header_seeds(src):
    seeds = []
    spellings = [b"Host: ", b"host:", b"HOST \t: "]
    with open(os.path.join(src, "tests/data/hostile-targets.tsv"), encoding="latin-1") as f:
        for n, row in enumerate(f):
            row = row.rstrip("\n")
            if not row or row.startswith("#"):
                continue
            fields = row.split("\t")
            parts = [decode_escapes(expand_repeats(x)) for x in fields[3:]]
            spelling = spellings[n % len(spellings)]
            lines = [parts[0]] + [spelling + v for v in parts[1:]] + [b"User-Agent: seed"]
            data = b"\n".join(lines)
            if len(data) <= TARGET_SEED_MAX:
                seeds.append(data)
    seeds += [
        b"GET / HTTP/1.1\n" + b"\n".join(b"Host: outlook.office.com" for _ in range(9)),
        b"GET / HTTP/1.1\n" + b"\n".join(b"X-Host: a%d.example" % i for i in range(9))
        + b"\nHost: outlook.office.com",
        b"GET http://outlook.office.com/ HTTP/1.1\nHostname: evil.example\nHost evil.example",
        b"CONNECT outlook.office.com:443 HTTP/1.1\nHost: outlook.office.com:443\n"
        b"Proxy-Connection: keep-alive",
        b"CONNECT outlook.office.com HTTP/1.1",
        b"GET / HTTP/1.1\nUser-Agent: x\nHost\t: outlook.office.com\nhost: evil.example",
        b"",
        b"\n\n\n",
    ]
    return seeds


# ---- matcher --------------------------------------------------------------------

def feed_sets(src):
    for name in FEEDS:
        with open(os.path.join(src, "tests/data", name), "rb") as f:
            for s in json.loads(f.read().decode("utf-8")):
                yield s


def first_port(s):
    ports = (s.get("tcpPorts") or "443").replace(" ", "").split(",")
    return int(ports[0].split("-")[0] or 443)


def lookalikes(pattern):
    """Hosts that a careless matcher might confuse with `pattern`."""
    if "*" not in pattern:
        label, _, rest = pattern.partition(".")
        return ["evil" + pattern, pattern + ".evil.example", label + "-evil." + rest]
    apex = pattern[pattern.rfind("*") + 1:].lstrip(".")
    return [apex,                     # "*.x.com" never matches "x.com"
            "evil" + apex,            # glued: "evilsharepoint.com"
            apex + ".evil.example"]   # appended domain


def instances(pattern):
    if "*" not in pattern:
        return [pattern, pattern.upper() + ".", "https://" + pattern + ":443/x"]
    return [pattern.replace("*", "contoso"), pattern.replace("*", "a.b-my")]


def matcher_input(port, host, *patterns):
    data = struct.pack(">H", port) + host.encode()
    for p in patterns:
        data += b"\n" + p.encode()
    return data


def matcher_seeds(src):
    seeds, seen = [], set()
    for s in feed_sets(src):
        port = first_port(s)
        ports = (s.get("tcpPorts") or "").replace(" ", "")
        for pattern in s.get("urls", []) or []:
            if pattern in seen:
                continue
            seen.add(pattern)
            line = pattern + (" " + ports if ports else "")
            for host in instances(pattern):
                seeds.append(matcher_input(port, host, line))
            for host in lookalikes(pattern):
                seeds.append(matcher_input(443, host, line))
        for cidr in (s.get("ips", []) or [])[:3]:
            addr = cidr.split("/")[0]
            host = "[%s]:443" % addr if ":" in addr else addr
            seeds.append(matcher_input(port, host, cidr + " " + ports))
    extra = [
        matcher_input(443, "contoso.sharepoint.com"),
        matcher_input(443, "contoso-my.sharepoint.com"),
        matcher_input(443, "evil-my.sharepoint.com"),
        matcher_input(443, "a.contoso.sharepoint.com"),
        matcher_input(443, "contoso.mail.onmicrosoft.com"),
        matcher_input(443, "autodiscover.contoso.onmicrosoft.com"),
        matcher_input(443, "autodiscover.evil.onmicrosoft.com"),
        matcher_input(443, "attacker.sharepoint.com"),
        matcher_input(443, "uploadx.office.net"),
        matcher_input(80, "intranet.example.com"),
        matcher_input(8080, "intranet.example.com"),
        matcher_input(443, "img.cdn.example.net"),
        matcher_input(443, "mycdn.contoso.example"),
        matcher_input(443, "198.51.100.7"),
        matcher_input(443, "[2001:db8::1]:443"),
        matcher_input(443, "52.112.1.1"),
        matcher_input(443, "2603:1063:1::1"),
        matcher_input(25, "contoso.mail.protection.outlook.com"),
        matcher_input(0, "outlook.office365.com"),
        matcher_input(993, "outlook.office365.com"),
        matcher_input(443, "foo.contoso.com", "*.contoso.com", "foo.*.com 443",
                      "*foo.contoso.com 80-90", "f*o.contoso.com 1-65535", "10.0.0.0/8"),
        matcher_input(443, "a.b.c.d.e.f", "*.c.d.e.f", "a.*.*.d.e.f 443", "*.*.e.f",
                      "a*f.d.e.f", "*b*.d.e.f 443,80"),
        matcher_input(443, "10.1.2.3", "10.0.0.0/8 443", "10.1.0.0/16 80", "10.1.2.0/24"),
        matcher_input(443, "[2603:1006::5]", "2603:1006::/40 443", "2603:1006::/64"),
        matcher_input(443, "contoso-my.sharepoint.com", "*-my.sharepoint.com"),
        matcher_input(443, "evil-my.sharepoint.com", "*-my.sharepoint.com"),
        matcher_input(443, "x-contoso.sharepoint.com", "x-*.sharepoint.com"),
        matcher_input(443, "a.contoso.sharepoint.com", "*.sharepoint.com", "a.*.sharepoint.com"),
        matcher_input(443, "contoso.mail.onmicrosoft.com", "*.onmicrosoft.com",
                      "*.mail.onmicrosoft.com"),
        # port first: a more specific entry for another port hides nothing
        matcher_input(443, "x.mail.protection.outlook.com"),
        matcher_input(443, "17gm.mail.protection.outlook.com", "*.mail.protection.outlook.com 25",
                      "*.protection.outlook.com 443"),
        matcher_input(80, "q.c.example.com", "*.c.example.com 25", "*.example.com 80,443",
                      "q.c.example.com 8443"),
        matcher_input(443, "10.1.3.1", "10.1.3.0/24 25", "10.1.0.0/16 443", "10.0.0.0/8 1-65535"),
        # tenant pinning: several stars, MX hosts, IP literals of set 31
        matcher_input(443, "contoso.sharepoint.com", "**.sharepoint.com", "*.*.sharepoint.com",
                      "*-*.sharepoint.com"),
        matcher_input(443, "evil.sharepoint.com", "**.sharepoint.com"),
        matcher_input(25, "contoso-com.mail.protection.outlook.com", "*.mail.protection.outlook.com 25"),
        matcher_input(25, "evil-com.mail.protection.outlook.com"),
        matcher_input(443, "evil-com.mail.protection.outlook.com", "*.protection.outlook.com 443"),
        matcher_input(25, "contoso-com.o-v1.mx.microsoft", "*.mx.microsoft 25", "*.*.mx.microsoft 25"),
        matcher_input(25, "evil-com.o-v1.mx.microsoft"),
        matcher_input(25, "fabrikam-com01b.mail.protection.outlook.com"),
        matcher_input(443, "13.107.136.9"),
        matcher_input(443, "[2603:1061:1300::5]:443"),
        matcher_input(25, "40.92.0.1"),
        # NeverBypass breadth: loose patterns and /0 in the input's own index
        matcher_input(443, "foo.de", "*", "*.de", "foo*", "0.0.0.0/0", "::/0"),
        matcher_input(443, "8.8.8.8", "0.0.0.0/0 1-65535", "8.0.0.0/7 443"),
        matcher_input(443, "[2001:db8::1]:443", "::/0", "2001:db8::/32 443"),
        matcher_input(443, "autodiscover.fabrikam.partner.onmschina.cn",
                      "autodiscover.*.onmschina.cn", "*.partner.onmschina.cn"),
        matcher_input(443, "aaaaaaaaaaaaaaaaaaaaaaab.example.com",
                      "*a*a*a*a*a*a*a*a*a*a*a*a*c.example.com"),
    ]
    return seeds + extra


# ---- loader -----------------------------------------------------------------------

def endpoint(id_, **kw):
    s = {"id": id_, "serviceArea": "Exchange", "category": "Optimize", "required": True}
    s.update(kw)
    return s


def loader_seeds():
    ww = endpoint(1, urls=["outlook.office.com", "*.outlook.com"], ips=["40.96.0.0/13"],
                  tcpPorts="80,443", udpPorts="443", expressRoute=True)
    sp = endpoint(2, serviceArea="SharePoint", category="Allow",
                  urls=["*.sharepoint.com", "autodiscover.*.onmicrosoft.com", "*cdn.onenote.net"],
                  tcpPorts="443", notes="n")
    small = [ww, sp]
    deep_obj = "{\"a\":" * 900 + "1" + "}" * 900
    return {
        "wrapper.json": json.dumps({"o365bypass": 1, "instance": "Worldwide",
                                    "version": "2025111400", "fetched": 1763078400,
                                    "source": "https://endpoints.office.com/endpoints/Worldwide",
                                    "endpoints": small}, indent=2),
        "wrapper-empty.json": json.dumps({"o365bypass": 1, "endpoints": []}),
        "wrapper-format-2.json": json.dumps({"o365bypass": 2, "endpoints": small}),
        "wrapper-no-endpoints.json": json.dumps({"o365bypass": 1, "version": 7}),
        "empty-array.json": "[]",
        "not-array.json": "\"endpoints\"",
        "nulls.json": json.dumps([endpoint(3, urls=None, ips=None, tcpPorts=None, udpPorts=None,
                                           notes=None, serviceAreaDisplayName=None,
                                           expressRoute=None)]),
        "blank-ports.json": json.dumps([endpoint(11, ips=["52.112.0.0/14"], udpPorts="",
                                                 tcpPorts=" ", notes="")]),
        "deep-array.json": "[" * 1200 + "]" * 1200,
        "deep-unknown-field.json": "[{\"id\":1,\"serviceArea\":\"Common\",\"category\":\"Default\","
                                   "\"required\":false,\"x\":" + deep_obj + "}]",
        "big-numbers.json": "[{\"id\":2147483647,\"serviceArea\":\"Skype\",\"category\":\"Allow\","
                            "\"required\":true},{\"id\":1e2,\"serviceArea\":\"MEM\","
                            "\"category\":\"Default\",\"required\":false,\"fetched\":1e308}]",
        "id-too-big.json": "[{\"id\":2147483648,\"serviceArea\":\"Skype\",\"category\":\"Allow\","
                           "\"required\":true}]",
        "id-fraction.json": "[{\"id\":1.5,\"serviceArea\":\"Skype\",\"category\":\"Allow\","
                            "\"required\":true}]",
        "id-negative.json": "[{\"id\":-1e400,\"serviceArea\":\"Skype\",\"category\":\"Allow\","
                            "\"required\":true}]",
        "unicode-escapes.json": "[{\"id\":5,\"serviceArea\":\"Exch\\u0061nge\",\"category\":"
                                "\"Optimi\\u007ae\",\"required\":true,\"urls\":[\"\\u002a.office"
                                ".com\",\"outlook.office.com\\u0000.evil.example\"],\"notes\":"
                                "\"\\ud83d\\ude00 \\u00e9\"}]",
        "unicode-lone-surrogate.json": "[{\"id\":5,\"serviceArea\":\"Exchange\",\"category\":"
                                       "\"Allow\",\"required\":true,\"notes\":\"\\ud800\"}]",
        "bad-ports.json": json.dumps([endpoint(i + 1, tcpPorts=p) for i, p in enumerate(
            ["80-", "0", "65536", "443-80", "80,,443", " 80 , 443 ", "1-65535", "8O",
             ",".join(str(n) for n in range(1, 70))])]),
        "bad-ip.json": json.dumps([endpoint(7, ips=["0.0.0.0/0", "::/0", "10.0.0.1/8",
                                                    "2603:1006::1/128", "::ffff:1.2.3.4/128",
                                                    "1.2.3.4", "01.2.3.4/32", "1.2.3.4/033"])]),
        "bad-urls.json": json.dumps([endpoint(8, urls=["*", "*.com", "foo*", "a..b.com",
                                                       "https://x.com/", "x.com:443", "EXAMPLE.COM.",
                                                       "-a.example.com", "?.example.com"])]),
        "category-lowercase.json": json.dumps([endpoint(9, category="optimize")]),
        "duplicates.json": json.dumps([endpoint(10, urls=["a.example.com", "A.example.com."]),
                                       endpoint(10, urls=["b.example.com"])]),
        "wrong-types.json": json.dumps([endpoint(12, required="true"), {"id": "1"}, 5, None]),
        "trailing-data.json": json.dumps(small) + "\n x",
        "trailing-nul.json": json.dumps(small) + "\n\0\0",
        "crlf.json": json.dumps(small, indent=2).replace("\n", "\r\n"),
        "long-notes.json": json.dumps([endpoint(13, notes="n" * 10000,
                                                serviceAreaDisplayName="D" * 5000)]),
        "area-names.json": json.dumps([endpoint(i + 20, serviceArea=a) for i, a in enumerate(
            ["Common", "MEM", "Intune", "skype", "a b.c_d-e", " x", "x" * 65, "", "Exch\"ange"])]),
        "many-urls.json": json.dumps([endpoint(14, urls=["h%d.example.com" % i
                                                         for i in range(300)])]),
    }


# ---- main ---------------------------------------------------------------------------

def main():
    src = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "..")
    corpus = os.path.join(src, "tests/fuzz/corpus")
    for t in ("loader", "target", "headers", "matcher"):
        os.makedirs(os.path.join(corpus, t), exist_ok=True)
    for name in FEEDS:
        shutil.copyfile(os.path.join(src, "tests/data", name), os.path.join(corpus, "loader", name))
    for name, text in loader_seeds().items():
        write(os.path.join(corpus, "loader", name), text.encode("utf-8"))
    for t, seeds in (("target", target_seeds(src)), ("headers", header_seeds(src)),
                     ("matcher", matcher_seeds(src))):
        unique = {short_hash(d): d for d in seeds}
        for h, d in unique.items():
            write(os.path.join(corpus, t, h), d)
        print("%s: %d seeds" % (t, len(unique)))


if __name__ == "__main__":
    main()
