#!/usr/bin/python3
"""feedserver.py - a loopback stand-in for Microsoft's endpoint web service, for tests.

Serves the shape of https://endpoints.office.com from real files on 127.0.0.1:

  GET /version[/<instance>]?ClientRequestId=<guid>        version record(s)
  GET /endpoints/<instance>?ClientRequestId=<guid>&...    the current data file, byte-exact

Instance names, method names and query parameter names are case-insensitive;
a missing or malformed ClientRequestId, an unknown instance or an unknown
service area gets a 400 with a small JSON error object (the status is what
Microsoft sends; the body text is ours).  The request target may also be in
absolute form ("GET http://host/version/..."), so the server can stand in for
an HTTP proxy in tests.

Tests drive it through a control API (GET or POST):

  /_control?version=V&file=PATH      current version and data file (relative
                                     paths are taken from the repository top)
  /_control?fault=NAME[&target=version|endpoints|all][&retry_after=VALUE]
           [&retry_after_in=SECONDS] a fault mode; fault=none clears it
  /_control?clear_requests=1         forget the request log
  /_control                          just report the state
  /_requests[?clear=1]               the request log as JSON (then clear it)

Faults: 500, 404, 429 (Retry-After: VALUE verbatim, default 3600, "none" for
no Retry-After header, or an HTTP-date SECONDS from now with retry_after_in), refuse (close without a
response), hang (read the request, never answer; bounded by HANG_CAP_S),
drip (headers, then one body byte per second), truncated (full Content-Length,
half the bytes, close), invalid-json, wrong-shape ({"error":"x"}),
empty-array ([]), huge (a valid ~50 MB JSON array, chunked, no length),
garbage-version (/version answers non-JSON; /endpoints is unaffected),
redirect-once (302 to the same URL plus _redirected=1, then normal; every
302 also carries "Retry-After: 5"),
redirect-loop (302 to itself forever), redirect-ftp (302 to an ftp:// URL),
redirect-to (302 to the same path and query on another server: the
control request's base=http[s]://HOST:PORT).
target=endpoints makes /version work while /endpoints fails, and vice versa.

The log holds the feed requests (method, target, path, query, params with
lower-cased names, User-Agent); control and log requests are left out so
tests can count feed calls exactly.

Usage: feedserver.py --port N (0 picks a free port) [--version V] [--file PATH]
       [--tls CERT KEY] [--lifetime SECONDS] [--verbose]
The first line on stdout is "PORT <n>".  SIGTERM and SIGINT stop it; with
--lifetime it also stops by itself after that many seconds (a safety net if
the test that started it dies).  Standard library only.
"""

import argparse
import email.utils
import json
import os
import re
import signal
import socket
import ssl
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

REPO_TOP = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
DEFAULT_FILE = os.path.join("tests", "data", "worldwide-2025-11-14.json")
DEFAULT_VERSION = "2025111400"
INSTANCES = ("Worldwide", "USGovDoD", "USGovGCCHigh", "China")
SERVICE_AREAS = ("common", "exchange", "sharepoint", "skype", "mem")
FAULTS = ("none", "500", "404", "429", "refuse", "hang", "drip", "truncated",
          "invalid-json", "wrong-shape", "empty-array", "huge", "garbage-version",
          "redirect-once", "redirect-loop", "redirect-ftp", "redirect-to")
TARGETS = ("all", "version", "endpoints")
GUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
                     r"[0-9a-fA-F]{12}$")
HANG_CAP_S = 120          # longest a hang or drip holds a connection
HUGE_BYTES = 50 * 1024 * 1024
MAX_LOGGED = 10000        # request log entries kept (oldest dropped)
SOCKET_TIMEOUT_S = 130    # per-connection read/write timeout

STOPPING = threading.Event()


class FeedState:
    """The mutable server state, guarded by one lock."""

    def __init__(self, version, path):
        self.lock = threading.Lock()
        self.version = version
        self.path = path
        self.fault = "none"
        self.target = "all"
        self.retry_after = "3600"
        self.redirect_base = ""
        self.requests = []

    def snapshot(self):
        with self.lock:
            return {"version": self.version, "file": self.path, "fault": self.fault,
                    "target": self.target, "retry_after": self.retry_after,
                    "redirect_base": self.redirect_base,
                    "requests": len(self.requests)}

    def record(self, entry):
        with self.lock:
            self.requests.append(entry)
            del self.requests[:-MAX_LOGGED]

    def take_log(self, clear):
        with self.lock:
            log = list(self.requests)
            if clear:
                self.requests.clear()
            return log

    def fault_for(self, method):
        """The active fault if it applies to `method` ("version"/"endpoints")."""
        with self.lock:
            if self.fault == "none" or self.target not in ("all", method):
                return "none"
            if self.fault == "garbage-version" and method != "version":
                return "none"
            return self.fault


def resolve_path(path):
    return path if os.path.isabs(path) else os.path.join(REPO_TOP, path)


def lower_params(query):
    """Query parameters with lower-cased names (the last value wins)."""
    return {k.lower(): v for k, v in urllib.parse.parse_qsl(query, keep_blank_values=True)}


def canonical_instance(name):
    for inst in INSTANCES:
        if inst.lower() == name.lower():
            return inst
    return None


class ClientGone(Exception):
    """The client closed the connection while we were still answering."""


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "feedserver/1"
    timeout = SOCKET_TIMEOUT_S

    # ---- plumbing ---------------------------------------------------------
    def log_message(self, fmt, *args):  # pylint: disable=arguments-differ
        if self.server.verbose:
            sys.stderr.write("feedserver: " + (fmt % args) + "\n")

    def send_body(self, status, body, content_type="application/json; charset=utf-8",
                  extra=()):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in extra:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def send_json(self, status, obj, extra=()):
        self.send_body(status, json.dumps(obj, separators=(",", ":")).encode("utf-8"),
                       extra=extra)

    def bad_request(self, message):
        self.send_json(400, {"error": message})

    def drop_connection(self):
        """Close the socket without sending anything more."""
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def split_target(self):
        """(path, query) of the request target, origin or absolute form."""
        parts = urllib.parse.urlsplit(self.path)
        return (parts.path or "/"), parts.query

    # ---- entry points -----------------------------------------------------
    def do_GET(self):  # pylint: disable=invalid-name
        self.dispatch(allow_feed=True)

    def do_POST(self):  # pylint: disable=invalid-name
        """Only for /_control; a form-encoded body adds to the query parameters."""
        length = self.headers.get("Content-Length", "0")
        if not length.isdigit() or int(length) > 65536:
            self.send_json(413, {"error": "body too large"})
            self.close_connection = True
            return
        form = self.rfile.read(int(length)).decode("ascii", "replace")
        self.dispatch(allow_feed=False, form=form)

    def dispatch(self, allow_feed, form=""):
        path, query = self.split_target()
        params = lower_params(query)
        params.update(lower_params(form))
        try:
            if path == "/_control":
                self.handle_control(params)
            elif path == "/_requests" and allow_feed:
                self.send_json(200, self.server.state.take_log(params.get("clear") == "1"))
            elif allow_feed:
                self.handle_feed(path, query, params)
            else:
                self.send_json(405, {"error": "method not allowed"}, extra=(("Allow", "GET"),))
        except (BrokenPipeError, ConnectionResetError, ClientGone, socket.timeout):
            self.close_connection = True

    # ---- control ----------------------------------------------------------
    def handle_control(self, params):
        state = self.server.state
        problem = self.check_control(params)
        if problem:
            self.bad_request(problem)
            return
        with state.lock:
            if "version" in params:
                state.version = params["version"]
            if "file" in params:
                state.path = resolve_path(params["file"])
            if "fault" in params:
                state.fault = params["fault"]
                state.target = params.get("target", "all")
                state.retry_after = self.retry_after_value(params)
                state.redirect_base = params.get("base", "")
            if params.get("clear_requests") == "1":
                state.requests.clear()
        self.send_json(200, state.snapshot())

    @staticmethod
    def check_control(params):
        if "file" in params and not os.path.isfile(resolve_path(params["file"])):
            return "no such file: " + params["file"]
        if "version" in params and not re.fullmatch(r"[\x21-\x7e]{1,64}", params["version"]):
            return "bad version"
        if "fault" in params and params["fault"] not in FAULTS:
            return "unknown fault (known: %s)" % ", ".join(FAULTS)
        if params.get("target", "all") not in TARGETS:
            return "target must be one of " + ", ".join(TARGETS)
        if not re.fullmatch(r"[\x20-\x7e]{0,128}", params.get("retry_after", "")):
            return "bad retry_after"
        if not re.fullmatch(r"\d{0,9}", params.get("retry_after_in", "")):
            return "bad retry_after_in"
        if not re.fullmatch(r"(https?://[\x21-\x7e]{1,200})?", params.get("base", "")):
            return "bad base"
        if params.get("fault") == "redirect-to" and not params.get("base"):
            return "redirect-to needs base=http[s]://HOST:PORT"
        return None

    @staticmethod
    def retry_after_value(params):
        if params.get("retry_after_in"):
            # The clock the fetcher's time(2) reads (glibc: the coarse
            # realtime clock, up to a tick behind time.time()), so "now" here
            # is never ahead of the fetcher's and the date is never one
            # second further away than asked.
            # (Python does not name it: 5 is CLOCK_REALTIME_COARSE on Linux.)
            clock = getattr(time, "CLOCK_REALTIME_COARSE",
                            5 if sys.platform.startswith("linux") else None)
            now = time.clock_gettime(clock) if clock is not None else time.time()
            when = now + int(params["retry_after_in"])
            return email.utils.formatdate(when, usegmt=True)
        return params.get("retry_after") or "3600"

    # ---- the feed ---------------------------------------------------------
    def handle_feed(self, path, query, params):
        self.server.state.record({
            "time": time.time(), "method": self.command, "target": self.path,
            "path": path, "query": query, "params": params,
            "user_agent": self.headers.get("User-Agent")})
        segments = [s for s in path.split("/") if s]
        method = segments[0].lower() if segments else ""
        if method not in ("version", "endpoints") or len(segments) > 2 \
                or (method == "endpoints" and len(segments) != 2):
            self.send_json(404, {"error": "not found"})
            return
        instance = canonical_instance(segments[1]) if len(segments) == 2 else None
        problem = self.check_feed_params(segments, instance, params)
        if problem:
            self.bad_request(problem)
        elif not self.apply_fault(method, path, query):
            if method == "version":
                self.send_version(instance, params)
            else:
                self.send_endpoints()

    @staticmethod
    def check_feed_params(segments, instance, params):
        if len(segments) == 2 and instance is None:
            return "unknown instance: " + segments[1]
        if not GUID_RE.match(params.get("clientrequestid", "")):
            return "ClientRequestId must be a GUID"
        areas = params.get("serviceareas")
        if areas is not None:
            for area in areas.split(","):
                if area.strip().lower() not in SERVICE_AREAS:
                    return "unknown service area: " + area
        return None

    def send_version(self, instance, params):
        state = self.server.state.snapshot()
        cache = (("Cache-Control", "public, max-age=3600"),)

        def record(inst):
            rec = {"instance": inst, "latest": state["version"]}
            if params.get("allversions", "").lower() == "true":
                rec["versions"] = [state["version"]]
            return rec
        if instance is None:
            self.send_json(200, [record(i) for i in INSTANCES], extra=cache)
        else:
            self.send_json(200, record(instance), extra=cache)

    def current_bytes(self):
        with open(self.server.state.snapshot()["file"], "rb") as data:
            return data.read()

    def send_endpoints(self):
        self.send_body(200, self.current_bytes())

    def normal_body(self, method):
        if method == "version":
            state = self.server.state.snapshot()
            return json.dumps({"instance": "Worldwide", "latest": state["version"]},
                              separators=(",", ":")).encode()
        return self.current_bytes()

    # ---- faults -----------------------------------------------------------
    def apply_fault(self, method, path, query):
        """Answer according to the active fault; False if there is none."""
        fault = self.server.state.fault_for(method)
        if fault == "redirect-once" and "_redirected=1" in query:
            return False
        simple = {
            "500": (500, b'{"error":"internal server error"}'),
            "404": (404, b'{"error":"not found"}'),
            "invalid-json": (200, b'[{"id": 1, "serviceArea": "Common", "urls": ["a.example'),
            "wrong-shape": (200, b'{"error":"x"}'),
            "empty-array": (200, b"[]"),
        }
        if fault == "none":
            return False
        if fault in simple:
            self.send_body(*simple[fault])
        elif fault == "429":
            retry_after = self.server.state.snapshot()["retry_after"]
            self.send_body(429, b'{"error":"too many requests"}',
                           extra=() if retry_after == "none" else (("Retry-After", retry_after),))
        elif fault == "garbage-version":
            self.send_body(200, b"<html><body>Service Unavailable</body></html>",
                           content_type="text/html")
        elif fault.startswith("redirect-"):
            self.send_redirect(fault, path, query)
        else:
            getattr(self, "fault_" + fault.replace("-", "_"))(method)
        return True

    def send_redirect(self, fault, path, query):
        if fault == "redirect-ftp":
            location = "ftp://127.0.0.1/endpoints"
        elif fault == "redirect-to":
            location = self.server.state.snapshot()["redirect_base"] + path + \
                ("?" + query if query else "")
        elif fault == "redirect-loop":
            location = path + ("?" + query if query else "")
        else:
            location = path + "?" + (query + "&" if query else "") + "_redirected=1"
        # Retry-After on a redirect must not leak into the client's final answer.
        self.send_body(302, b"", extra=(("Location", location), ("Retry-After", "5")))

    def fault_refuse(self, _method):
        self.drop_connection()

    def fault_hang(self, _method):
        """Never answer; return when the client leaves, we stop, or the cap passes."""
        self.wait_for_client_gone(HANG_CAP_S)
        self.drop_connection()

    def wait_for_client_gone(self, seconds):
        deadline = time.monotonic() + seconds
        while not STOPPING.is_set() and time.monotonic() < deadline:
            self.connection.settimeout(0.2)
            try:
                if self.connection.recv(1) == b"":
                    return
            except (socket.timeout, ssl.SSLWantReadError):
                continue
            except OSError:
                return
        self.connection.settimeout(SOCKET_TIMEOUT_S)

    def fault_drip(self, method):
        body = self.normal_body(method)
        self.send_response(200)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.flush()
        deadline = time.monotonic() + HANG_CAP_S
        for i in range(len(body)):
            if STOPPING.is_set() or time.monotonic() >= deadline:
                break
            self.wfile.write(body[i:i + 1])
            self.wfile.flush()
            time.sleep(1)
        self.drop_connection()

    def fault_truncated(self, method):
        body = self.normal_body(method)
        self.send_response(200)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body[:len(body) // 2])
        self.wfile.flush()
        self.drop_connection()

    def fault_huge(self, _method):
        """A valid JSON array of about HUGE_BYTES, chunked so no length is known."""
        self.send_response(200)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        sent, set_id = 0, 0
        first = True
        self.send_chunk(b"[")
        while sent < HUGE_BYTES and not STOPPING.is_set():
            items = []
            for _ in range(500):
                set_id += 1
                items.append(b'%s{"id":%d,"serviceArea":"Common","urls":["h%d.example.com"],'
                             b'"category":"Default","required":false}'
                             % (b"" if first else b",", set_id, set_id))
                first = False
            chunk = b"".join(items)
            self.send_chunk(chunk)
            sent += len(chunk)
        self.send_chunk(b"]")
        self.send_chunk(b"")

    def send_chunk(self, data):
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))


class FeedServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, port, state, verbose, tls_context):
        self.state = state
        self.verbose = verbose
        self.tls_context = tls_context
        super().__init__(("127.0.0.1", port), Handler)

    def get_request(self):
        conn, addr = super().get_request()
        if self.tls_context is not None:
            # The handshake happens on first use, in the handler's thread.
            conn = self.tls_context.wrap_socket(conn, server_side=True,
                                                do_handshake_on_connect=False)
        return conn, addr

    def handle_error(self, request, client_address):
        err = sys.exc_info()[1]
        if isinstance(err, (ssl.SSLError, ConnectionError, socket.timeout, ClientGone)):
            return      # expected: refused certificates, impatient clients
        super().handle_error(request, client_address)


def parse_args(argv):
    ap = argparse.ArgumentParser(description="Microsoft endpoint web-service stand-in for tests")
    ap.add_argument("--port", type=int, required=True, help="TCP port on 127.0.0.1 (0: any)")
    ap.add_argument("--version", default=DEFAULT_VERSION, help="initial version")
    ap.add_argument("--file", default=DEFAULT_FILE, help="initial data file")
    ap.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"), help="serve HTTPS")
    ap.add_argument("--lifetime", type=float, default=0, help="exit after this many seconds")
    ap.add_argument("--verbose", action="store_true", help="log requests on stderr")
    args = ap.parse_args(argv)
    if not 0 <= args.port <= 65535:
        ap.error("--port out of range")
    if not os.path.isfile(resolve_path(args.file)):
        ap.error("no such file: " + args.file)
    return args


def main(argv):
    args = parse_args(argv)
    tls_context = None
    if args.tls:
        tls_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls_context.load_cert_chain(args.tls[0], args.tls[1])
    server = FeedServer(args.port, FeedState(args.version, resolve_path(args.file)),
                        args.verbose, tls_context)

    def stop(_signum, _frame):
        raise SystemExit(0)
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    if args.lifetime > 0:
        signal.signal(signal.SIGALRM, stop)
        signal.setitimer(signal.ITIMER_REAL, args.lifetime)
    sys.stdout.write("PORT %d\n" % server.server_address[1])
    sys.stdout.flush()
    try:
        server.serve_forever(poll_interval=0.2)
    except SystemExit:
        pass
    finally:
        STOPPING.set()
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
