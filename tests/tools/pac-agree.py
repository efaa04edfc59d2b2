#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""pac-agree.py - a PAC file evaluated by pacparser against `lookup --json`.

usage: pac-agree.py PAC CASES LOOKUP.json
  CASES: "URL<TAB>HOST" lines (export-cases.py pac); LOOKUP.json: the output
  of `o365bypass lookup --json` for the same URLs, one object a line.
Every answer must be DIRECT exactly where lookup says bypass; IPv6 literals
must get the proxy.  Prints "pac: N URLs, M mismatches" (and the first 20
mismatches); exit 0 when M is 0, 1 otherwise.  Needs Debian's
python3-pacparser (run it with /usr/bin/python3).
"""
import json
import sys

import pacparser


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    pac_file, cases_file, lookup_file = sys.argv[1:]
    verdict = {}
    for line in open(lookup_file, encoding="utf-8"):
        o = json.loads(line)
        verdict[o["input"]] = o
    pairs = [l.rstrip("\n").split("\t") for l in open(cases_file, encoding="utf-8") if l.strip()]
    pacparser.init()
    pacparser.parse_pac_string(open(pac_file, encoding="utf-8").read())
    bad = 0
    for url, host in pairs:
        answer = pacparser.find_proxy(url, host)
        want = "DIRECT" if verdict[url]["verdict"] == "bypass" else "PROXY"
        if not answer.startswith(want):
            bad += 1
            if bad <= 20:
                print("PAC MISMATCH %s: pac %s, lookup %s" % (url, answer, verdict[url]["header"]))
    for v6 in ("2603:1006::1", "[2603:1006::1]"):
        if pacparser.find_proxy("https://[2603:1006::1]/", v6) == "DIRECT":
            bad += 1
            print("PAC: IPv6 literal %s not sent to the proxy" % v6)
    pacparser.cleanup()
    print("pac: %d URLs, %d mismatches" % (len(pairs), bad))
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
