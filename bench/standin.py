#!/usr/bin/env python3
"""An in-memory stand-in for the calls gdctl makes, fast enough that the
many-account bench measures gdctl and not the emulator (moto answers about
500 requests a second on these 2 cores; 100 accounts x 20 regions is 4,000+).

One asyncio loop on 127.0.0.1; every request waits (service_ms + rtt_ms[its
region]) * scale, as scripts/front.py does, without a thread per request.
It answers, in AWS's wire shapes:
  STS        GetCallerIdentity, AssumeRole (the account is the role ARN's; the
             access key it hands out names it: ASIA + 12 digits + STANDIN)
  EC2        DescribeRegions (the table's regions; ap-east-1 and me-south-1 not opted in)
  GuardDuty  ListDetectors, CreateDetector, GetDetector, UpdateDetector, DeleteDetector
State is kept per (account, region). Keys it did not hand out belong to 999999999999.
Prints `listening on http://127.0.0.1:PORT`; with --exit-on-eof it exits when stdin closes.
"""
import argparse
import asyncio
import json
import re
import sys
import time
import urllib.parse
import uuid

SCOPE = re.compile(r"Credential=([^/]+)/\d{8}/([a-z0-9-]+)/([a-z0-9-]+)/aws4_request")
CALLER = "999999999999"
NOT_OPTED_IN = {"ap-east-1", "me-south-1"}


class Standin:
    def __init__(self, table, scale):
        self.table = table
        self.scale = scale
        self.detectors = {}  # (account, region) -> {id: detector}
        self.requests = 0

    def delay(self, region):
        rtt = self.table["rtt_ms"].get(region, max(self.table["rtt_ms"].values()))
        return (self.table["service_ms"] + rtt) * self.scale / 1000.0

    def answer(self, method, path, body, key, region, service):
        account = key[4:16] if key.startswith("ASIA") and key.endswith("STANDIN") else CALLER
        if service == "sts":
            return self.sts(urllib.parse.parse_qs(body.decode()), account)
        if service == "ec2":
            return self.ec2()
        if service == "guardduty":
            return self.guardduty(method, path, body, account, region)
        return 400, "application/json", json.dumps({"__type": "UnknownService", "message": service})

    def sts(self, form, account):
        action = form.get("Action", [""])[0]
        ns = 'xmlns="https://sts.amazonaws.com/doc/2011-06-15/"'
        meta = "<ResponseMetadata><RequestId>standin</RequestId></ResponseMetadata>"
        if action == "GetCallerIdentity":
            arn = f"arn:aws:sts::{account}:assumed-role/bench/bench"
            return 200, "text/xml", (
                f"<GetCallerIdentityResponse {ns}><GetCallerIdentityResult><Arn>{arn}</Arn>"
                f"<UserId>AROASTANDIN:bench</UserId><Account>{account}</Account></GetCallerIdentityResult>"
                f"{meta}</GetCallerIdentityResponse>")
        if action == "AssumeRole":
            role = form.get("RoleArn", [""])[0]
            target = role.split(":")[4]
            return 200, "text/xml", (
                f"<AssumeRoleResponse {ns}><AssumeRoleResult><Credentials>"
                f"<AccessKeyId>ASIA{target}STANDIN</AccessKeyId><SecretAccessKey>secret</SecretAccessKey>"
                f"<SessionToken>token</SessionToken><Expiration>2099-01-01T00:00:00Z</Expiration></Credentials>"
                f"<AssumedRoleUser><AssumedRoleId>AROASTANDIN:gdctl</AssumedRoleId>"
                f"<Arn>arn:aws:sts::{target}:assumed-role/{role.split('/', 1)[1]}/gdctl</Arn></AssumedRoleUser>"
                f"</AssumeRoleResult>{meta}</AssumeRoleResponse>")
        return 400, "text/xml", f"<ErrorResponse {ns}><Error><Code>InvalidAction</Code></Error></ErrorResponse>"

    def ec2(self):
        items = "".join(
            f"<item><regionName>{r}</regionName><regionEndpoint>ec2.{r}.amazonaws.com</regionEndpoint>"
            f"<optInStatus>{'not-opted-in' if r in NOT_OPTED_IN else 'opt-in-not-required'}</optInStatus></item>"
            for r in sorted(self.table["rtt_ms"]))
        return 200, "text/xml", (
            '<DescribeRegionsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">'
            f"<requestId>standin</requestId><regionInfo>{items}</regionInfo></DescribeRegionsResponse>")

    def guardduty(self, method, path, body, account, region):
        here = self.detectors.setdefault((account, region), {})
        parts = [p for p in urllib.parse.urlsplit(path).path.split("/") if p]
        ok = lambda doc: (200, "application/json", json.dumps(doc))
        if parts == ["detector"] and method == "GET":
            return ok({"detectorIds": sorted(here)})
        if parts == ["detector"] and method == "POST":
            req = json.loads(body or b"{}")
            detector_id = uuid.uuid4().hex
            here[detector_id] = {
                "status": "ENABLED" if req.get("enable") else "DISABLED",
                "findingPublishingFrequency": req.get("findingPublishingFrequency", "SIX_HOURS"),
            }
            return ok({"detectorId": detector_id})
        if len(parts) == 2 and parts[0] == "detector" and parts[1] in here:
            d = here[parts[1]]
            if method == "GET":
                return ok({**d, "serviceRole": f"arn:aws:iam::{account}:role/aws-service-role/guardduty.amazonaws.com/"
                                                "AWSServiceRoleForAmazonGuardDuty",
                           "createdAt": "2026-01-01T00:00:00.000Z", "updatedAt": "2026-01-01T00:00:00.000Z",
                           "features": [], "tags": {}})
            if method == "POST":
                req = json.loads(body or b"{}")
                if "enable" in req:
                    d["status"] = "ENABLED" if req["enable"] else "DISABLED"
                if "findingPublishingFrequency" in req:
                    d["findingPublishingFrequency"] = req["findingPublishingFrequency"]
                return ok({})
            if method == "DELETE":
                del here[parts[1]]
                return ok({})
        return 400, "application/json", json.dumps({"__type": "BadRequestException", "message": f"{method} {path}"})

    async def connection(self, reader, writer):
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, path, _ = lines[0].split(" ", 2)
                headers = {k.strip().lower(): v.strip() for k, v in (l.split(":", 1) for l in lines[1:] if ":" in l)}
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                started = time.monotonic()
                m = SCOPE.search(headers.get("authorization", ""))
                key, region, service = m.groups() if m else ("", "", "")
                self.requests += 1
                status, ctype, payload = self.answer(method, path, body, key, region, service)
                await asyncio.sleep(max(0.0, self.delay(region) - (time.monotonic() - started)))
                data = payload.encode()
                writer.write(
                    f"HTTP/1.1 {status} {'OK' if status == 200 else 'Bad Request'}\r\nContent-Type: {ctype}\r\n"
                    f"Content-Length: {len(data)}\r\nx-amzn-RequestId: standin\r\n\r\n".encode() + data)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


async def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--delays", required=True)
    p.add_argument("--scale", type=float, default=1.0)
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--exit-on-eof", action="store_true")
    args = p.parse_args()
    standin = Standin(json.load(open(args.delays)), args.scale)
    server = await asyncio.start_server(standin.connection, "127.0.0.1", args.port, backlog=4096)
    print(f"listening on http://127.0.0.1:{server.sockets[0].getsockname()[1]}", flush=True)
    if args.exit_on_eof:
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
        return
    await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
