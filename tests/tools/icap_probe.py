#!/usr/bin/python3
"""icap_probe.py - ask an o365bypass on c-icap what each child decides, for tests.

  icap_probe.py PORT PIDS MAXCONN TARGET...
      One line per child reached, "pid version target=decision ...": each
      connection is held open in turn (so c-icap hands the next one to
      another child) until every pid of PIDS (comma-separated) answered, or
      MAXCONN connections are open, or 8 s passed.  On each new child it sends
      OPTIONS (pid and version from X-O365bypass-Table), then one REQMOD per
      TARGET; the decision is the first word of X-O365bypass-Decision
      ("bypass", "inspect") or "-" when the answer has none.
  icap_probe.py --once PORT TARGET
      One REQMOD on a new connection: "STATUS DECISION-HEADER" (e.g.
      "204 bypass; set=1; ..." or "500 -").

A TARGET "host:port" or "[v6]:port" is sent as the CONNECT Squid sends for
it; "http://host/path" as a GET.  Loopback only; standard library only.
"""

import socket
import sys
import time


def read_head(sock):
    """The head of an ICAP answer without a body (OPTIONS, 204): anything
    after it on the connection is a protocol error."""
    buf = b""
    while b"\r\n\r\n" not in buf:
        data = sock.recv(4096)
        if not data:
            raise OSError("connection closed")
        buf += data
        if len(buf) > 65536:
            raise OSError("response head too large")
    head, rest = buf.split(b"\r\n\r\n", 1)
    if rest:
        raise OSError("unexpected bytes after the response head")
    return head.decode("latin-1")


def header(head, name):
    for line in head.split("\r\n")[1:]:
        key, sep, value = line.partition(":")
        if sep and key.strip().lower() == name.lower():
            return value.strip()
    return None


def options(sock, port):
    sock.sendall(("OPTIONS icap://127.0.0.1:%d/o365bypass ICAP/1.0\r\n"
                  "Host: 127.0.0.1:%d\r\nEncapsulated: null-body=0\r\n\r\n"
                  % (port, port)).encode())
    fields = {}
    for part in (header(read_head(sock), "X-O365bypass-Table") or "").split(";"):
        key, _, value = part.strip().partition("=")
        fields[key] = value
    return fields.get("pid", "?"), fields.get("version", "?")


def http_request(target):
    if target.startswith("http://"):
        host = target[7:].split("/", 1)[0]
        return "GET %s HTTP/1.1\r\nHost: %s\r\n\r\n" % (target, host)
    return "CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n" % (target, target)


def reqmod(sock, port, target):
    """(ICAP status, X-O365bypass-Decision or None) for one REQMOD."""
    http = http_request(target)
    sock.sendall(("REQMOD icap://127.0.0.1:%d/o365bypass ICAP/1.0\r\n"
                  "Host: 127.0.0.1:%d\r\nAllow: 204\r\nPreview: 0\r\n"
                  "Encapsulated: req-hdr=0, null-body=%d\r\n\r\n%s"
                  % (port, port, len(http), http)).encode())
    head = read_head(sock)
    status = head.split("\r\n", 1)[0].split(" ")
    return (status[1] if len(status) > 1 else "?"), header(head, "X-O365bypass-Decision")


def decision(sock, port, target):
    words = (reqmod(sock, port, target)[1] or "-").replace(";", " ").split()
    return words[0] if words else "-"


def every_child(port, want, max_conns, targets):
    held, seen = [], {}
    deadline = time.monotonic() + 8
    try:
        while len(held) < max_conns and not want <= set(seen) \
                and time.monotonic() < deadline:
            sock = socket.create_connection(("127.0.0.1", port), timeout=2)
            held.append(sock)
            try:
                pid, version = options(sock, port)
                if pid not in seen:
                    seen[pid] = [version] + ["%s=%s" % (t, decision(sock, port, t))
                                             for t in targets]
            except OSError:
                break  # no thread free anywhere: this round is over
    finally:
        for sock in held:
            sock.close()
    for pid in sorted(seen):
        print(pid, " ".join(seen[pid]))


def once(port, target):
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        status, value = reqmod(sock, port, target)
    print(status, value or "-")


def main():
    if sys.argv[1:2] == ["--once"]:
        once(int(sys.argv[2]), sys.argv[3])
    else:
        every_child(int(sys.argv[1]), set(sys.argv[2].split(",")), int(sys.argv[3]),
                    sys.argv[4:])


if __name__ == "__main__":
    main()
