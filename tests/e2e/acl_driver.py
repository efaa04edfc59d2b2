#!/usr/bin/python3
"""acl_driver.py - o365bypass-acl through its binary, next to the module in c-icap.

Two subcommands for tests/e2e/e2e-acl.sh (standard library only):

  compare   the same destinations through the helper and through the module
            (a real c-icap, REQMOD of the request Squid would send) must get
            the same verdict: OK exactly when the module bypasses.  Cases:
            every CONNECT row of tests/data/hostile-targets.tsv without a Host
            header (the helper never sees a Host header; Squid's %DST for a
            CONNECT is its authority), raw bytes escaped as Squid escapes
            %DST; and the real table: every exact host and an instance of
            every pattern (plus look-alikes) on each port its set lists and on
            80, 443, 25 and 8443, every prefix's first address and the
            addresses just outside it, each as a CONNECT (module: CONNECT
            host:port with Host: host:port) and as plain http (helper token
            %>rs = http; module: GET http://host:port/ with Host).  All lines
            go to the helper in one write with channel IDs, which must come
            back in order.
  protocol  Squid's protocol through the binary: channel IDs echoed, a line
            split across writes, an overlong line (discarded, answered ERR on
            its channel, the next line still answered), "-" values, hundreds
            of lines in one write, EOF inside a line (ERR, then exit 0), EOF
            (exit 0); no answer may be OK for a malformed line, nothing may
            hang (every read is bounded).

Prints "not ok: ..." per failure and a summary; exit status 0 when all held,
1 otherwise, 2 when it could not run.
"""
import argparse
import importlib.util
import ipaddress
import json
import os
import queue
import select
import socket
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.abspath(os.path.join(HERE, "..", ".."))
_spec = importlib.util.spec_from_file_location("gen_seeds", os.path.join(TOP, "tests/fuzz/gen-seeds.py"))
gen_seeds = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(gen_seeds)  # the corpus decoder and look-alikes: one copy

SQUID_ESCAPED = set(b"\"#<>[\\]^`{|}~' ")
FAILURES = []


def fail(msg):
    FAILURES.append(msg)
    if len(FAILURES) <= 40:
        print("  not ok: " + msg, flush=True)


# ---- the helper ----------------------------------------------------------------------

class Helper:
    """The binary on pipes; every read bounded by `timeout` seconds."""

    def __init__(self, binary, config, timeout=10.0):
        self.p = subprocess.Popen([binary, "-c", config], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.timeout = timeout
        self.buf = b""
        self.queue = queue.Queue()
        self.writer = threading.Thread(target=self._writer, daemon=True)
        self.writer.start()

    def write(self, data, wait=True):
        """Queue `data` for the one writer thread (writes stay in order); with
        wait=False return at once: a big write must not wait, since the
        helper answers while it reads and both pipes would fill."""
        self.queue.put(data)
        if wait:
            self.queue.join()

    def _writer(self):
        while True:
            data = self.queue.get()
            try:
                if data is not None:
                    self.p.stdin.write(data)
                    self.p.stdin.flush()
            except OSError:
                pass
            self.queue.task_done()
            if data is None:
                return

    def lines(self, n):
        """The next n reply lines (fewer if the time runs out or stdout ends)."""
        out, deadline = [], time.monotonic() + self.timeout
        fd = self.p.stdout.fileno()
        while len(out) < n:
            while b"\n" in self.buf and len(out) < n:
                line, self.buf = self.buf.split(b"\n", 1)
                out.append(line.decode("latin-1"))
            if len(out) == n:
                break
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                break
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                break
            self.buf += chunk
        return out

    def silent_for(self, seconds):
        """True when nothing arrives on stdout for `seconds`."""
        return not self.buf and not select.select([self.p.stdout.fileno()], [], [], seconds)[0]

    def close(self, seconds=5):
        """Close stdin; the exit status (None if it did not exit in time)."""
        self.queue.put(None)
        self.writer.join(self.timeout)  # bounded: a stuck helper must not hang the test
        self.p.stdin.close()
        try:
            return self.p.wait(seconds)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
            return None
        finally:
            self.p.stdout.close()
            self.p.stderr.close()


def verdict_of(reply):
    word = reply.split(" ", 2)
    return word[1] if len(word) > 1 and word[0].isdigit() else word[0]


# ---- the module in c-icap ----------------------------------------------------------

class Icap:
    """REQMODs on one persistent connection (reopened when c-icap closes it)."""

    def __init__(self, port):
        self.port = port
        self.sock = None

    def _head(self):
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("c-icap closed the connection")
            data += chunk
        return data.split(b"\r\n\r\n", 1)[0].decode("latin-1")

    def decision(self, http_head):
        """The module's X-O365bypass-Decision for an encapsulated header block."""
        for attempt in (1, 2):
            try:
                if self.sock is None:
                    self.sock = socket.create_connection(("127.0.0.1", self.port), timeout=10)
                self.sock.sendall(b"REQMOD icap://127.0.0.1:%d/o365bypass ICAP/1.0\r\n"
                                  b"Host: 127.0.0.1:%d\r\nAllow: 204\r\nPreview: 0\r\n"
                                  b"Encapsulated: req-hdr=0, null-body=%d\r\n\r\n%s"
                                  % (self.port, self.port, len(http_head), http_head))
                head = self._head()
                break
            except (OSError, ConnectionError):
                if self.sock is not None:
                    self.sock.close()
                self.sock = None
                if attempt == 2:
                    raise
        value = "-"
        for line in head.split("\r\n")[1:]:
            name, _, rest = line.partition(":")
            if name.strip().lower() == "x-o365bypass-decision":
                value = rest.strip()
            if name.strip().lower() == "connection" and rest.strip().lower() == "close":
                self.sock.close()
                self.sock = None
        return value


# ---- cases ------------------------------------------------------------------------------

def squid_escape(raw):
    """%DST as Squid writes it: lower-cased, %XX (upper-case hex) for what it escapes."""
    out = []
    for c in raw.lower():
        out.append("%%%02X" % c if c in SQUID_ESCAPED or c < 0x20 or c >= 0x7f else chr(c))
    return "".join(out)


def corpus_cases(path):
    """(tokens, module request) for every CONNECT row without a Host header."""
    cases, skipped = [], 0
    with open(path, encoding="latin-1") as f:
        for row in f:
            row = row.rstrip("\n")
            if not row or row.startswith("#"):
                continue
            fields = row.split("\t")
            line = gen_seeds.decode_escapes(gen_seeds.expand_repeats(fields[3]))
            parts = line.split(b" ")
            if (len(fields) > 4 or len(parts) != 3 or parts[0] != b"CONNECT" or
                    any(c < 0x20 or c == 0x7f for c in line) or len(line) > 4000):
                skipped += 1
                continue
            auth = parts[1]
            if auth.startswith(b"["):
                end = auth.find(b"]")
                host, port = (auth[:end + 1], auth[end + 2:]) if end >= 0 else (auth, b"")
                port = port if auth[end + 1:end + 2] == b":" else b""
            else:
                host, _, port = auth.rpartition(b":") if b":" in auth else (auth, b"", b"")
            tokens = "%s %s - -" % (squid_escape(host), port.decode("latin-1") or "-")
            cases.append(("corpus", tokens, line + b"\r\n\r\n"))
    return cases, skipped


def table_hosts(sets):
    """Every exact host, an instance of every pattern, and look-alikes, with the
    set's ports."""
    for s in sets:
        ports = set()
        for part in (s.get("tcpPorts") or "").replace(" ", "").split(","):
            if part:
                lo, _, hi = part.partition("-")
                ports.update({int(lo), int(hi or lo)})
        ports.update({80, 443, 25, 8443})
        for url in s.get("urls", []) or []:
            url = url.lower()
            hosts = [url] if "*" not in url else [url.replace("*", f) for f in ("contoso", "a.b-my")]
            for h in hosts + gen_seeds.lookalikes(url):
                for port in sorted(ports):
                    yield h, h, port
        for cidr in s.get("ips", []) or []:
            net = ipaddress.ip_network(cidr)
            addrs = [net.network_address + 1, net.network_address - 1, net.broadcast_address + 1]
            for a in addrs:
                for port in (443, 80):
                    if a.version == 6:
                        yield "%5B" + str(a) + "%5D", "[%s]" % a, port
                    else:
                        yield str(a), str(a), port


def table_cases(path):
    with open(path, encoding="utf-8") as f:
        sets = json.load(f)
    cases, seen = [], set()
    for token, host, port in table_hosts(sets):
        if (token, port) in seen:
            continue
        seen.add((token, port))
        authority = ("%s:%d" % (host, port)).encode()
        cases.append(("connect", "%s %d - -" % (token, port),
                      b"CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n" % (authority, authority)))
        cases.append(("http", "%s %d - http -" % (token, port),
                      b"GET http://%s/ HTTP/1.1\r\nHost: %s\r\n\r\n" % (authority, authority)))
    return cases


def compare(args):
    corpus, skipped = corpus_cases(args.corpus)
    cases = corpus + table_cases(args.table)
    helper = Helper(args.helper, args.config, timeout=60)
    helper.write("".join("%d %s\n" % (i % 1000, c[1]) for i, c in enumerate(cases)).encode(),
                 wait=False)
    replies = helper.lines(len(cases))
    status = helper.close()
    if len(replies) != len(cases):
        fail("helper answered %d of %d lookups" % (len(replies), len(cases)))
    if status != 0:
        fail("helper exit status at EOF: %s" % status)
    icap = Icap(args.icap_port)
    tally = {}
    for i, (kind, tokens, head) in enumerate(cases[:len(replies)]):
        reply = replies[i]
        if not reply.startswith("%d " % (i % 1000)):
            fail("channel %d not echoed: %.60s" % (i % 1000, reply))
            continue
        helper_ok = verdict_of(reply) == "OK"
        module = icap.decision(head)
        module_bypass = module.startswith("bypass")
        if module == "-":
            fail("%s: the module gave no decision for %r" % (kind, head[:80]))
        t = tally.setdefault(kind, [0, 0])
        t[0] += 1
        t[1] += module_bypass
        if helper_ok != module_bypass:
            fail("%s '%s': helper %s, module '%s'" % (kind, tokens, reply[:70], module))
    for kind, (n, bypassed) in sorted(tally.items()):
        print("compare %-8s %5d cases, %4d bypassed by the module" % (kind, n, bypassed))
    print("compare: %d cases, corpus rows skipped (Host header, not CONNECT, control bytes): %d"
          % (len(cases), skipped))
    for kind in ("corpus", "connect", "http"):
        n, bypassed = tally.get(kind, [0, 0])
        if n < 50 or bypassed == 0 or bypassed == n:
            fail("too few %s cases or one verdict only: %d cases, %d bypassed" % (kind, n, bypassed))


# ---- protocol ---------------------------------------------------------------------------

def expect(reply, prefix, what, note=None):
    if not reply.startswith(prefix) or (note and note not in reply):
        fail("%s: expected '%s...'%s, got '%.90s'" % (what, prefix,
             " with " + note if note else "", reply))


def protocol(args):
    h = Helper(args.helper, args.config)
    h.write(b"3 outlook.office.com 443 - -\n")
    expect((h.lines(1) or [""])[0], "3 OK ", "a lookup with channel 3",
           "o365bypass_verdict=bypass")
    # a line split across writes: nothing until its newline, then one reply
    h.write(b"4 outlook.off")
    if not h.silent_for(0.3):
        fail("answered a line before its newline")
    h.write(b"ice.com 443")
    if not h.silent_for(0.3):
        fail("answered a line before its newline (second part)")
    h.write(b" - -\n5 www.example.org 443 - -\n")
    got = h.lines(2)
    expect((got + [""])[0], "4 OK ", "the line split over three writes")
    expect((got + ["", ""])[1], "5 ERR ", "the line after it", "o365bypass_reason=not-listed")
    # an overlong line, over several writes, then a good one
    h.write(b"6 outlook.office.com" + b"x" * 5000)
    h.write(b"x" * 20000)
    if not h.silent_for(0.3):
        fail("answered an overlong line before its newline")
    h.write(b" 443 - -\n7 outlook.office.com 443 - -\n")
    got = h.lines(2)
    expect((got + [""])[0], "6 ERR ", "an overlong line", "detail=overlong-line")
    expect((got + ["", ""])[1], "7 OK ", "the line after an overlong one")
    # "-" values: no host, no port; a dash SNI and scheme are just absent
    h.write(b"8 - 443 - -\n9 outlook.office.com - - -\n10 outlook.office.com 443 - - -\n"
            b"11 outlook.office.com 80 - http -\n12 evil.example 443 outlook.office.com -\n")
    got = h.lines(5) + [""] * 5
    expect(got[0], "8 ERR ", "%DST '-'", "o365bypass_detail=no-host")
    expect(got[1], "9 ERR ", "%PORT '-'", "o365bypass_detail=no-port")
    expect(got[2], "10 OK ", "'-' for %ssl::>sni, %>rs and %DATA")
    expect(got[3], "11 OK ", "plain http (%>rs http)")
    expect(got[4], "12 ERR ", "a forged SNI", "o365bypass_reason=sni-mismatch")
    # hundreds of lines in one write, answered in order
    hosts = ["outlook.office.com", "www.example.org", "%5B2603:1006::1%5D", "8.8.8.8",
             "outlook.office.co%6D", "x" * 300]
    batch = "".join("%d %s 443 - -\n" % (i, hosts[i % len(hosts)]) for i in range(600))
    h.write(batch.encode(), wait=False)
    got = h.lines(600)
    if len(got) != 600:
        fail("600 lines in one write: %d replies" % len(got))
    for i, reply in enumerate(got):
        want = "%d %s " % (i, "OK" if i % len(hosts) in (0, 2) else "ERR")
        if not reply.startswith(want):
            fail("line %d of the batch: expected '%s...', got '%.60s'" % (i, want, reply))
            break
    if h.close() != 0:
        fail("exit status at EOF after the lookups")
    truncated_eof(args)
    h = Helper(args.helper, args.config)
    if h.close() != 0:
        fail("exit status at EOF without any input")


def truncated_eof(args):
    """EOF inside a line: one ERR reply on its channel, exit status 0."""
    p = subprocess.run([args.helper, "-c", args.config], input=b"13 outlook.office.com 443",
                       capture_output=True, timeout=10)
    expect(p.stdout.decode("latin-1"), "13 ERR ", "EOF inside a line", "detail=truncated-line")
    if p.returncode != 0:
        fail("exit status after EOF inside a line: %d" % p.returncode)


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    for name in ("compare", "protocol"):
        p = sub.add_parser(name)
        p.add_argument("--helper", required=True)
        p.add_argument("--config", required=True)
    sub.choices["compare"].add_argument("--icap-port", type=int, required=True)
    sub.choices["compare"].add_argument("--table", required=True)
    sub.choices["compare"].add_argument("--corpus", required=True)
    args = ap.parse_args()
    try:
        compare(args) if args.cmd == "compare" else protocol(args)
    except (OSError, subprocess.SubprocessError) as e:
        print("acl_driver: %s" % e, file=sys.stderr)
        return 2
    print("%s: %d failure(s)" % (args.cmd, len(FAILURES)))
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
