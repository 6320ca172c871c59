#!/usr/bin/env python3
"""A fault-injecting and delaying HTTP front between gdctl and moto, on loopback.

Every request is forwarded to --upstream unchanged, except that, by the region in
the request's SigV4 credential scope (Authorization: ... Credential=KEY/DATE/REGION/SERVICE/...),
or by region and service (`--fault us-east-1/ec2=403`):

  --fault REGION=403          answer 403 UnrecognizedClientException (STS: InvalidClientTokenId,
                              EC2: AuthFailure), every time
  --fault REGION=500          answer 500 InternalServerErrorException, every time
  --fault REGION=denied       answer 403 AccessDeniedException, every time (a policy that
                              lacks the call)
  --fault REGION=hostile      answer 400 with a message full of terminal control sequences
  --fault REGION=502html      answer 502 with an HTML page, as a proxy or load balancer would
  --fault REGION=hang-after-write
                              forward GuardDuty writes (POST, DELETE) upstream, so they are
                              carried out, then never answer them; reads pass
  --fault REGION=throttle:K   answer 400 ThrottlingException K times, then pass
  --fault REGION=hang         never answer (the connection is held, then dropped
                              after --hang-seconds)
  --fault REGION=delay:MS     wait MS milliseconds, then pass
  --fault REGION=race         on CreateDetector: first create a detector upstream
                              (as a concurrent writer would), then answer 400
                              BadRequestException "a detector already exists"

  --fault-on "METHOD PATH=KIND"
                              the same faults (KIND as above) for one call, in every region:
                              requests whose method is METHOD and whose path matches the
                              regular expression PATH whole (`POST /detector/[^/]+/member=500`:
                              CreateMembers fails, the calls before it pass)

  --deny-role ARN             answer STS AssumeRole for that role with 403 AccessDenied
  --sts-rate N                answer STS AssumeRole calls beyond N a second with 400 Throttling,
                              as STS does above its per-account rate (GET /__front/stats
                              says how many it throttled, and `assume_role_peak`: the most
                              AssumeRole calls that arrived within any 0.75 s, a second less
                              the loopback's jitter; `guardduty_calls` lists every GuardDuty
                              request as `METHOD /path`, for tests that count writes)

  --delays FILE               JSON {"home": "...", "service_ms": 20, "rtt_ms": {REGION: MS}}:
                              every request takes service_ms + rtt_ms[REGION] (times --scale)
                              in all: moto's own time counts as part of the service time

With --tls-cert and --tls-key it serves https (for tests of a private CA).

Errors use AWS's wire shapes: JSON with x-amzn-ErrorType for GuardDuty (restJson1),
XML <Response><Errors> for EC2 (query). Prints `listening on http://127.0.0.1:PORT`
when ready; with --exit-on-eof it exits when its stdin closes.
"""
import argparse
import http.client
import json
import re
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from loopback import serve

SCOPE = re.compile(r"Credential=[^/]+/\d{8}/([a-z0-9-]+)/([a-z0-9-]+)/aws4_request")
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "server", "date"}

ERRORS = {
    "403": (403, "UnrecognizedClientException", "The security token included in the request is invalid."),
    "403/sts": (403, "InvalidClientTokenId", "The security token included in the request is invalid."),
    "403/ec2": (401, "AuthFailure", "AWS was not able to validate the provided access credentials"),
    "500": (500, "InternalServerErrorException", "Internal server error."),
    "denied": (403, "AccessDeniedException", "User is not authorized to perform this action."),
    # A message written to steer a terminal: erase the line, rewrite it, ring.
    "hostile": (400, "BadRequestException", "bad\r\x1b[2Kspoof: all enabled\n\x1b]0;owned\x07"),
    "throttle": (400, "ThrottlingException", "Rate exceeded"),
    "race": (400, "BadRequestException",
             "The request is rejected because a detector already exists for the current account."),
}


class Front:
    def __init__(self, upstream, faults, delays, scale, hang_seconds, deny_roles=(), sts_rate=0, call_faults=()):
        u = urllib.parse.urlsplit(upstream)
        self.host, self.port = u.hostname, u.port
        self.faults = faults
        self.delays = delays
        self.scale = scale
        self.hang_seconds = hang_seconds
        self.lock = threading.Lock()
        self.seen = {}  # region -> requests answered with a fault so far
        self.deny_roles = set(deny_roles)
        self.sts_rate = sts_rate
        self.second, self.in_second = 0, 0  # AssumeRole calls in the current second
        self.throttled = 0
        # Every GuardDuty request, `METHOD /path`, in arrival order (GET /__front/stats).
        self.calls = []
        self.calls_lock = threading.Lock()
        self.assume_role_times = []  # monotonic arrival time of every AssumeRole call
        self.call_faults = list(call_faults)  # (method, compiled path pattern, spec)

    def assume_role_peak(self, window=0.75):
        with self.lock:
            times = sorted(self.assume_role_times)
        peak, first = 0, 0
        for last, t in enumerate(times):
            while t - times[first] >= window:
                first += 1
            peak = max(peak, last - first + 1)
        return peak

    def delay_for(self, region):
        if not self.delays:
            return 0.0
        rtt = self.delays["rtt_ms"].get(region, max(self.delays["rtt_ms"].values()))
        return (self.delays.get("service_ms", 0) + rtt) * self.scale / 1000.0

    def forward(self, method, path, headers, body):
        conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
        try:
            conn.request(method, path, body=body, headers=headers)
            resp = conn.getresponse()
            return resp.status, resp.getheaders(), resp.read()
        finally:
            conn.close()


def error_response(service, status, code, message):
    if service == "sts":
        body = ('<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type>'
                f"<Code>{code}</Code><Message>{message}</Message></Error>"
                "<RequestId>gdctl-front</RequestId></ErrorResponse>")
        return status, [("Content-Type", "text/xml")], body.encode()
    if service == "ec2":
        body = (f'<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error><Code>{code}</Code>'
                f"<Message>{message}</Message></Error></Errors><RequestID>gdctl-front</RequestID></Response>")
        return status, [("Content-Type", "text/xml")], body.encode()
    body = json.dumps({"message": message, "__type": code})
    return status, [("Content-Type", "application/json"), ("x-amzn-ErrorType", code)], body.encode()


def make_handler(front):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body go out as separate writes: with Nagle on, the body
        # waits for the client's delayed ACK (40 ms) on a reused connection.
        disable_nagle_algorithm = True

        def log_message(self, *args):
            pass

        def handle_any(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            if self.path == "/__front/stats":
                # For tests: how many calls the front throttled.
                with front.calls_lock:
                    calls = list(front.calls)
                payload = json.dumps({"throttled": front.throttled,
                                      "assume_role_peak": front.assume_role_peak(),
                                      "assume_role_calls": len(front.assume_role_times),
                                      "guardduty_calls": calls}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
                return
            m = SCOPE.search(self.headers.get("Authorization", ""))
            region, service = (m.group(1), m.group(2)) if m else ("", "")
            if service == "guardduty":
                with front.calls_lock:
                    front.calls.append(f"{self.command} {urllib.parse.urlsplit(self.path).path}")
            started = time.monotonic()
            answer = self.fault(region, service, body)
            if answer == "hang-after-write":
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("connection", "keep-alive")}
                front.forward(self.command, self.path, headers, body)
                answer = "hang"
            if answer == "hang":
                # Hold the request unanswered, then drop the connection.
                time.sleep(front.hang_seconds)
                self.close_connection = True
                return
            if answer is None:
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("connection", "keep-alive")}
                answer = front.forward(self.command, self.path, headers, body)
            # The table gives each request's whole latency; moto's own time is
            # part of it, not added on top.
            time.sleep(max(0.0, front.delay_for(region) - (time.monotonic() - started)))
            status, headers, payload = answer
            self.send_response(status)
            for k, v in headers:
                if k.lower() not in HOP_BY_HOP:
                    self.send_header(k, v)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def assume_role_fault(self, service, body):
            if service != "sts":
                return None
            form = urllib.parse.parse_qs(body.decode("utf-8", "replace"))
            if form.get("Action") != ["AssumeRole"]:
                return None
            role = (form.get("RoleArn") or [""])[0]
            with front.lock:
                front.assume_role_times.append(time.monotonic())
            if role in front.deny_roles:
                message = (f"User: arn:aws:sts::123456789012:assumed-role/caller/gdctl is not authorized "
                           f"to perform: sts:AssumeRole on resource: {role}")
                return error_response("sts", 403, "AccessDenied", message)
            if front.sts_rate:
                with front.lock:
                    now = int(time.monotonic())
                    if now != front.second:
                        front.second, front.in_second = now, 0
                    front.in_second += 1
                    if front.in_second > front.sts_rate:
                        front.throttled += 1
                        return error_response("sts", 400, "Throttling", "Rate exceeded")
            return None

        def fault(self, region, service, body):
            denied = self.assume_role_fault(service, body)
            if denied:
                return denied
            spec = front.faults.get(f"{region}/{service}") or front.faults.get(region)
            key = region
            path = self.path.split("?")[0]
            for method, pattern, call_spec in front.call_faults:
                if self.command == method and pattern.fullmatch(path):
                    spec, key = call_spec, f"{method} {pattern.pattern}"
            if not spec:
                return None
            kind, _, arg = spec.partition(":")
            if kind == "502html":
                page = b"<html><head><title>502 Bad Gateway</title></head><body>Bad Gateway</body></html>"
                return 502, [("Content-Type", "text/html")], page
            if kind == "hang-after-write":
                return "hang-after-write" if self.command in ("POST", "DELETE") else None
            if kind == "delay":
                time.sleep(int(arg) / 1000.0)
                return None
            if kind == "hang":
                return "hang"
            if kind == "throttle":
                with front.lock:
                    n = front.seen.get(key, 0)
                    if n >= int(arg or 1):
                        return None
                    front.seen[key] = n + 1
            if kind == "race":
                # Only CreateDetector (POST /detector) loses the race; a rival
                # writer's detector is created upstream first.
                if not (self.command == "POST" and self.path.rstrip("/") == "/detector"):
                    return None
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("connection", "keep-alive")}
                front.forward("POST", self.path, headers, body)
            status, code, message = ERRORS.get(f"{kind}/{service}") or ERRORS[kind]
            return error_response(service, status, code, message)

        do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = handle_any

    return Handler


KINDS = {"403", "denied", "hostile", "500", "502html", "throttle", "hang", "hang-after-write", "delay", "race"}


def parse_faults(items):
    faults = {}
    for item in items:
        region, sep, spec = item.partition("=")
        if not sep or spec.partition(":")[0] not in KINDS:
            sys.exit(f"front.py: bad --fault {item!r}")
        faults[region] = spec
    return faults


def parse_call_faults(items):
    faults = []
    for item in items:
        call, sep, spec = item.rpartition("=")
        method, _, path = call.partition(" ")
        if not sep or not path or spec.partition(":")[0] not in KINDS:
            sys.exit(f"front.py: bad --fault-on {item!r}")
        faults.append((method, re.compile(path), spec))
    return faults


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--upstream", required=True)
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--fault", action="append", default=[])
    p.add_argument("--delays")
    p.add_argument("--scale", type=float, default=1.0)
    p.add_argument("--hang-seconds", type=float, default=120.0)
    p.add_argument("--exit-on-eof", action="store_true")
    p.add_argument("--fault-on", action="append", default=[])
    p.add_argument("--deny-role", action="append", default=[])
    p.add_argument("--sts-rate", type=int, default=0)
    p.add_argument("--tls-cert")
    p.add_argument("--tls-key")
    args = p.parse_args()
    if not args.upstream.startswith("http://127.") and not args.upstream.startswith("http://localhost"):
        sys.exit("front.py: --upstream must be on loopback")

    delays = json.load(open(args.delays)) if args.delays else None
    front = Front(args.upstream, parse_faults(args.fault), delays, args.scale, args.hang_seconds,
                  args.deny_role, args.sts_rate, parse_call_faults(args.fault_on))
    # A listen backlog of socketserver's default 5 drops connections when every
    # region connects at once, and each retry costs a 200 ms TCP timeout.
    ThreadingHTTPServer.request_queue_size = 256
    server = ThreadingHTTPServer(("127.0.0.1", args.port), make_handler(front))
    server.daemon_threads = True
    scheme = "http"
    if args.tls_cert:
        import ssl
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(args.tls_cert, args.tls_key)
        server.socket = context.wrap_socket(server.socket, server_side=True)
        scheme = "https"
    serve(server, args.exit_on_eof, scheme)


if __name__ == "__main__":
    main()
