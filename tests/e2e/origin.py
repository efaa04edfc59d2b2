#!/usr/bin/python3
"""origin.py - loopback origin server for the o365bypass end-to-end tests.

Listens on one loopback address and one or more ports: plain HTTP on each
--port (443 included: HTTPS tests tunnel plain HTTP through Squid's CONNECT),
HTTPS on each --tls-port.  Answers any method with 200 and a short text body
naming the Host, method, path, port and the number of request-body bytes it
read, so a test can tell the answer came from here and that an upload arrived
whole.  Request bodies of any size are read completely (Content-Length or
chunked).  Each request is also appended, line-flushed, to --log as
"port method host path bytes sha256 sni" (sha256 of the body, sni "-" on
plain ports or when the client sent none): the record of everything that
reached this origin.

TLS: --cert/--key is the default certificate; --sni-cert NAME=CERT:KEY serves
another one when the client's SNI is NAME (the choice is made per handshake,
in the connection's own thread, so a slow client never blocks the listener).

Python 3 standard library only.  It refuses non-loopback addresses.
"""

import argparse
import hashlib
import ipaddress
import os
import signal
import ssl
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MAX_LINE = 65536


class OriginHandler(BaseHTTPRequestHandler):
    """Answers every method the same way; see the module docstring."""

    protocol_version = "HTTP/1.1"
    server_version = "o3b-e2e-origin/1"
    timeout = 60  # seconds a kept-alive connection may stay idle
    log_lock = threading.Lock()

    def __getattr__(self, name):
        # BaseHTTPRequestHandler dispatches to do_<METHOD>: accept them all.
        if name.startswith("do_"):
            return self.answer_any_method
        raise AttributeError(name)

    def log_message(self, fmt, *args):  # keep stderr quiet
        return

    def setup(self):
        # TLS ports hand us an unfinished handshake: finish it here, in this
        # connection's thread (a failed handshake just ends the connection).
        if isinstance(self.request, ssl.SSLSocket):
            self.request.settimeout(self.timeout)
            self.request.do_handshake()
        super().setup()

    def read_chunked_body(self):
        total = 0
        while True:
            size_line = self.rfile.readline(MAX_LINE)
            if not size_line:
                raise ConnectionError("eof in chunk size")
            size = int(size_line.split(b";", 1)[0].strip() or b"0", 16)
            if size == 0:
                break
            total += self.discard(size)
            self.rfile.readline(MAX_LINE)  # CRLF after the chunk data
        while True:  # trailers up to the empty line
            line = self.rfile.readline(MAX_LINE)
            if line in (b"\r\n", b"\n", b""):
                break
        return total

    def discard(self, count):
        left = count
        while left > 0:
            data = self.rfile.read(min(left, 65536))
            if not data:
                raise ConnectionError("eof in body")
            self.body_hash.update(data)
            left -= len(data)
        return count

    def read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self.read_chunked_body()
        length = self.headers.get("Content-Length")
        return self.discard(int(length)) if length else 0

    def answer_any_method(self):
        self.body_hash = hashlib.sha256()
        body_bytes = self.read_body()
        host = self.headers.get("Host", "-")
        port = self.server.server_address[1]
        text = "origin ok host=%s method=%s path=%s port=%d bytes=%d\n" % (
            host, self.command, self.path, port, body_bytes)
        payload = text.encode("utf-8", "replace")
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)
        self.write_log(port, host, body_bytes)

    def write_log(self, port, host, body_bytes):
        log = self.server.request_log
        if log is None:
            return
        sni = getattr(self.request, "o3b_sni", None) or "-"
        with self.log_lock:
            log.write("%d %s %s %s %d %s %s\n" % (
                port, self.command, host, self.path, body_bytes,
                self.body_hash.hexdigest(), sni))
            log.flush()


class OriginServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64
    request_log = None
    tls_context = None  # set on TLS ports

    def handle_error(self, request, client_address):
        # A client that gave up or failed the TLS handshake: one line, no
        # traceback (origin.out.log stays readable).
        err = sys.exc_info()[1]
        print("origin.py: %s from %s: %s" % (type(err).__name__,
                                            client_address[0], err), file=sys.stderr)

    def get_request(self):
        sock, addr = super().get_request()
        if self.tls_context is not None:
            sock = self.tls_context.wrap_socket(
                sock, server_side=True, do_handshake_on_connect=False)
        return sock, addr


def server_context(cert, key):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    return ctx


def tls_context(args):
    """The default context; its SNI callback swaps in --sni-cert contexts."""
    default = server_context(args.cert, args.key)
    by_name = {}
    for spec in args.sni_cert:
        name, _, files = spec.partition("=")
        cert, _, key = files.partition(":")
        by_name[name.lower()] = server_context(cert, key)

    def choose(sslsock, name, _ctx):
        sslsock.o3b_sni = name
        if name and name.lower() in by_name:
            sslsock.context = by_name[name.lower()]
        return None

    default.sni_callback = choose
    return default


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--addr", default="127.0.0.42")
    parser.add_argument("--port", type=int, action="append", default=[])
    parser.add_argument("--tls-port", type=int, action="append", default=[])
    parser.add_argument("--cert", help="default TLS certificate (PEM)")
    parser.add_argument("--key", help="its private key (PEM)")
    parser.add_argument("--sni-cert", action="append", default=[],
                        metavar="NAME=CERT:KEY",
                        help="certificate for clients whose SNI is NAME")
    parser.add_argument("--log", help="append one line per request here")
    parser.add_argument("--ready-file", help="written once every port listens")
    args = parser.parse_args(argv)
    if not ipaddress.ip_address(args.addr).is_loopback:
        parser.error("refusing non-loopback address %s" % args.addr)
    if not args.port and not args.tls_port:
        parser.error("give at least one --port or --tls-port")
    if args.tls_port and not (args.cert and args.key):
        parser.error("--tls-port needs --cert and --key")
    return args


def main(argv):
    args = parse_args(argv)
    request_log = open(args.log, "a", encoding="utf-8") if args.log else None
    context = tls_context(args) if args.tls_port else None
    servers = []
    for port, tls in [(p, False) for p in args.port] + [(p, True) for p in args.tls_port]:
        try:
            server = OriginServer((args.addr, port), OriginHandler)
        except OSError as err:
            print("origin.py: cannot listen on %s:%d: %s"
                  % (args.addr, port, err), file=sys.stderr)
            return 2
        server.request_log = request_log
        server.tls_context = context if tls else None
        servers.append(server)
    for server in servers:
        threading.Thread(target=server.serve_forever, daemon=True).start()
    if args.ready_file:
        tmp = args.ready_file + ".tmp"
        with open(tmp, "w", encoding="utf-8") as ready:
            ready.write("%d\n" % os.getpid())
        os.rename(tmp, args.ready_file)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, lambda *_: stop.set())
    while not stop.wait(1):
        pass
    for server in servers:
        server.shutdown()
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
