"""GuardDuty's Organizations operations that moto 5.2.5 lacks, on moto's own backend.

moto implements EnableOrganizationAdminAccount and ListOrganizationAdminAccounts
only, and without any check. This module adds, following the GuardDuty API
reference's request and response shapes and error codes:

  DisableOrganizationAdminAccount     POST /admin/disable
  DescribeOrganizationConfiguration   GET  /detector/{detectorId}/admin
  UpdateOrganizationConfiguration     POST /detector/{detectorId}/admin
  CreateMembers                       POST /detector/{detectorId}/member
  ListMembers                         GET  /detector/{detectorId}/member  (any account: an
                                      administrator's members; none for another account)
  GetMemberDetectors                  POST /detector/{detectorId}/member/detector/get
  DisassociateMembers                 POST /detector/{detectorId}/member/disassociate

and makes EnableOrganizationAdminAccount behave as AWS does: only the
organization's management account may call it, one administrator per region,
GuardDuty becomes a trusted service of the organization, and the service
creates the administrator's detector in that region a moment later.

State lives in moto's backends (the single source of truth): the delegated
administrator in the management account's GuardDuty backend (moto's own
`admin_account_ids`), the organization configuration and the members in the
administrator's backend of that region, member detectors in the member's, and
the organization, its accounts and trusted services in moto's Organizations.

Auto-enable as AWS documents it: NEW makes accounts that join the organization
afterwards members; ALL does the same and also enrolls existing accounts "within
24 hours" -- which this emulator's clock never reaches, so existing accounts are
only covered by CreateMembers (as a careful tool must do on AWS too). A plan
(feature) at NEW or ALL is turned on in each account that becomes a member; a
plan set to ALL is also turned on in the existing members; none is ever turned
off by auto-enable.

`install()` must run before moto's server app is created.
"""
import json
import threading
import time
from datetime import datetime, timezone
from typing import Any

from moto.core.exceptions import JsonRESTError
from moto.guardduty import urls
from moto.guardduty.models import GuardDutyBackend, guardduty_backends
from moto.guardduty.responses import GuardDutyResponse
from moto.organizations.models import organizations_backends

SERVICE_PRINCIPAL = "guardduty.amazonaws.com"
ORG_FEATURES = {
    "S3_DATA_EVENTS": [],
    "EKS_AUDIT_LOGS": [],
    "EBS_MALWARE_PROTECTION": [],
    "RDS_LOGIN_EVENTS": [],
    "EKS_RUNTIME_MONITORING": ["EKS_ADDON_MANAGEMENT"],
    "LAMBDA_NETWORK_LOGS": [],
    "RUNTIME_MONITORING": ["EKS_ADDON_MANAGEMENT", "ECS_FARGATE_AGENT_MANAGEMENT", "EC2_AGENT_MANAGEMENT"],
}
AUTO_ENABLE = ("NEW", "ALL", "NONE")
MAX_ACCOUNTS_PER_CALL = 50

# Seconds between EnableOrganizationAdminAccount and the administrator's
# detector appearing (the service creates it asynchronously).
settings = {"admin_detector_delay": 0.2}


class BadRequest(JsonRESTError):
    """GuardDuty's 400: `BadRequestException` with a `message`."""

    code = 400

    def __init__(self, message: str) -> None:
        super().__init__("BadRequestException", message)

    def get_headers(self, *args: Any, **kwargs: Any) -> list[tuple[str, str]]:
        return [("X-Amzn-ErrorType", "BadRequestException")]


def now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")[:-4] + "Z"


# --- the organization, from moto's Organizations ----------------------------

def organization_of(account_id: str):
    """The Organizations backend holding the account's organization, or None."""
    own = organizations_backends[account_id]["aws"]
    if own.org is not None:
        return own
    master = organizations_backends.master_accounts.get(account_id)
    if master is None:
        return None
    return organizations_backends[master[0]][master[1]]


def org_account(org, account_id: str):
    return next((a for a in org.accounts if a.id == account_id), None)


def require_management(account_id: str):
    org = organization_of(account_id)
    if org is None:
        raise BadRequest("The request is rejected because the current account is not a member of an organization.")
    if org.org.master_account_id != account_id:
        raise BadRequest(
            "The request is rejected because the current account is not the management account of the organization."
        )
    return org


def require_trusted(org) -> None:
    if not any(s["ServicePrincipal"] == SERVICE_PRINCIPAL for s in org.services):
        raise BadRequest(
            "The request is rejected because GuardDuty is not a trusted service of the organization "
            "(AWS service access for guardduty.amazonaws.com is not enabled)."
        )


def backend(account_id: str, region: str) -> GuardDutyBackend:
    return guardduty_backends[account_id][region]


def org_state(b: GuardDutyBackend) -> dict[str, Any]:
    """The organization configuration and members an administrator keeps per region."""
    if not hasattr(b, "gdctl_org"):
        b.gdctl_org = {
            "auto_enable": "NONE",
            "auto_enable_since": None,
            "features": {name: {"autoEnable": "NONE", "additional": {a: "NONE" for a in extra}}
                         for name, extra in ORG_FEATURES.items()},
            "members": {},
        }
    return b.gdctl_org


# --- the administrator, seen from the caller ---------------------------------

def administrator_context(account_id: str, region: str, detector_id: str):
    """The caller must be the region's delegated administrator and own the detector."""
    b = backend(account_id, region)
    b.get_detector(detector_id)  # moto's own InvalidInputException if not the caller's
    org = organization_of(account_id)
    if org is None:
        raise BadRequest("The request is rejected because the current account is not a member of an organization.")
    management = backend(org.org.master_account_id, region)
    if account_id not in management.admin_account_ids:
        raise BadRequest(
            "The request is rejected because the current account is not the delegated administrator "
            "account of the organization in this region."
        )
    require_trusted(org)
    return b, org


def enroll_new_accounts(state: dict[str, Any], org, admin_id: str, region: str) -> None:
    """Auto-enable NEW or ALL: accounts that joined after the setting are members."""
    since = state["auto_enable_since"]
    if state["auto_enable"] == "NONE" or since is None:
        return
    for account in org.accounts:
        if account.id == admin_id or account.id in state["members"] or account.status != "ACTIVE":
            continue
        if account.create_time.replace(tzinfo=timezone.utc) > since:
            make_member(state, account, admin_id, region)


def apply_plans(state: dict[str, Any], detector, levels: tuple[str, ...]) -> None:
    """Turn on in a member's detector the plans (and agents) whose auto-enable
    is one of `levels`: NEW or ALL for an account that becomes a member, ALL
    for the existing members when the configuration changes. Auto-enable never
    turns a plan off."""
    features = {f["name"]: f for f in detector.features}
    for name, setting in state["features"].items():
        if setting["autoEnable"] not in levels:
            continue
        f = features.setdefault(name, {"name": name, "additionalConfiguration": []})
        f["status"] = "ENABLED"
        extra = {a["name"]: a for a in f.get("additionalConfiguration") or []}
        for agent, value in setting["additional"].items():
            if value in levels:
                extra[agent] = {"name": agent, "status": "ENABLED"}
        f["additionalConfiguration"] = list(extra.values())
    detector.features = list(features.values())


def make_member(state: dict[str, Any], account, admin_id: str, region: str) -> None:
    """An organization account becomes an enabled member: GuardDuty on in it,
    with the plans auto-enable gives new members."""
    member = backend(account.id, region)
    detector_id = next(iter(member.detectors), None)
    if detector_id is None:
        detector_id = member.create_detector(True, "SIX_HOURS", {}, {}, [])
    else:
        member.detectors[detector_id].enabled = True
    apply_plans(state, member.detectors[detector_id], ("NEW", "ALL"))
    state["members"][account.id] = {
        "accountId": account.id,
        "detectorId": detector_id,
        "masterId": admin_id,
        "administratorId": admin_id,
        "email": account.email,
        "relationshipStatus": "Enabled",
        "invitedAt": now(),
        "updatedAt": now(),
    }


def create_admin_detector(admin_id: str, region: str) -> None:
    b = backend(admin_id, region)
    if not b.detectors:
        b.create_detector(True, "SIX_HOURS", {}, {}, [])


# --- the operations ----------------------------------------------------------

class OrgResponses:
    """Methods added to moto's GuardDutyResponse (named as moto dispatches them)."""

    def enable_organization_admin_account(self) -> str:
        admin_id = self._get_param("adminAccountId")
        org = require_management(self.current_account)
        if org_account(org, admin_id) is None:
            raise BadRequest("The request is rejected because the account is not a member of the organization.")
        current = self.guardduty_backend.admin_account_ids
        if admin_id in current:
            return "{}"
        if current:
            raise BadRequest(
                "The request is rejected because an administrator account is already enabled "
                f"for the organization in this region: {current[0]}."
            )
        # GuardDuty makes itself a trusted service and registers the administrator.
        org.enable_aws_service_access(ServicePrincipal=SERVICE_PRINCIPAL)
        registered = any(a.account.id == admin_id and SERVICE_PRINCIPAL in a.services for a in org.admins)
        if admin_id != org.org.master_account_id and not registered:
            org.register_delegated_administrator(AccountId=admin_id, ServicePrincipal=SERVICE_PRINCIPAL)
        current.append(admin_id)
        delay = settings["admin_detector_delay"]
        if delay > 0:
            timer = threading.Timer(delay, create_admin_detector, (admin_id, self.region))
            timer.daemon = True
            timer.start()
        else:
            create_admin_detector(admin_id, self.region)
        return "{}"

    def disable_organization_admin_account(self) -> str:
        admin_id = self._get_param("adminAccountId")
        require_management(self.current_account)
        current = self.guardduty_backend.admin_account_ids
        if admin_id not in current:
            raise BadRequest("The request is rejected because the input account is not the delegated administrator.")
        current.remove(admin_id)
        return "{}"

    def describe_organization_configuration(self) -> str:
        detector_id = self.path.split("/")[-2]
        b, org = administrator_context(self.current_account, self.region, detector_id)
        state = org_state(b)
        features = [
            {
                "name": name,
                "autoEnable": f["autoEnable"],
                "additionalConfiguration": [{"name": a, "autoEnable": v} for a, v in f["additional"].items()],
            }
            for name, f in state["features"].items()
        ]
        auto = lambda name: state["features"][name]["autoEnable"] != "NONE"  # noqa: E731
        return json.dumps({
            "autoEnable": state["auto_enable"] != "NONE",
            "autoEnableOrganizationMembers": state["auto_enable"],
            "memberAccountLimitReached": False,
            "dataSources": {
                "s3Logs": {"autoEnable": auto("S3_DATA_EVENTS")},
                "kubernetes": {"auditLogs": {"autoEnable": auto("EKS_AUDIT_LOGS")}},
                "malwareProtection": {
                    "scanEc2InstanceWithFindings": {"ebsVolumes": {"autoEnable": auto("EBS_MALWARE_PROTECTION")}}
                },
            },
            "features": features,
        })

    def update_organization_configuration(self) -> str:
        detector_id = self.path.split("/")[-2]
        b, org = administrator_context(self.current_account, self.region, detector_id)
        state = org_state(b)
        legacy = self._get_param("autoEnable")
        members = self._get_param("autoEnableOrganizationMembers")
        if legacy is not None and members is not None:
            raise BadRequest(
                "The request is rejected because both autoEnable and autoEnableOrganizationMembers are specified; "
                "use autoEnableOrganizationMembers only."
            )
        if members is not None and members not in AUTO_ENABLE:
            raise BadRequest(f"The request is rejected because autoEnableOrganizationMembers {members!r} is not valid.")
        features = self._get_param("features") or []
        for f in features:
            name, value = f.get("name"), f.get("autoEnable")
            if name not in ORG_FEATURES or value not in AUTO_ENABLE:
                raise BadRequest(f"The request is rejected because the feature {name!r} / {value!r} is not valid.")
            for extra in f.get("additionalConfiguration") or []:
                if extra.get("name") not in ORG_FEATURES[name] or extra.get("autoEnable") not in AUTO_ENABLE:
                    raise BadRequest(
                        f"The request is rejected because the additional configuration {extra.get('name')!r} "
                        f"of {name} is not valid."
                    )
        if legacy is not None:
            members = "NEW" if legacy else "NONE"
        if members is not None and members != state["auto_enable"]:
            # Members join from this moment on (and, for ALL, existing ones "within 24 hours").
            enroll_new_accounts(state, org, self.current_account, self.region)
            state["auto_enable"] = members
            state["auto_enable_since"] = datetime.now(timezone.utc)
        for f in features:
            current = state["features"][f["name"]]
            current["autoEnable"] = f["autoEnable"]
            for extra in f.get("additionalConfiguration") or []:
                current["additional"][extra["name"]] = extra["autoEnable"]
        # A plan at ALL reaches the existing members too.
        for m in state["members"].values():
            detector = backend(m["accountId"], self.region).detectors.get(m["detectorId"])
            if m["relationshipStatus"] == "Enabled" and detector is not None:
                apply_plans(state, detector, ("ALL",))
        return "{}"

    def create_members(self) -> str:
        detector_id = self.path.split("/")[-2]
        admin_id = self.current_account
        b, org = administrator_context(admin_id, self.region, detector_id)
        details = self._get_param("accountDetails") or []
        if not 1 <= len(details) <= MAX_ACCOUNTS_PER_CALL:
            raise BadRequest(
                f"The request is rejected because accountDetails must hold 1 to {MAX_ACCOUNTS_PER_CALL} accounts."
            )
        state = org_state(b)
        unprocessed = []
        for d in details:
            account_id, email = d.get("accountId"), d.get("email")
            if not email:
                raise BadRequest("The request is rejected because an email is required for each account.")
            account = org_account(org, account_id)
            if account_id == admin_id:
                unprocessed.append({"accountId": account_id, "result": "The request is rejected because the "
                                    "administrator account cannot be a member of itself."})
            elif account is None or account.status != "ACTIVE":
                unprocessed.append({"accountId": account_id, "result": "The request is rejected because the "
                                    "account is not an active member of the organization."})
            elif account_id == org.org.master_account_id and not backend(account_id, self.region).detectors:
                unprocessed.append({"accountId": account_id, "result": "The request is rejected because the "
                                    "organization's management account does not have GuardDuty enabled in "
                                    "this region. Enable GuardDuty in the management account first."})
            else:
                make_member(state, account, admin_id, self.region)
        return json.dumps({"unprocessedAccounts": unprocessed})

    def list_members(self) -> str:
        detector_id = self.path.split("/")[-2]
        admin_id = self.current_account
        # Any account with a detector may list its members (by invitation, on
        # AWS): one that is no administrator simply has none here.
        b = backend(admin_id, self.region)
        b.get_detector(detector_id)
        state = org_state(b)
        org = organization_of(admin_id)
        if org is not None and admin_id in backend(org.org.master_account_id, self.region).admin_account_ids:
            enroll_new_accounts(state, org, admin_id, self.region)
        only_associated = (self._get_param("onlyAssociated") or "true").lower() != "false"
        members = [m for m in state["members"].values()
                   if not only_associated or m["relationshipStatus"] == "Enabled"]
        members.sort(key=lambda m: m["accountId"])
        size = int(self._get_param("maxResults") or 50)
        if not 1 <= size <= 50:
            raise BadRequest("The request is rejected because maxResults must be between 1 and 50.")
        start = int(self._get_param("nextToken") or 0)
        page = members[start:start + size]
        out: dict[str, Any] = {"members": page}
        if start + size < len(members):
            out["nextToken"] = str(start + size)
        return json.dumps(out)

    def get_member_detectors(self) -> str:
        detector_id = self.path.split("/")[-4]
        b, _ = administrator_context(self.current_account, self.region, detector_id)
        state = org_state(b)
        configurations, unprocessed = [], []
        for account_id in self.account_ids():
            member = state["members"].get(account_id)
            if member is None or member["relationshipStatus"] != "Enabled":
                unprocessed.append({"accountId": account_id, "result": "The request is rejected because the "
                                    "account is not an associated member."})
                continue
            detector = backend(account_id, self.region).detectors.get(member["detectorId"])
            if detector is None:
                unprocessed.append({"accountId": account_id, "result": "The member's detector was not found."})
                continue
            seen = detector.to_json()
            configurations.append({
                "accountId": account_id,
                "dataSources": seen["dataSources"],
                "features": [{"name": f.get("name"), "status": f.get("status", "DISABLED"),
                              "additionalConfiguration": f.get("additionalConfiguration", []),
                              # A Timestamp: epoch seconds in restJson1 (ListMembers' dates are strings).
                              "updatedAt": time.time()}
                             for f in seen["features"]],
            })
        return json.dumps({"members": configurations, "unprocessedAccounts": unprocessed})

    def disassociate_members(self) -> str:
        detector_id = self.path.split("/")[-3]
        b, _ = administrator_context(self.current_account, self.region, detector_id)
        state = org_state(b)
        unprocessed = []
        for account_id in self.account_ids():
            member = state["members"].get(account_id)
            if member is None:
                unprocessed.append({"accountId": account_id, "result": "The request is rejected because the "
                                    "account is not a member."})
                continue
            # The member's detector stays as it is: only the relationship ends.
            member["relationshipStatus"] = "Removed"
            member["updatedAt"] = now()
        return json.dumps({"unprocessedAccounts": unprocessed})

    def account_ids(self) -> list[str]:
        ids = self._get_param("accountIds") or []
        if not 1 <= len(ids) <= MAX_ACCOUNTS_PER_CALL:
            raise BadRequest(
                f"The request is rejected because accountIds must hold 1 to {MAX_ACCOUNTS_PER_CALL} accounts."
            )
        return ids


PATHS = {
    "{0}/admin/disable$": GuardDutyResponse.dispatch,
    "{0}/detector/(?P<detector_id>[^/]+)/admin$": GuardDutyResponse.dispatch,
    "{0}/detector/(?P<detector_id>[^/]+)/member$": GuardDutyResponse.dispatch,
    "{0}/detector/(?P<detector_id>[^/]+)/member/detector/get$": GuardDutyResponse.dispatch,
    "{0}/detector/(?P<detector_id>[^/]+)/member/disassociate$": GuardDutyResponse.dispatch,
}


def install(admin_detector_delay: float | None = None) -> None:
    if admin_detector_delay is not None:
        settings["admin_detector_delay"] = admin_detector_delay
    urls.url_paths.update(PATHS)
    for name, method in vars(OrgResponses).items():
        if callable(method) and not name.startswith("_"):
            setattr(GuardDutyResponse, name, method)
