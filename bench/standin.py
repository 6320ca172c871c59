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
  GuardDuty  ListDetectors, CreateDetector, GetDetector, UpdateDetector, DeleteDetector,
             and the reads of findings `gdctl findings` makes: GetFindingsStatistics
             (groupBy SEVERITY, ACCOUNT or FINDING_TYPE, or findingStatisticTypes
             COUNT_BY_SEVERITY), ListFindings (criteria, sortCriteria, maxResults
             <= 50, nextToken) and GetFindings (<= 50 ids), with
             scripts/guardduty_findings.py's semantics: criteria on the fields
             below with eq/equals (any of the values), neq/notEquals (none; a
             finding lacking the field matches) and the ranges on numbers and
             times (epoch ms); ListFindings sorted by sortCriteria (updatedAt
             DESC by default, those lacking the attribute last), ties by
             updatedAt descending then id; statistics groups by totalFindings
             (DESC by default), ties by the group's key, at most maxResults
             (default 25, at most 100), never a next page.
State is kept per (account, region). Keys it did not hand out belong to 999999999999.

Findings cannot be asked of AWS, so they are seeded (neither way is an AWS API):
  --findings-per-region N   every detector created through CreateDetector has N
                            findings (N of the bench's mix: severities 8, 2, 5,
                            9, 5.5 and 8.5 in turn, updated 0-95 hours ago, first
                            seen a day before that, none archived, none samples)
  POST /__standin/accounts  {"accountIds": [...], "regions": [...],
                             "findingsPerRegion": N,              (default: the flag's)
                             "frequency": "FIFTEEN_MINUTES"}      (default)
                            -> 200 {"detectors": N}: an enabled detector in each
                            (account, region) that has none, with N findings;
                            answered at once (no delay), for an untimed set-up
  GET /__standin/stats      -> {"requests": N, "guardduty": N}: requests answered so far
A region's N findings are made once (their JSON written once, with the account
and detector filled in as they are written out) and sorted once per order, for
every account: the stand-in's time per request stays far below the delays.

Prints `listening on http://127.0.0.1:PORT` (https with --tls-cert and
--tls-key); with --exit-on-eof it exits when stdin closes.
"""
import argparse
import asyncio
import hashlib
import json
import re
import ssl
import sys
import time
import urllib.parse
import uuid
from datetime import datetime, timezone
from pathlib import Path

# The criteria as the emulator compiles them (pure: no moto).
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
import finding_criteria  # noqa: E402
from finding_criteria import BOOL, NUMBER, STRING, TIME  # noqa: E402

SCOPE = re.compile(r"Credential=([^/]+)/\d{8}/([a-z0-9-]+)/([a-z0-9-]+)/aws4_request")
CALLER = "999999999999"
NOT_OPTED_IN = {"ap-east-1", "me-south-1"}

# --- findings ----------------------------------------------------------------

MAX_RESULTS = 50          # ListFindings' maxResults, and ids per GetFindings
MAX_GROUPS = 100          # GetFindingsStatistics' maxResults
DEFAULT_GROUPS = 25
ACCOUNT, DETECTOR = "@ACCOUNT@", "@DETECTOR@"  # filled in as a finding is written out
# The seeded mix, in turn (bench/bench.py's, as it was seeded on moto): type,
# severity, title (the emulator's, for the type).
KINDS = [
    ("UnauthorizedAccess:EC2/TorClient", 8.0, "EC2 instance {instance} is communicating with a Tor entry node."),
    ("Recon:EC2/PortProbeUnprotectedPort", 2.0, "Unprotected port on EC2 instance {instance} is being probed."),
    ("Recon:EC2/Portscan", 5.0, "EC2 instance {instance} is performing outbound port scans against remote hosts."),
    ("CryptoCurrency:EC2/BitcoinTool.B!DNS", 9.0, "Bitcoin-related domain name queried by EC2 instance {instance}."),
    ("UnauthorizedAccess:IAMUser/MaliciousIPCaller", 5.5, "API invoked by {user} from a known malicious IP address."),
    ("Backdoor:EC2/C&CActivity.B!DNS", 8.5, "Command and Control server domain name queried by EC2 instance "
                                            "{instance}."),
]
# The criterion fields the stand-in answers (gdctl's, and a few more): any
# other is refused with a 400 that says so, never answered wrongly.
FIELDS = {"accountId": STRING, "region": STRING, "id": STRING, "type": STRING, "severity": NUMBER,
          "confidence": NUMBER, "updatedAt": TIME, "resource.resourceType": STRING,
          "resource.instanceDetails.instanceId": STRING, "resource.accessKeyDetails.userName": STRING,
          "service.archived": BOOL, "service.additionalInfo.sample": BOOL, "service.count": NUMBER,
          "service.eventFirstSeen": TIME, "service.eventLastSeen": TIME}
GROUPS = {"SEVERITY": ("groupedBySeverity", "severity"), "ACCOUNT": ("groupedByAccount", "accountId"),
          "FINDING_TYPE": ("groupedByFindingType", "findingType")}


class BadRequest(Exception):
    pass


def iso(ms):
    """An epoch-millisecond time as GuardDuty writes it: 2024-05-01T12:00:00.123Z."""
    at = datetime.fromtimestamp(ms // 1000, timezone.utc)
    return at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def resource(kind, region, hexa, created_ms):
    """A resource of the finding's kind, as the emulator makes one (an instance, or an access key)."""
    if kind == "IAMUser":
        return {"resourceType": "AccessKey", "accessKeyDetails": {
            "accessKeyId": f"ASIA{hexa[:16].upper()}", "principalId": f"AIDA{hexa[16:32].upper()}",
            "userName": f"deploy-{hexa[:6]}", "userType": "IAMUser"}}
    ip = f"10.0.{int(hexa[:2], 16)}.{int(hexa[2:4], 16)}"
    private_dns = f"ip-{ip.replace('.', '-')}.{region}.compute.internal"
    return {"resourceType": "Instance", "instanceDetails": {
        "instanceId": f"i-0{hexa[:16]}", "instanceType": "m5.large", "instanceState": "running",
        "availabilityZone": f"{region}a", "imageId": f"ami-0{hexa[4:20]}", "imageDescription": "Amazon Linux 2023 AMI",
        "launchTime": iso(created_ms), "platform": "linux",
        "iamInstanceProfile": {"arn": f"arn:aws:iam::{ACCOUNT}:instance-profile/app-server",
                               "id": f"AIPA{hexa[:16].upper()}"},
        "networkInterfaces": [{
            "networkInterfaceId": f"eni-0{hexa[:16]}", "privateDnsName": private_dns, "privateIpAddress": ip,
            "privateIpAddresses": [{"privateDnsName": private_dns, "privateIpAddress": ip}],
            "publicDnsName": f"ec2-198-51-100-{int(hexa[4:6], 16)}.{region}.compute.amazonaws.com",
            "publicIp": f"198.51.100.{int(hexa[4:6], 16)}", "ipv6Addresses": [],
            "securityGroups": [{"groupId": f"sg-0{hexa[:16]}", "groupName": "app-server"}],
            "subnetId": f"subnet-0{hexa[:16]}", "vpcId": f"vpc-0{hexa[16:32]}",
        }],
        "productCodes": [], "tags": [{"key": "Name", "value": "app-server"}],
    }}


class Finding:
    """One seeded finding: its values as criteria compare them, and its JSON
    (the API's Finding shape) with the account and detector left to fill in."""
    __slots__ = ("id", "values", "json")

    def __init__(self, region, i, now_ms):
        finding_type, severity, title = KINDS[i % len(KINDS)]
        self.id = hashlib.md5(f"{region}/{i}".encode()).hexdigest()
        last = now_ms - (i % 96) * 3_600_000
        first = last - 24 * 3_600_000
        res = resource(finding_type.split(":", 1)[1].split("/", 1)[0], region, self.id, now_ms - 90 * 86_400_000)
        first_of = lambda key, field: (res.get(key) or {}).get(field, "unknown")  # noqa: E731
        title = title.format(instance=first_of("instanceDetails", "instanceId"),
                             user=first_of("accessKeyDetails", "userName"))
        self.values = {
            "region": [region], "id": [self.id], "type": [finding_type], "severity": [severity],
            "confidence": [severity], "updatedAt": [last], "resource.resourceType": [res["resourceType"]],
            "resource.instanceDetails.instanceId": [res["instanceDetails"]["instanceId"]]
            if "instanceDetails" in res else [],
            "resource.accessKeyDetails.userName": [res["accessKeyDetails"]["userName"]]
            if "accessKeyDetails" in res else [],
            "service.archived": [False], "service.additionalInfo.sample": [],  # real findings lack the key
            "service.count": [1.0], "service.eventFirstSeen": [first], "service.eventLastSeen": [last],
        }
        self.json = json.dumps({
            "accountId": ACCOUNT,
            "arn": f"arn:aws:guardduty:{region}:{ACCOUNT}:detector/{DETECTOR}/finding/{self.id}",
            "confidence": severity, "createdAt": iso(first), "description": title, "id": self.id,
            "partition": "aws", "region": region, "resource": res, "schemaVersion": "2.0",
            "service": {"serviceName": "guardduty", "detectorId": DETECTOR, "archived": False, "count": 1,
                        "eventFirstSeen": iso(first), "eventLastSeen": iso(last), "resourceRole": "TARGET",
                        "additionalInfo": {"value": "{}", "type": "default"}},
            "severity": severity, "title": title, "type": finding_type, "updatedAt": iso(last),
        }, separators=(",", ":"))

    def value(self, field, account):
        return [account] if field == "accountId" else self.values[field]


class FindingSet:
    """A region's N seeded findings, shared by every account's detector there,
    in each order asked for (sorted once per order)."""

    def __init__(self, region, n):
        now = int(time.time() * 1000)
        rows = sorted((Finding(region, i, now) for i in range(n)), key=lambda f: f.id)
        rows.sort(key=lambda f: f.values["updatedAt"][0], reverse=True)
        self.rows = rows  # ties' order: updatedAt descending, then id
        self.by_id = {f.id: f for f in rows}
        self.orders = {}

    def ordered(self, attribute, order):
        """The emulator's order: by the attribute's first value (those lacking it
        last), ties in self.rows' order. One account's view: accountId ties all."""
        key = (attribute, order)
        if key not in self.orders:
            if attribute == "accountId":
                self.orders[key] = self.rows
            else:
                present = [f for f in self.rows if f.values[attribute]]
                present.sort(key=lambda f: f.values[attribute][0], reverse=order == "DESC")
                self.orders[key] = present + [f for f in self.rows if not f.values[attribute]]
        return self.orders[key]


def compiled(criteria):
    """A FindingCriteria as (field, test) pairs a finding must all pass; a bad one is refused."""
    return finding_criteria.compile_criteria(
        criteria, FIELDS, BadRequest,
        lambda field: f"bench/standin.py does not answer criteria on {field!r} (scripts/emulator.py does)")


def integer(value, default, most, what):
    value = default if value is None else value
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= most:
        raise BadRequest(f"The request is rejected because {what} must be from 1 to {most}.")
    return value


def bad(message):
    return 400, "application/json", json.dumps({"__type": "BadRequestException", "message": message})


def matched(seeded, account, criteria, sort=None):
    """The findings matching `criteria` (ids, in `sort`'s order), computed once
    per detector, criteria and order."""
    if seeded is None:
        return []
    key = (json.dumps(criteria, sort_keys=True), sort)
    cache = seeded["cache"]
    if key not in cache:
        tests = compiled(criteria)
        rows = seeded["set"].ordered(*sort) if sort else seeded["set"].rows
        cache[key] = [f for f in rows if all(test(f.value(field, account)) for field, test in tests)]
    return cache[key]


def sort_of(sort):
    if sort is not None and not isinstance(sort, dict):
        raise BadRequest("The request is rejected because the sortCriteria is not valid.")
    sort = sort or {}
    attribute, order = sort.get("attributeName") or "updatedAt", sort.get("orderBy") or "DESC"
    if attribute not in FIELDS:
        raise BadRequest(f"bench/standin.py does not sort by {attribute!r} (scripts/emulator.py does)")
    if order not in ("ASC", "DESC"):
        raise BadRequest(f"The request is rejected because the orderBy {order!r} is not valid.")
    return attribute, order


def list_findings(seeded, account, req):
    size = integer(req.get("maxResults"), MAX_RESULTS, MAX_RESULTS, "maxResults")
    token = req.get("nextToken") or "0"
    if not isinstance(token, str) or not token.isdigit():
        raise BadRequest("The request is rejected because the nextToken is not valid.")
    rows = matched(seeded, account, req.get("findingCriteria"), sort_of(req.get("sortCriteria")))
    start = int(token)
    out = {"findingIds": [f.id for f in rows[start:start + size]]}
    if start + size < len(rows):
        out["nextToken"] = str(start + size)
    return json.dumps(out)


def get_findings(seeded, account, detector_id, req):
    ids = req.get("findingIds")
    if not isinstance(ids, list) or not 1 <= len(ids) <= MAX_RESULTS:
        raise BadRequest(f"The request is rejected because findingIds must hold 1 to {MAX_RESULTS} ids.")
    by_id = seeded["set"].by_id if seeded else {}
    found = [by_id[i] for i in dict.fromkeys(ids) if isinstance(i, str) and i in by_id]  # unknown ids left out
    if req.get("sortCriteria") is not None:
        attribute, order = sort_of(req["sortCriteria"])
        rank = {f.id: n for n, f in enumerate(seeded["set"].ordered(attribute, order))} if found else {}
        found.sort(key=lambda f: rank[f.id])
    text = ",".join(f.json for f in found).replace(ACCOUNT, account).replace(DETECTOR, detector_id)
    return f'{{"findings":[{text}]}}'


def statistics(seeded, account, req):
    group_by, types = req.get("groupBy"), req.get("findingStatisticTypes") or []
    order, limit = req.get("orderBy"), req.get("maxResults")
    if (group_by is None) == (not types):
        raise BadRequest("The request is rejected because it must name either findingStatisticTypes or groupBy, "
                         "and not both.")
    if group_by is None and (order is not None or limit is not None):
        raise BadRequest("The request is rejected because maxResults and orderBy may be used only with groupBy.")
    rows = matched(seeded, account, req.get("findingCriteria"))
    if group_by is None:
        if any(t != "COUNT_BY_SEVERITY" for t in types):
            raise BadRequest(f"The request is rejected because a findingStatisticType in {types!r} is not valid.")
        counts = {}
        for f in rows:
            key = repr(float(f.values["severity"][0]))
            counts[key] = counts.get(key, 0) + 1
        return json.dumps({"findingStatistics": {"countBySeverity": counts}})
    if group_by not in GROUPS:
        if group_by in ("DATE", "RESOURCE"):
            raise BadRequest(f"bench/standin.py does not group by {group_by} (scripts/emulator.py does)")
        raise BadRequest(f"The request is rejected because the groupBy {group_by!r} is not valid.")
    order = order or "DESC"
    if order not in ("ASC", "DESC"):
        raise BadRequest(f"The request is rejected because the orderBy {order!r} is not valid.")
    limit = integer(limit, DEFAULT_GROUPS, MAX_GROUPS, "maxResults")
    name, key_name = GROUPS[group_by]
    field = {"SEVERITY": "severity", "ACCOUNT": "accountId", "FINDING_TYPE": "type"}[group_by]
    groups = {}
    for f in rows:
        key = f.value(field, account)[0]
        total, last = groups.get(key, (0, 0))
        groups[key] = (total + 1, max(last, f.values["updatedAt"][0]))
    out = sorted(groups.items())
    out.sort(key=lambda kv: kv[1][0], reverse=order == "DESC")
    return json.dumps({"findingStatistics": {name: [
        {key_name: k, "totalFindings": total, "lastGeneratedAt": last / 1000} for k, (total, last) in out[:limit]]}})


class Standin:
    def __init__(self, table, scale, findings_per_region=0):
        self.table = table
        self.scale = scale
        self.findings_per_region = findings_per_region
        self.detectors = {}  # (account, region) -> {id: detector}
        self.findings = {}  # (account, region, detector id) -> {"set": FindingSet, "cache": {...}}
        self.sets = {}  # (region, n) -> FindingSet, shared by every account
        self.requests = 0
        self.guardduty = 0  # GuardDuty requests answered (GET /__standin/stats)

    def seed(self, account, region, detector_id, n):
        if n > 0:
            if (region, n) not in self.sets:
                self.sets[region, n] = FindingSet(region, n)
            self.findings[account, region, detector_id] = {"set": self.sets[region, n], "cache": {}}

    def hook(self, method, path, body):
        """POST /__standin/accounts: detectors with findings, made at once; GET
        /__standin/stats: the requests answered so far (neither is an AWS API)."""
        if method == "GET" and urllib.parse.urlsplit(path).path == "/__standin/stats":
            return 200, "application/json", json.dumps({"requests": self.requests, "guardduty": self.guardduty})
        try:
            if method != "POST" or urllib.parse.urlsplit(path).path != "/__standin/accounts":
                raise ValueError(f"no hook {method} {path}: POST /__standin/accounts")
            req = json.loads(body or b"{}")
            accounts, regions = req["accountIds"], req["regions"]
            n = req.get("findingsPerRegion", self.findings_per_region)
            frequency = req.get("frequency", "FIFTEEN_MINUTES")
            if not all(isinstance(a, str) and re.fullmatch(r"\d{12}", a) for a in accounts):
                raise ValueError("accountIds are 12-digit strings")
            if not all(isinstance(r, str) for r in regions) or isinstance(n, bool) or not isinstance(n, int) or n < 0:
                raise ValueError("regions are strings, findingsPerRegion an integer >= 0")
        except (ValueError, KeyError, TypeError) as e:
            return 400, "application/json", json.dumps({"message": str(e)})
        made = 0
        for account in accounts:
            for region in regions:
                here = self.detectors.setdefault((account, region), {})
                if here:
                    continue
                detector_id = uuid.uuid4().hex
                here[detector_id] = {"status": "ENABLED", "findingPublishingFrequency": frequency}
                self.seed(account, region, detector_id, n)
                made += 1
        return 200, "application/json", json.dumps({"detectors": made})

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
            self.guardduty += 1
            return self.gd(method, path, body, account, region)
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

    def gd(self, method, path, body, account, region):
        here = self.detectors.setdefault((account, region), {})
        parts = [p for p in urllib.parse.urlsplit(path).path.split("/") if p]
        ok = lambda doc: (200, "application/json", json.dumps(doc))  # noqa: E731
        if parts == ["detector"] and method == "GET":
            return ok({"detectorIds": sorted(here)})
        if parts == ["detector"] and method == "POST":
            req = json.loads(body or b"{}")
            detector_id = uuid.uuid4().hex
            here[detector_id] = {
                "status": "ENABLED" if req.get("enable") else "DISABLED",
                "findingPublishingFrequency": req.get("findingPublishingFrequency", "SIX_HOURS"),
            }
            self.seed(account, region, detector_id, self.findings_per_region)
            return ok({"detectorId": detector_id})
        if len(parts) >= 3 and parts[0] == "detector" and parts[2] == "findings" and method == "POST":
            if parts[1] not in here:
                return bad("The request is rejected because the input detectorId is not owned by the current account.")
            seeded = self.findings.get((account, region, parts[1]))
            try:
                req = json.loads(body or b"{}")
                if not isinstance(req, dict):
                    raise BadRequest("The request is rejected because the body is not a JSON object.")
                if parts[3:] == []:
                    return 200, "application/json", list_findings(seeded, account, req)
                if parts[3:] == ["get"]:
                    return 200, "application/json", get_findings(seeded, account, parts[1], req)
                if parts[3:] == ["statistics"]:
                    return 200, "application/json", statistics(seeded, account, req)
            except BadRequest as e:
                return bad(str(e))
            except ValueError:
                return bad("The request is rejected because the body is not JSON.")
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
                self.findings.pop((account, region, parts[1]), None)
                return ok({})
        return bad(f"{method} {path}")

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
                if path.startswith("/__standin/"):  # the set-up hook: no AWS call, no delay
                    status, ctype, payload = self.hook(method, path, body)
                else:
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
    p.add_argument("--findings-per-region", type=int, default=0, metavar="N",
                   help="N findings for every detector CreateDetector makes (not an AWS setting)")
    p.add_argument("--tls-cert")
    p.add_argument("--tls-key")
    args = p.parse_args()
    if args.findings_per_region < 0:
        sys.exit("standin.py: --findings-per-region must be >= 0")
    context = None
    if args.tls_cert:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(args.tls_cert, args.tls_key)
    standin = Standin(json.load(open(args.delays)), args.scale, args.findings_per_region)
    server = await asyncio.start_server(standin.connection, "127.0.0.1", args.port, backlog=4096, ssl=context)
    scheme = "https" if context else "http"
    print(f"listening on {scheme}://127.0.0.1:{server.sockets[0].getsockname()[1]}", flush=True)
    if args.exit_on_eof:
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
        return
    await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
