"""GuardDuty's usage operations that moto 5.2.5 lacks, on moto's own backend.

Following the GuardDuty API reference's request and response shapes, limits
and error codes:

  GetUsageStatistics          POST /detector/{detectorId}/usage/statistics
  GetRemainingFreeTrialDays   POST /detector/{detectorId}/freeTrial/daysRemaining

Usage cannot be asked of AWS, so it is seeded through a test hook that is
clearly not AWS's (no such path exists in the GuardDuty API):

  POST /__gdctl/usage   {"accountId": ID, "region": R,
                         "usage": [{"feature": "S3_DATA_EVENTS", "amount": "12.34",
                                    "resource": "arn:aws:s3:::bucket"}, ...],
                         "freeTrialDays": {"EBS_MALWARE_PROTECTION": 12}}

It replaces the account's usage and free-trial days in that region. The
request goes to the emulator with any GuardDuty credential scope in its
Authorization header (moto routes by it); nothing checks the signature.

Whose usage a detector sees: its own account's, and, for the region's
delegated administrator, that of its enabled members (guardduty_org.py) named
in `usageCriteria.accountIds`. Amounts are decimal strings summed exactly
(Python's Decimal), in USD, over "the last 30 days" -- the seeds are that window.
"""
import json
from decimal import Decimal
from typing import Any

from moto.guardduty import urls
from moto.guardduty.models import GuardDutyBackend, guardduty_backends
from moto.guardduty.responses import GuardDutyResponse

from guardduty_org import BadRequest, org_state

STATISTIC_TYPES = ("SUM_BY_ACCOUNT", "SUM_BY_DATA_SOURCE", "SUM_BY_RESOURCE", "TOP_RESOURCES",
                   "SUM_BY_FEATURES", "TOP_ACCOUNTS_BY_FEATURE")
USAGE_FEATURES = ("FLOW_LOGS", "CLOUD_TRAIL", "DNS_LOGS", "S3_DATA_EVENTS", "EKS_AUDIT_LOGS",
                  "EBS_MALWARE_PROTECTION", "RDS_LOGIN_EVENTS", "LAMBDA_NETWORK_LOGS", "EKS_RUNTIME_MONITORING",
                  "EC2_RUNTIME_MONITORING", "FARGATE_RUNTIME_MONITORING", "RDS_DBI_PROTECTION_PROVISIONED",
                  "RDS_DBI_PROTECTION_SERVERLESS")
FREE_TRIAL_FEATURES = ("FLOW_LOGS", "CLOUD_TRAIL", "DNS_LOGS", "S3_DATA_EVENTS", "EKS_AUDIT_LOGS",
                       "EBS_MALWARE_PROTECTION", "RDS_LOGIN_EVENTS", "LAMBDA_NETWORK_LOGS",
                       "EKS_RUNTIME_MONITORING", "EC2_RUNTIME_MONITORING", "FARGATE_RUNTIME_MONITORING")
# The deprecated data sources, for SUM_BY_DATA_SOURCE.
DATA_SOURCE_OF = {"FLOW_LOGS": "FLOW_LOGS", "CLOUD_TRAIL": "CLOUD_TRAIL", "DNS_LOGS": "DNS_LOGS",
                  "S3_DATA_EVENTS": "S3_LOGS", "EKS_AUDIT_LOGS": "KUBERNETES_AUDIT_LOGS",
                  "EBS_MALWARE_PROTECTION": "EC2_MALWARE_SCAN"}
MAX_RESULTS = 50
TOP = 50


def usage_state(b: GuardDutyBackend) -> dict[str, Any]:
    """The seeded usage of one account in one region."""
    if not hasattr(b, "gdctl_usage"):
        b.gdctl_usage = {"usage": [], "free_trial": {}}
    return b.gdctl_usage


def total(amount: Decimal) -> dict[str, str]:
    return {"amount": str(amount), "unit": "USD"}


def seed(request, full_url, headers):
    """The test hook: not an AWS operation."""
    try:
        body = json.loads(request.get_data() or b"{}")
        account, region = body["accountId"], body["region"]
    except (ValueError, KeyError) as e:
        return 400, {}, json.dumps({"message": f"the hook takes JSON with accountId and region ({e})"})
    state = usage_state(guardduty_backends[account][region])
    records = []
    for r in body.get("usage", []):
        if r["feature"] not in USAGE_FEATURES:
            return 400, {}, json.dumps({"message": f"unknown feature {r['feature']}"})
        records.append({"feature": r["feature"], "amount": Decimal(r["amount"]),
                        "resource": r.get("resource"), "accountId": account})
    state["usage"] = records
    state["free_trial"] = dict(body.get("freeTrialDays", {}))
    return 200, {"Content-Type": "application/json"}, json.dumps({"seeded": len(records)})


class UsageResponses:
    """Methods added to moto's GuardDutyResponse (named as moto dispatches them)."""

    def get_usage_statistics(self) -> str:
        detector_id = self.path.split("/")[-3]
        b = guardduty_backends[self.current_account][self.region]
        b.get_detector(detector_id)  # moto's own error if not the caller's
        kind = self._get_param("usageStatisticsType")
        if kind not in STATISTIC_TYPES:
            raise BadRequest(f"The request is rejected because the usageStatisticsType {kind!r} is not valid.")
        criteria = self._get_param("usageCriteria")
        if not isinstance(criteria, dict):
            raise BadRequest("The request is rejected because the usageCriteria is missing.")
        unit = self._get_param("unit")
        if unit not in (None, "USD"):
            raise BadRequest(f"The request is rejected because the unit {unit!r} is not valid: only USD is.")
        max_results = self._get_param("maxResults")
        if max_results is None:
            max_results = MAX_RESULTS
        if not 1 <= int(max_results) <= MAX_RESULTS:
            raise BadRequest(f"The request is rejected because maxResults must be from 1 to {MAX_RESULTS}.")
        accounts = criteria.get("accountIds")
        if accounts is not None and not 1 <= len(accounts) <= MAX_RESULTS:
            raise BadRequest(f"The request is rejected because accountIds must hold 1 to {MAX_RESULTS} accounts.")
        features = criteria.get("features")
        for f in features or []:
            if f not in USAGE_FEATURES:
                raise BadRequest(f"The request is rejected because the feature {f!r} is not valid.")
        resources = criteria.get("resources")
        records = [r for account in self.visible_accounts(accounts)
                   for r in usage_state(guardduty_backends[account][self.region])["usage"]
                   if (features is None or r["feature"] in features)
                   and (resources is None or r["resource"] in resources)]
        key, rows = self.statistic(kind, records)
        start = int(self._get_param("nextToken") or 0)
        page = rows[start:start + int(max_results)]
        out: dict[str, Any] = {"usageStatistics": {key: page}}
        if start + int(max_results) < len(rows):
            out["nextToken"] = str(start + int(max_results))
        return json.dumps(out)

    def visible_accounts(self, asked: list[str] | None) -> list[str]:
        """The caller's account, and the enabled members of a delegated administrator."""
        me = self.current_account
        if asked is None:
            return [me]
        members = org_state(guardduty_backends[me][self.region])["members"]
        for account in asked:
            member = members.get(account)
            if account != me and (member is None or member["relationshipStatus"] != "Enabled"):
                raise BadRequest(
                    f"The request is rejected because the account {account} is not the current account "
                    "or an associated member of it."
                )
        return list(dict.fromkeys(asked))

    @staticmethod
    def statistic(kind: str, records: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
        def sums(key_of) -> dict[str, Decimal]:
            out: dict[str, Decimal] = {}
            for r in records:
                k = key_of(r)
                if k is not None:
                    out[k] = out.get(k, Decimal(0)) + r["amount"]
            return out

        if kind == "SUM_BY_FEATURES":
            return "sumByFeature", [{"feature": k, "total": total(v)} for k, v in sums(lambda r: r["feature"]).items()]
        if kind == "SUM_BY_ACCOUNT":
            return "sumByAccount", [{"accountId": k, "total": total(v)}
                                    for k, v in sums(lambda r: r["accountId"]).items()]
        if kind == "SUM_BY_DATA_SOURCE":
            by = sums(lambda r: DATA_SOURCE_OF.get(r["feature"]))
            return "sumByDataSource", [{"dataSource": k, "total": total(v)} for k, v in by.items()]
        if kind == "SUM_BY_RESOURCE":
            return "sumByResource", [{"resource": k, "total": total(v)} for k, v in sums(lambda r: r["resource"]).items()]
        if kind == "TOP_RESOURCES":
            ranked = sorted(sums(lambda r: r["resource"]).items(), key=lambda kv: kv[1], reverse=True)[:TOP]
            return "topResources", [{"resource": k, "total": total(v)} for k, v in ranked]
        # TOP_ACCOUNTS_BY_FEATURE (RDS_LOGIN_EVENTS is not supported there).
        features = sorted({r["feature"] for r in records if r["feature"] != "RDS_LOGIN_EVENTS"})
        rows = []
        for f in features:
            by = {}
            for r in records:
                if r["feature"] == f:
                    by[r["accountId"]] = by.get(r["accountId"], Decimal(0)) + r["amount"]
            ranked = sorted(by.items(), key=lambda kv: kv[1], reverse=True)[:TOP]
            rows.append({"feature": f, "accounts": [{"accountId": a, "total": total(v)} for a, v in ranked]})
        return "topAccountsByFeature", rows

    def get_remaining_free_trial_days(self) -> str:
        detector_id = self.path.split("/")[-3]
        me = self.current_account
        b = guardduty_backends[me][self.region]
        b.get_detector(detector_id)
        ids = self._get_param("accountIds") or []
        if not 1 <= len(ids) <= MAX_RESULTS:
            raise BadRequest(f"The request is rejected because accountIds must hold 1 to {MAX_RESULTS} accounts.")
        members = org_state(b)["members"]
        accounts, unprocessed = [], []
        for account in dict.fromkeys(ids):
            member = members.get(account)
            if account != me and (member is None or member["relationshipStatus"] != "Enabled"):
                unprocessed.append({"accountId": account, "result": "The request is rejected because the "
                                    "account is not the current account or an associated member of it."})
                continue
            trial = usage_state(guardduty_backends[account][self.region])["free_trial"]
            accounts.append({"accountId": account, "features": [
                {"name": name, "freeTrialDaysRemaining": int(days)}
                for name, days in trial.items() if name in FREE_TRIAL_FEATURES]})
        return json.dumps({"accounts": accounts, "unprocessedAccounts": unprocessed})


PATHS = {
    "{0}/detector/(?P<detector_id>[^/]+)/usage/statistics$": GuardDutyResponse.dispatch,
    "{0}/detector/(?P<detector_id>[^/]+)/freeTrial/daysRemaining$": GuardDutyResponse.dispatch,
    "{0}/__gdctl/usage$": seed,
}


def install() -> None:
    urls.url_paths.update(PATHS)
    for name, method in vars(UsageResponses).items():
        if callable(method) and not name.startswith("_") or isinstance(method, staticmethod):
            setattr(GuardDutyResponse, name, method)
