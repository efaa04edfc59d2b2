#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""export-cases.py - held-out cases for the PAC and Squid exports.

The exporters never see these cases: they are generated from the endpoint
tables alone, so comparing an export's answer on them with `o365bypass
lookup` measures the export, not a list it was tuned on.

Hosts: every exact URL of the tables, look-alikes of each ("x" + host,
host + ".evil.example", "www." + host), every URL pattern instantiated with
a dozen fills (tenant names, forms, MX labels, several labels), each
pattern's literal tail and look-alikes of it, the network, middle and
broadcast addresses of every IPv4 and IPv6 prefix and the addresses just
outside it, hosts of every tenant namespace (yours and others', every form,
several depths) and a few fixed odd ones (the local lists of the test
policies, malformed names).

usage: export-cases.py pac TABLE.json...    "URL<TAB>HOST" lines for pacparser
       export-cases.py squid TABLE.json...  `lookup` arguments, one a line:
                                            every host as a CONNECT on every
                                            TCP port the tables list plus 80,
                                            443 and 8443, and plain http to
                                            ports 80 and 443
Deterministic: the same tables give the same lines in the same order.
"""
import ipaddress
import json
import sys

FILLS = ("a", "a.b", "contoso", "contoso-my", "contoso-files", "fabrikam", "contoso.mail", "evil",
         "x-y", "contoso-com", "contoso-com.o-v1", "evil-com")

# tenant.c's namespaces, with yours and others' tenant parts
NAMESPACES = ("sharepoint.com", "sharepoint.us", "sharepoint-mil.us", "sharepoint.de",
              "sharepoint.cn", "onmicrosoft.com", "mail.onmicrosoft.com", "onmicrosoft.us",
              "mail.onmicrosoft.us", "onmicrosoft.de", "onmschina.cn", "partner.onmschina.cn",
              "mail.protection.outlook.com", "mail.protection.office365.us",
              "mail.protection.partner.outlook.cn", "mx.microsoft", "usgovcloud-mx.microsoft")
TENANT_PARTS = ("contoso", "contoso-my", "evil", "a.contoso", "autodiscover.contoso",
                "contoso.mail", "contoso-com", "evil-com", "fabrikam-com01b", "contoso-com.o-v1",
                "evil-com.o-v1", "contoso-com.a.b")

# the local lists of the test policies (tests/scripts/export-agree.sh), odd forms
FIXED = ("example.org", "localhost", "intranet", "intranet.example.com", "a.partner.example.net",
         "partner.example.net", "8.8.8.8", "10.9.1.2", "10.10.0.1", "52.96.0.1", "52.96.0.2",
         "evil.sharepoint.com", "x.evil.sharepoint.com", "login.microsoftonline.com",
         "OUTLOOK.Office.COM", "outlook.office.com.", "contoso.sharepoint.com.",
         "a_b.sharepoint.com", "-a.sharepoint.com", "1.2.3.04", "0x34.96.1.1", "52.96.1",
         "sharepoint.com.example.org", "evilsharepoint.com", "outlook.office.com.evil.example")


def load(paths):
    return [s for p in paths for s in json.load(open(p, encoding="utf-8-sig"))]


def tcp_ports(sets):
    """Every TCP port the sets list (ranges expanded when short)."""
    ports = set()
    for s in sets:
        for part in (s.get("tcpPorts") or "").replace(" ", "").split(","):
            if not part:
                continue
            lo, _, hi = part.partition("-")
            lo, hi = int(lo), int(hi or lo)
            ports.update(range(lo, hi + 1) if hi - lo < 8 else (lo, hi))
    return ports


def around(net):
    """Addresses inside a prefix and just outside it."""
    first, last = net.network_address, net.broadcast_address
    inside = {first, first + net.num_addresses // 2, last}
    outside = set()
    if int(first) > 0:
        outside.add(first - 1)
    if int(last) < (1 << net.max_prefixlen) - 1:
        outside.add(last + 1)
    return inside | outside


def hosts_of(sets, with_v6):
    hosts = set()
    for s in sets:
        for u in s.get("urls", []):
            u = u.lower()
            if "*" not in u:
                hosts.update({u, "x" + u, u + ".evil.example", "www." + u})
                continue
            for fill in FILLS:
                hosts.add(u.replace("*", fill))
            tail = u[u.rindex("*") + 1:].lstrip(".")
            hosts.update({tail, "evil" + tail, tail + ".example.org"})
        for ip in s.get("ips", []):
            net = ipaddress.ip_network(ip)
            if net.version == 4 or with_v6:
                hosts.update(str(a) for a in around(net))
    hosts.update(FIXED)
    for ns in NAMESPACES:
        for part in TENANT_PARTS:
            hosts.add(part + "." + ns)
    return sorted(hosts)


def pac_cases(sets):
    for h in hosts_of(sets, with_v6=False):
        print("http://%s/\t%s" % (h, h))
        print("https://%s/some/path?q=1\t%s" % (h, h))
    for h in ("outlook.office.com", "contoso.sharepoint.com", "52.96.1.1", "40.92.0.1",
              "outlook.office365.com", "x.mail.protection.outlook.com",
              "contoso-com.mail.protection.outlook.com", "evil-com.mail.protection.outlook.com",
              "contoso-com.o-v1.mx.microsoft", "x.protection.partner.outlook.cn",
              "r4.partner.outlook.cn", "13.107.136.9", "smtp.office365.com"):
        for port in ("8443", "80", "443", "25", "587", "993"):
            print("https://%s:%s/\t%s" % (h, port, h))
        print("http://%s:443/\t%s" % (h, h))  # plain http to 443: decrypted, inspected
    print("ftp://outlook.office.com/\toutlook.office.com")


def squid_cases(sets):
    ports = sorted(tcp_ports(sets) | {80, 443, 8443})
    for h in hosts_of(sets, with_v6=True):
        if h != h.lower() or h.endswith(".") or "_" in h:
            continue  # Squid canonicalises or refuses these itself
        authority = "[%s]" % h if ":" in h else h
        for port in ports:
            print("%s:%d" % (authority, port))
        print("http://%s/" % authority)
        print("http://%s:443/" % authority)


def main():
    if len(sys.argv) < 3 or sys.argv[1] not in ("pac", "squid"):
        sys.exit("usage: export-cases.py pac|squid TABLE.json...")
    sets = load(sys.argv[2:])
    (pac_cases if sys.argv[1] == "pac" else squid_cases)(sets)


if __name__ == "__main__":
    main()
