"""GuardDuty's findings operations that moto 5.2.5 lacks, on moto's own backend.

Following the GuardDuty API reference's request and response shapes, limits
and error codes:

  ListFindings            POST /detector/{detectorId}/findings
  GetFindings             POST /detector/{detectorId}/findings/get
  GetFindingsStatistics   POST /detector/{detectorId}/findings/statistics
  CreateSampleFindings    POST /detector/{detectorId}/findings/create
  ArchiveFindings         POST /detector/{detectorId}/findings/archive
  UnarchiveFindings       POST /detector/{detectorId}/findings/unarchive

Findings other than samples cannot be asked of AWS, so they are seeded through
a test hook that is clearly not AWS's (no such path exists in the GuardDuty API):

  POST /__gdctl/findings  {"accountId": ID, "region": R, "findings": [
                             {"type": "Recon:EC2/Portscan", "severity": 5.0,
                              "title": "...",                 (default: the type's usual title)
                              "firstSeenHoursAgo": 30,         (default: updatedHoursAgo)
                              "updatedHoursAgo": 2,            (default 0: lastSeen = updatedAt = now - this)
                              "archived": false, "sample": false, "count": 1,
                              "resource": {...}},              (a Resource; default: one of the type's kind)
                             ...]}
  -> 200 {"findingIds": [...]}, 400 {"message": ...} (nothing appended) when
     the request is malformed or the account has no detector in the region.

It appends to the account's findings in that region; any type string is
accepted (CreateSampleFindings takes only those of FINDING_TYPES). The request
goes to the emulator with any GuardDuty credential scope in its Authorization
header (moto routes by it); nothing checks the signature.

Whose findings a detector sees: its own account's in its region, and, for the
region's delegated administrator, also those of its enabled members there
(guardduty_org.py), each with its own accountId. Get, Archive and Unarchive
work on what the detector sees; as the reference says, a member account may not
archive (its administrator may).

Findings are kept in the API's own shape (createdAt, updatedAt and
service.eventFirstSeen/eventLastSeen ISO-8601 strings, severity a double), per
account and region on moto's GuardDutyBackend. Criteria compare a field's
values -- every value of a list such as s3BucketDetails -- with eq/equals (any
of the values), neq/notEquals (none of them; a finding lacking the field
matches) and the ranges (numbers; updatedAt and the event times in epoch
milliseconds). `service.additionalInfo.X` reads X from the JSON in
additionalInfo.value (a sample finding's holds {"sample":true}).

Order: ListFindings (and GetFindings when given sortCriteria) sorts by
sortCriteria -- attributeName any criterion field, updatedAt by default;
orderBy DESC by default; findings lacking the attribute last -- and ties by
updatedAt descending then id, so answers are deterministic.
GetFindingsStatistics orders the groups by totalFindings (orderBy, DESC by
default; ties by the group's key ascending), DATE groups (per day and severity,
of updatedAt) by date; it answers at most maxResults groups and never a next
page, as AWS does.

`install()` must run before moto's server app is created.
"""
import json
import time
import uuid
from datetime import datetime, timezone
from typing import Any, Callable

from moto.guardduty import urls
from moto.guardduty.models import GuardDutyBackend, guardduty_backends
from moto.guardduty.responses import GuardDutyResponse
from moto.utilities.utils import get_partition

import finding_criteria
from finding_criteria import BOOL, NUMBER, STRING, TIME
from guardduty_org import BadRequest, backend, org_state, organization_of

MAX_RESULTS = 50          # ListFindings' maxResults, and ids per Get/Archive/Unarchive
MAX_GROUPS = 100          # GetFindingsStatistics' maxResults
DEFAULT_GROUPS = 25
GROUP_BY = ("ACCOUNT", "DATE", "FINDING_TYPE", "RESOURCE", "SEVERITY")
ORDER_BY = ("ASC", "DESC")
STATISTIC_TYPES = ("COUNT_BY_SEVERITY",)

# Real, active GuardDuty finding types with their default severity (the user
# guide's: High 8, Medium 5, Low 2; "Low*" ones at their usual Low) and a title
# in the manner of GuardDuty's (the resource's identifier filled in).
FINDING_TYPES: dict[str, tuple[float, str]] = {
    # EC2
    "Backdoor:EC2/C&CActivity.B!DNS": (8.0, "Command and Control server domain name queried by EC2 instance "
                                            "{instance}."),
    "Backdoor:EC2/DenialOfService.Tcp": (8.0, "EC2 instance {instance} is behaving in a manner that may indicate it "
                                              "is being used to perform a Denial of Service attack using TCP."),
    "CryptoCurrency:EC2/BitcoinTool.B!DNS": (8.0, "Bitcoin-related domain name queried by EC2 instance {instance}."),
    "Impact:EC2/BitcoinDomainRequest.Reputation": (8.0, "EC2 instance {instance} queried a domain name with a "
                                                        "reputation for cryptocurrency-related activity."),
    "Trojan:EC2/DNSDataExfiltration": (8.0, "Data exfiltration through DNS queries from EC2 instance {instance}."),
    "UnauthorizedAccess:EC2/TorClient": (8.0, "EC2 instance {instance} is communicating with a Tor entry node."),
    "Behavior:EC2/NetworkPortUnusual": (5.0, "Unusual outbound communication on server port 25 from EC2 instance "
                                             "{instance}."),
    "Backdoor:EC2/Spambot": (5.0, "EC2 instance {instance} is communicating with remote hosts on port 25 in a "
                                  "manner that may indicate it sends spam."),
    "Recon:EC2/Portscan": (5.0, "EC2 instance {instance} is performing outbound port scans against remote hosts."),
    "UnauthorizedAccess:EC2/MaliciousIPCaller.Custom": (5.0, "EC2 instance {instance} is communicating with an IP "
                                                             "address on a custom threat list."),
    "Recon:EC2/PortProbeUnprotectedPort": (2.0, "Unprotected port on EC2 instance {instance} is being probed."),
    "UnauthorizedAccess:EC2/SSHBruteForce": (2.0, "SSH brute force attacks against EC2 instance {instance}."),
    "UnauthorizedAccess:EC2/RDPBruteForce": (2.0, "RDP brute force attacks against EC2 instance {instance}."),
    # IAM
    "UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS": (
        8.0, "Credentials for the instance role {user} used from an external IP address."),
    "UnauthorizedAccess:IAMUser/MaliciousIPCaller": (5.0, "API invoked by {user} from a known malicious IP address."),
    "Recon:IAMUser/MaliciousIPCaller": (5.0, "Reconnaissance API invoked by {user} from a known malicious IP address."),
    "PenTest:IAMUser/KaliLinux": (5.0, "API invoked by {user} from a Kali Linux computer."),
    "Persistence:IAMUser/AnomalousBehavior": (5.0, "API commonly used to keep unauthorized access invoked by {user} "
                                                   "in an anomalous way."),
    "CredentialAccess:IAMUser/AnomalousBehavior": (5.0, "API commonly used to gain credentials invoked by {user} in "
                                                        "an anomalous way."),
    "Discovery:IAMUser/AnomalousBehavior": (2.0, "API commonly used for discovery invoked by {user} in an anomalous "
                                                 "way."),
    "Policy:IAMUser/RootCredentialUsage": (2.0, "API invoked using root credentials."),
    "Stealth:IAMUser/CloudTrailLoggingDisabled": (2.0, "AWS CloudTrail trail disabled by {user}."),
    "Stealth:IAMUser/PasswordPolicyChange": (2.0, "Account password policy weakened by {user}."),
    # S3
    "Policy:S3/BucketAnonymousAccessGranted": (8.0, "S3 bucket {bucket} opened to anonymous users by {user}."),
    "Policy:S3/BucketPublicAccessGranted": (8.0, "S3 bucket {bucket} made publicly accessible by {user}."),
    "Exfiltration:S3/AnomalousBehavior": (8.0, "Objects of S3 bucket {bucket} retrieved by {user} in an anomalous "
                                               "way."),
    "Impact:S3/MaliciousIPCaller": (8.0, "S3 API that can tamper with data invoked on bucket {bucket} from a known "
                                         "malicious IP address."),
    "Discovery:S3/MaliciousIPCaller": (8.0, "S3 API used to discover resources invoked on bucket {bucket} from a "
                                            "known malicious IP address."),
    "UnauthorizedAccess:S3/TorIPCaller": (8.0, "S3 API invoked on bucket {bucket} from a Tor exit node."),
    "Policy:S3/BucketBlockPublicAccessDisabled": (2.0, "Block Public Access disabled for S3 bucket {bucket} by "
                                                       "{user}."),
    "Stealth:S3/ServerAccessLoggingDisabled": (2.0, "Server access logging disabled for S3 bucket {bucket} by {user}."),
    # Kubernetes (EKS audit logs)
    "Policy:Kubernetes/AdminAccessToDefaultServiceAccount": (8.0, "Default service account granted admin privileges "
                                                                  "in EKS cluster {cluster}."),
    "Policy:Kubernetes/AnonymousAccessGranted": (8.0, "Anonymous user granted access to EKS cluster {cluster}."),
    "CredentialAccess:Kubernetes/MaliciousIPCaller": (8.0, "Kubernetes API used to access secrets of EKS cluster "
                                                           "{cluster} invoked from a known malicious IP address."),
    "CredentialAccess:Kubernetes/SuccessfulAnonymousAccess": (8.0, "Kubernetes API used to access secrets of EKS "
                                                                   "cluster {cluster} invoked by an unauthenticated "
                                                                   "user."),
    "CredentialAccess:Kubernetes/TorIPCaller": (8.0, "Kubernetes API used to access secrets of EKS cluster {cluster} "
                                                     "invoked from a Tor exit node."),
    "Discovery:Kubernetes/MaliciousIPCaller": (5.0, "Kubernetes API used to discover resources of EKS cluster "
                                                    "{cluster} invoked from a known malicious IP address."),
    "Execution:Kubernetes/ExecInKubeSystemPod": (5.0, "Command executed inside a kube-system pod of EKS cluster "
                                                      "{cluster}."),
    "Policy:Kubernetes/ExposedDashboard": (5.0, "Kubernetes dashboard of EKS cluster {cluster} exposed to the "
                                                "internet."),
    # Runtime Monitoring
    "CryptoCurrency:Runtime/BitcoinTool.B!DNS": (8.0, "A process on EC2 instance {instance} queried a "
                                                      "cryptocurrency-related domain name."),
    "Backdoor:Runtime/C&CActivity.B!DNS": (8.0, "A process on EC2 instance {instance} queried the domain name of a "
                                                "known command and control server."),
    "Execution:Runtime/ReverseShell": (8.0, "A process on EC2 instance {instance} started a reverse shell."),
    "Impact:Runtime/CryptoMinerExecuted": (8.0, "A cryptocurrency miner ran on EC2 instance {instance}."),
    "DefenseEvasion:Runtime/ProcessInjection.Proc": (8.0, "Process injection through the proc filesystem on EC2 "
                                                          "instance {instance}."),
    "Execution:Runtime/NewBinaryExecuted": (5.0, "A newly created or modified binary ran on EC2 instance {instance}."),
}

# The fields a FindingCriteria may name (the reference's list, and the
# console's), by how their values compare.
FIELDS: dict[str, str] = {
    "accountId": STRING, "region": STRING, "id": STRING, "type": STRING,
    "confidence": NUMBER, "severity": NUMBER, "updatedAt": TIME,
    "resource.resourceType": STRING,
    **{f"resource.accessKeyDetails.{k}": STRING for k in ("accessKeyId", "principalId", "userName", "userType")},
    **{f"resource.instanceDetails.{k}": STRING for k in (
        "iamInstanceProfile.id", "imageId", "instanceId", "instanceType",
        "networkInterfaces.ipv6Addresses", "networkInterfaces.privateIpAddresses.privateIpAddress",
        "networkInterfaces.publicDnsName", "networkInterfaces.publicIp", "networkInterfaces.securityGroups.groupId",
        "networkInterfaces.securityGroups.groupName", "networkInterfaces.subnetId", "networkInterfaces.vpcId",
        "tags.key", "tags.value")},
    **{f"resource.s3BucketDetails.{k}": STRING for k in ("name", "arn", "type")},
    **{f"resource.eksClusterDetails.{k}": STRING for k in ("name", "arn")},
    "resource.kubernetesDetails.kubernetesUserDetails.username": STRING,
    **{f"resource.kubernetesDetails.kubernetesWorkloadDetails.{k}": STRING for k in ("name", "namespace", "type")},
    "service.action.actionType": STRING,
    **{f"service.action.awsApiCallAction.{k}": STRING for k in (
        "api", "callerType", "remoteIpDetails.city.cityName", "remoteIpDetails.country.countryName",
        "remoteIpDetails.ipAddressV4", "remoteIpDetails.organization.asn", "remoteIpDetails.organization.asnOrg",
        "serviceName")},
    "service.action.dnsRequestAction.domain": STRING,
    "service.action.dnsRequestAction.domainWithSuffix": STRING,
    "service.action.networkConnectionAction.blocked": BOOL,
    **{f"service.action.networkConnectionAction.{k}": STRING for k in (
        "connectionDirection", "protocol", "remoteIpDetails.country.countryName", "remoteIpDetails.ipAddressV4",
        "remoteIpDetails.organization.asn", "remoteIpDetails.organization.asnOrg")},
    "service.action.networkConnectionAction.localPortDetails.port": NUMBER,
    "service.action.networkConnectionAction.remotePortDetails.port": NUMBER,
    "service.additionalInfo.threatListName": STRING,
    "service.additionalInfo.sample": BOOL,
    "service.archived": BOOL, "service.count": NUMBER,
    "service.eventFirstSeen": TIME, "service.eventLastSeen": TIME,
    "service.ebsVolumeScanDetails.scanId": STRING, "service.featureName": STRING, "service.resourceRole": STRING,
}

# What GetFindingsStatistics' RESOURCE groups by, per resource type (the reference's mapping).
RESOURCE_ID = {"AccessKey": "accessKeyDetails.accessKeyId", "Container": "containerDetails.id",
               "ECSCluster": "ecsClusterDetails.name", "EKSCluster": "eksClusterDetails.name",
               "Instance": "instanceDetails.instanceId",
               "KubernetesCluster": "kubernetesDetails.kubernetesWorkloadDetails.name",
               "Lambda": "lambdaDetails.functionName", "RDSDBInstance": "rdsDbInstanceDetails.dbInstanceIdentifier",
               "S3Bucket": "s3BucketDetails.name", "S3Object": "s3BucketDetails.name"}

SAMPLE_INFO = json.dumps({"sample": True}, separators=(",", ":"))  # a sample's additionalInfo.value
HOOK_KEYS = {"type", "severity", "title", "firstSeenHoursAgo", "updatedHoursAgo", "archived", "sample", "count",
             "resource"}


# --- time --------------------------------------------------------------------

def now_ms() -> int:
    return int(time.time() * 1000)


def iso(ms: int) -> str:
    """An epoch-millisecond time as GuardDuty writes it: 2024-05-01T12:00:00.123Z."""
    at = datetime.fromtimestamp(ms // 1000, timezone.utc)
    return at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def ms_of(text: str) -> int:
    at = datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)
    return int(at.timestamp()) * 1000 + at.microsecond // 1000


# --- state ---------------------------------------------------------------------

def findings_state(b: GuardDutyBackend) -> dict[str, dict[str, Any]]:
    """One account's findings in one region, by id, in the API's Finding shape."""
    if not hasattr(b, "gdctl_findings"):
        b.gdctl_findings = {}
    return b.gdctl_findings


def enabled_members(account: str, region: str) -> list[str]:
    """The enabled members of the account, if it is the region's delegated administrator."""
    org = organization_of(account)
    if org is None or account not in backend(org.org.master_account_id, region).admin_account_ids:
        return []
    return [m["accountId"] for m in org_state(backend(account, region))["members"].values()
            if m["relationshipStatus"] == "Enabled"]


def visible_findings(account: str, region: str) -> list[dict[str, Any]]:
    """The account's findings, and its enabled members' if it is their administrator."""
    seen = list(findings_state(backend(account, region)).values())
    for member in enabled_members(account, region):
        seen.extend(list(findings_state(backend(member, region)).values()))
    return seen


def administrator_of(account: str, region: str) -> str | None:
    """The region's delegated administrator whose enabled member the account is."""
    org = organization_of(account)
    if org is None:
        return None
    for admin in backend(org.org.master_account_id, region).admin_account_ids:
        if admin != account and account in enabled_members(admin, region):
            return admin
    return None


# --- findings --------------------------------------------------------------------

def family(finding_type: str) -> str:
    """The resource part of a type: Recon:EC2/Portscan -> EC2."""
    return finding_type.split(":", 1)[-1].split("/", 1)[0]


def default_resource(finding_type: str, account: str, region: str, ident: str, sample: bool) -> dict[str, Any]:
    """A realistic resource of the type's kind; a sample's has GuardDuty's placeholder names."""
    hexa = ident.replace("-", "")
    created = int(time.time()) - 86400 * 90
    kind = family(finding_type)
    user = "GeneratedFindingUserName" if sample else f"deploy-{hexa[:6]}"
    root = finding_type == "Policy:IAMUser/RootCredentialUsage"
    access_key = {
        "accessKeyId": "GeneratedFindingAccessKeyId" if sample else f"ASIA{hexa[:16].upper()}",
        "principalId": "GeneratedFindingPrincipalId" if sample else f"AIDA{hexa[16:32].upper()}",
        "userName": "Root" if root else user,
        "userType": "Root" if root else "IAMUser",
    }
    if kind == "IAMUser":
        return {"resourceType": "AccessKey", "accessKeyDetails": access_key}
    if kind == "S3":
        name = "bucketname" if sample else f"data-{hexa[:12]}"
        return {"resourceType": "S3Bucket", "accessKeyDetails": access_key, "s3BucketDetails": [{
            "name": name, "arn": f"arn:{get_partition(region)}:s3:::{name}", "type": "Destination",
            "createdAt": created, "owner": {"id": hexa * 2}, "tags": [],
        }]}
    if kind == "Kubernetes":
        name = "GeneratedFindingEKSClusterName" if sample else f"cluster-{hexa[:8]}"
        return {"resourceType": "EKSCluster", "eksClusterDetails": {
            "name": name, "arn": f"arn:{get_partition(region)}:eks:{region}:{account}:cluster/{name}",
            "vpcId": f"vpc-0{hexa[:16]}", "status": "ACTIVE", "tags": [], "createdAt": created,
        }, "kubernetesDetails": {
            "kubernetesUserDetails": {"username": "system:serviceaccount:default:default", "uid": str(uuid.UUID(hexa)),
                                      "groups": ["system:serviceaccounts", "system:authenticated"]},
            "kubernetesWorkloadDetails": {"name": f"web-{hexa[:5]}", "type": "pods", "uid": str(uuid.UUID(hexa)),
                                          "namespace": "default"},
        }}
    # EC2, Runtime and any other kind: an instance.
    instance = "i-99999999" if sample else f"i-0{hexa[:16]}"
    ip = f"10.0.{int(hexa[:2], 16)}.{int(hexa[2:4], 16)}"
    private_dns = f"ip-{ip.replace('.', '-')}.{region}.compute.internal"
    return {"resourceType": "Instance", "instanceDetails": {
        "instanceId": instance, "instanceType": "m5.large", "instanceState": "running",
        "availabilityZone": f"{region}a", "imageId": f"ami-0{hexa[4:20]}", "imageDescription": "Amazon Linux 2023 AMI",
        "launchTime": iso(created * 1000), "platform": "linux",
        "iamInstanceProfile": {"arn": f"arn:{get_partition(region)}:iam::{account}:instance-profile/app-server",
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


def default_title(finding_type: str, resource: dict[str, Any]) -> str:
    template = FINDING_TYPES.get(finding_type, (0, "{type} activity was detected."))[1]
    first = lambda path: next(iter(values_of({"resource": resource}, "resource." + path)), "unknown")  # noqa: E731
    return template.format(type=finding_type, instance=first("instanceDetails.instanceId"),
                           user=first("accessKeyDetails.userName"), bucket=first("s3BucketDetails.name"),
                           cluster=first("eksClusterDetails.name"))


def new_finding(account: str, region: str, detector_id: str, finding_type: str, severity: float, *,
                first_seen: int, last_seen: int, title: str | None = None, archived: bool = False,
                sample: bool = False, count: int = 1, resource: dict[str, Any] | None = None) -> dict[str, Any]:
    """A finding in the API's Finding shape."""
    fid = uuid.uuid4().hex
    if resource is None:
        resource = default_resource(finding_type, account, region, fid, sample)
    if title is None:
        title = ("[SAMPLE] " if sample else "") + default_title(finding_type, resource)
    return {
        "accountId": account,
        "arn": f"arn:{get_partition(region)}:guardduty:{region}:{account}:detector/{detector_id}/finding/{fid}",
        "confidence": float(severity),
        "createdAt": iso(first_seen),
        "description": title.removeprefix("[SAMPLE] "),
        "id": fid,
        "partition": get_partition(region),
        "region": region,
        "resource": resource,
        "schemaVersion": "2.0",
        "service": {
            "serviceName": "guardduty",
            "detectorId": detector_id,
            "archived": archived,
            "count": count,
            "eventFirstSeen": iso(first_seen),
            "eventLastSeen": iso(last_seen),
            "resourceRole": "TARGET",
            "additionalInfo": {"value": SAMPLE_INFO if sample else "{}", "type": "default"},
        },
        "severity": float(severity),
        "title": title,
        "type": finding_type,
        "updatedAt": iso(last_seen),
    }


# --- criteria and order ------------------------------------------------------------

def values_of(finding: dict[str, Any], field: str) -> list[Any]:
    """A field's values in a finding (every element of the lists on the way)."""
    if field.startswith("service.additionalInfo."):
        try:
            doc = json.loads(finding["service"]["additionalInfo"]["value"])
        except (KeyError, TypeError, ValueError):
            doc = {}
        nodes, parts = [doc], field.split(".")[2:]
    else:
        nodes, parts = [finding], field.split(".")
    for part in parts:
        found = []
        for node in nodes:
            if isinstance(node, dict) and node.get(part) is not None:
                value = node[part]
                found.extend(value if isinstance(value, list) else [value])
        nodes = found
    return nodes


def typed(kind: str, value: Any) -> Any:
    """A finding's value as the field's kind compares it, or None."""
    if kind == TIME:
        return ms_of(value) if isinstance(value, str) else None
    if kind == NUMBER:
        return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None
    if kind == BOOL:
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        return value if isinstance(value, bool) else None
    return value if isinstance(value, str) else json.dumps(value)


def field_values(finding: dict[str, Any], field: str) -> list[Any]:
    kind = FIELDS[field]
    return [v for v in (typed(kind, raw) for raw in values_of(finding, field)) if v is not None]


def operand(field: str, kind: str, value: Any) -> Any:
    """A value of an eq/neq condition (a string) as the field's kind compares it."""
    return finding_criteria.operand(field, kind, value, BadRequest)


def compile_criteria(criteria: Any) -> list[Callable[[dict[str, Any]], bool]]:
    """A FindingCriteria as tests a finding must all pass; a bad one is refused at once."""
    pairs = finding_criteria.compile_criteria(
        criteria, FIELDS, BadRequest,
        lambda field: f"The request is rejected because {field!r} is not a valid finding criterion field.")
    return [lambda f, field=field, test=test: test(field_values(f, field)) for field, test in pairs]


def matching(findings: list[dict[str, Any]], criteria: Any) -> list[dict[str, Any]]:
    tests = compile_criteria(criteria)
    return [f for f in findings if all(test(f) for test in tests)]


def ordered(findings: list[dict[str, Any]], sort: Any) -> list[dict[str, Any]]:
    """By sortCriteria (DESC by default; those lacking the attribute last), then
    by updatedAt descending, then id."""
    if sort is not None and not isinstance(sort, dict):
        raise BadRequest("The request is rejected because the sortCriteria is not valid.")
    sort = sort or {}
    attribute = sort.get("attributeName") or "updatedAt"
    order = sort.get("orderBy") or "DESC"
    if attribute not in FIELDS:
        raise BadRequest(f"The request is rejected because {attribute!r} is not a valid sort attribute.")
    if order not in ORDER_BY:
        raise BadRequest(f"The request is rejected because the orderBy {order!r} is not valid.")
    rows = sorted(findings, key=lambda f: f["id"])
    rows.sort(key=lambda f: ms_of(f["updatedAt"]), reverse=True)
    keyed = [(next(iter(field_values(f, attribute)), None), f) for f in rows]
    present = [(k, f) for k, f in keyed if k is not None]
    present.sort(key=lambda kf: kf[0], reverse=order == "DESC")
    return [f for _, f in present] + [f for k, f in keyed if k is None]


# --- statistics ------------------------------------------------------------------------

def grouped(findings: list[dict[str, Any]], group_by: str, order: str, limit: int) -> tuple[str, list[dict]]:
    def key_of(f: dict[str, Any]) -> tuple:
        if group_by == "ACCOUNT":
            return (f["accountId"],)
        if group_by == "FINDING_TYPE":
            return (f["type"],)
        if group_by == "SEVERITY":
            return (f["severity"],)
        if group_by == "DATE":
            return (ms_of(f["updatedAt"]) // 86_400_000 * 86_400, f["severity"])
        kind = f["resource"].get("resourceType")
        path = RESOURCE_ID.get(kind)
        ids = values_of(f, "resource." + path) if path else []
        return (f["accountId"], kind or "", ids[0] if ids else "")

    groups: dict[tuple, list[dict[str, Any]]] = {}
    for f in findings:
        groups.setdefault(key_of(f), []).append(f)
    rows = []
    for key, members in groups.items():
        stats = {"totalFindings": len(members),
                 "lastGeneratedAt": max(ms_of(f["updatedAt"]) for f in members) / 1000}
        if group_by == "ACCOUNT":
            rows.append((key, {"accountId": key[0], **stats}))
        elif group_by == "FINDING_TYPE":
            rows.append((key, {"findingType": key[0], **stats}))
        elif group_by == "SEVERITY":
            rows.append((key, {"severity": key[0], **stats}))
        elif group_by == "DATE":
            rows.append((key, {"date": key[0], "severity": key[1], **stats}))
        else:
            row = {"accountId": key[0], "resourceType": key[1], "resourceId": key[2], **stats}
            rows.append((key, {k: v for k, v in row.items() if v != ""}))
    descending = order == "DESC"
    rows.sort(key=lambda kr: kr[0])
    if group_by == "DATE":
        rows.sort(key=lambda kr: kr[0], reverse=descending)
    else:
        rows.sort(key=lambda kr: kr[1]["totalFindings"], reverse=descending)
    name = {"ACCOUNT": "groupedByAccount", "DATE": "groupedByDate", "FINDING_TYPE": "groupedByFindingType",
            "RESOURCE": "groupedByResource", "SEVERITY": "groupedBySeverity"}[group_by]
    return name, [row for _, row in rows[:limit]]


# --- the test hook -----------------------------------------------------------------------

def seed(request, full_url, headers):
    """The test hook: not an AWS operation."""
    def refuse(message: str):
        return 400, {"Content-Type": "application/json"}, json.dumps({"message": message})

    try:
        body = json.loads(request.get_data() or b"{}")
        account, region, items = body["accountId"], body["region"], body["findings"]
    except (ValueError, KeyError, TypeError) as e:
        return refuse(f"the hook takes JSON with accountId, region and findings ({e!r})")
    if not isinstance(account, str) or not isinstance(region, str) or not isinstance(items, list):
        return refuse("accountId and region are strings, findings a list")
    try:
        b = guardduty_backends[account][region]
    except KeyError:
        return refuse(f"unknown region {region!r}")
    if not b.detectors:
        return refuse(f"account {account} has no detector in {region}: create one first")
    detector_id = next(iter(b.detectors))
    now = now_ms()
    made = []
    for i, item in enumerate(items):
        where = f"findings[{i}]"
        if not isinstance(item, dict):
            return refuse(f"{where} is not an object")
        unknown = sorted(set(item) - HOOK_KEYS)
        if unknown:
            return refuse(f"{where} has unknown keys {unknown}; the hook takes {sorted(HOOK_KEYS)}")
        finding_type, severity = item.get("type"), item.get("severity")
        if not isinstance(finding_type, str) or not finding_type:
            return refuse(f"{where} needs a type (a non-empty string)")
        if isinstance(severity, bool) or not isinstance(severity, (int, float)) or not 0 <= severity <= 10:
            return refuse(f"{where} needs a severity: a number from 0 to 10")
        numbers = {}
        for key in ("updatedHoursAgo", "firstSeenHoursAgo"):
            value = item.get(key, numbers.get("updatedHoursAgo", 0))
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                return refuse(f"{where}.{key} must be a number of hours, 0 or more")
            numbers[key] = value
        if numbers["firstSeenHoursAgo"] < numbers["updatedHoursAgo"]:
            return refuse(f"{where} was first seen after it was last seen (firstSeenHoursAgo < updatedHoursAgo)")
        for key in ("archived", "sample"):
            if not isinstance(item.get(key, False), bool):
                return refuse(f"{where}.{key} must be true or false")
        count = item.get("count", 1)
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            return refuse(f"{where}.count must be an integer, 1 or more")
        if not isinstance(item.get("title", ""), str):
            return refuse(f"{where}.title must be a string")
        if "resource" in item and not isinstance(item["resource"], dict):
            return refuse(f"{where}.resource must be a Resource object")
        made.append(new_finding(
            account, region, detector_id, finding_type, severity,
            first_seen=now - round(numbers["firstSeenHoursAgo"] * 3_600_000),
            last_seen=now - round(numbers["updatedHoursAgo"] * 3_600_000),
            title=item.get("title"), archived=item.get("archived", False), sample=item.get("sample", False),
            count=count, resource=item.get("resource"),
        ))
    state = findings_state(b)
    for f in made:
        state[f["id"]] = f
    return 200, {"Content-Type": "application/json"}, json.dumps({"findingIds": [f["id"] for f in made]})


# --- the operations ------------------------------------------------------------------------

def finding_ids(ids: Any) -> list[str]:
    if not isinstance(ids, list) or not 1 <= len(ids) <= MAX_RESULTS:
        raise BadRequest(f"The request is rejected because findingIds must hold 1 to {MAX_RESULTS} ids.")
    return list(dict.fromkeys(ids))


class FindingsResponses:
    """Methods added to moto's GuardDutyResponse (named as moto dispatches them)."""

    def list_findings(self) -> str:
        detector_id = self.path.split("/")[-2]
        guardduty_backends[self.current_account][self.region].get_detector(detector_id)  # moto's own error
        size = self._get_param("maxResults")
        size = MAX_RESULTS if size is None else size
        if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= MAX_RESULTS:
            raise BadRequest(f"The request is rejected because maxResults must be from 1 to {MAX_RESULTS}.")
        token = self._get_param("nextToken") or "0"
        if not isinstance(token, str) or not token.isdigit():
            raise BadRequest("The request is rejected because the nextToken is not valid.")
        found = matching(visible_findings(self.current_account, self.region), self._get_param("findingCriteria"))
        rows = ordered(found, self._get_param("sortCriteria"))
        start = int(token)
        out: dict[str, Any] = {"findingIds": [f["id"] for f in rows[start:start + size]]}
        if start + size < len(rows):
            out["nextToken"] = str(start + size)
        return json.dumps(out)

    def get_findings(self) -> str:
        detector_id = self.path.split("/")[-3]
        guardduty_backends[self.current_account][self.region].get_detector(detector_id)
        ids = finding_ids(self._get_param("findingIds"))
        by_id = {f["id"]: f for f in visible_findings(self.current_account, self.region)}
        found = [by_id[i] for i in ids if i in by_id]  # unknown ids are left out, as AWS does
        sort = self._get_param("sortCriteria")
        if sort is not None:
            found = ordered(found, sort)
        return json.dumps({"findings": found})

    def get_findings_statistics(self) -> str:
        detector_id = self.path.split("/")[-3]
        guardduty_backends[self.current_account][self.region].get_detector(detector_id)
        group_by = self._get_param("groupBy")
        types = self._get_param("findingStatisticTypes") or []
        order, limit = self._get_param("orderBy"), self._get_param("maxResults")
        if (group_by is None) == (not types):
            raise BadRequest("The request is rejected because it must name either findingStatisticTypes or "
                             "groupBy, and not both.")
        if group_by is None and (order is not None or limit is not None):
            raise BadRequest("The request is rejected because maxResults and orderBy may be used only with groupBy.")
        found = matching(visible_findings(self.current_account, self.region), self._get_param("findingCriteria"))
        if group_by is None:
            for t in types:
                if t not in STATISTIC_TYPES:
                    raise BadRequest(f"The request is rejected because the findingStatisticType {t!r} is not valid.")
            counts: dict[str, int] = {}
            for f in found:
                counts[repr(float(f["severity"]))] = counts.get(repr(float(f["severity"])), 0) + 1
            return json.dumps({"findingStatistics": {"countBySeverity": counts}})
        if group_by not in GROUP_BY:
            raise BadRequest(f"The request is rejected because the groupBy {group_by!r} is not valid.")
        order = order or "DESC"
        if order not in ORDER_BY:
            raise BadRequest(f"The request is rejected because the orderBy {order!r} is not valid.")
        limit = DEFAULT_GROUPS if limit is None else limit
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_GROUPS:
            raise BadRequest(f"The request is rejected because maxResults must be from 1 to {MAX_GROUPS}.")
        name, rows = grouped(found, group_by, order, limit)
        return json.dumps({"findingStatistics": {name: rows}})

    def create_sample_findings(self) -> str:
        detector_id = self.path.split("/")[-3]
        me = self.current_account
        b = guardduty_backends[me][self.region]
        b.get_detector(detector_id)
        types = self._get_param("findingTypes") or list(FINDING_TYPES)
        if not isinstance(types, list) or len(types) > MAX_RESULTS:
            raise BadRequest(f"The request is rejected because findingTypes may hold at most {MAX_RESULTS} types.")
        for t in types:
            if t not in FINDING_TYPES:
                raise BadRequest(f"The request is rejected because the finding type {t!r} is not valid.")
        state = findings_state(b)
        now = now_ms()
        for t in dict.fromkeys(types):
            earlier = next((f for f in list(state.values()) if f["type"] == t
                            and field_values(f, "service.additionalInfo.sample") == [True]), None)
            if earlier is not None:  # the same sample again: one more occurrence of it
                earlier["service"]["count"] += 1
                earlier["service"]["eventLastSeen"] = earlier["updatedAt"] = iso(now)
                continue
            f = new_finding(me, self.region, detector_id, t, FINDING_TYPES[t][0], first_seen=now, last_seen=now,
                            sample=True)
            state[f["id"]] = f
        return "{}"

    def archive_findings(self) -> str:
        detector_id = self.path.split("/")[-3]
        guardduty_backends[self.current_account][self.region].get_detector(detector_id)
        admin = administrator_of(self.current_account, self.region)
        if admin is not None:
            raise BadRequest("The request is rejected because the current account is a member account: only its "
                             f"administrator account ({admin}) can archive findings.")
        set_archived(self.current_account, self.region, finding_ids(self._get_param("findingIds")), True)
        return "{}"

    def unarchive_findings(self) -> str:
        detector_id = self.path.split("/")[-3]
        guardduty_backends[self.current_account][self.region].get_detector(detector_id)
        set_archived(self.current_account, self.region, finding_ids(self._get_param("findingIds")), False)
        return "{}"


def set_archived(account: str, region: str, ids: list[str], archived: bool) -> None:
    """Ids the detector does not see are passed over."""
    by_id = {f["id"]: f for f in visible_findings(account, region)}
    now = iso(now_ms())
    for i in ids:
        f = by_id.get(i)
        if f is not None and f["service"]["archived"] != archived:
            f["service"]["archived"] = archived
            f["updatedAt"] = now


PATHS = {
    "{0}/detector/(?P<detector_id>[^/]+)/findings$": GuardDutyResponse.dispatch,
    "{0}/detector/(?P<detector_id>[^/]+)/findings/get$": GuardDutyResponse.dispatch,
    "{0}/detector/(?P<detector_id>[^/]+)/findings/statistics$": GuardDutyResponse.dispatch,
    "{0}/detector/(?P<detector_id>[^/]+)/findings/create$": GuardDutyResponse.dispatch,
    "{0}/detector/(?P<detector_id>[^/]+)/findings/archive$": GuardDutyResponse.dispatch,
    "{0}/detector/(?P<detector_id>[^/]+)/findings/unarchive$": GuardDutyResponse.dispatch,
    "{0}/__gdctl/findings$": seed,
}


def install() -> None:
    urls.url_paths.update(PATHS)
    for name, method in vars(FindingsResponses).items():
        if callable(method) and not name.startswith("_"):
            setattr(GuardDutyResponse, name, method)
