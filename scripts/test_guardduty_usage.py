"""Tests of guardduty_usage.py: the emulator's usage operations and its seeding
hook, through boto3 against the emulator on loopback (run by scripts/test.sh)."""
import json
import random
import unittest
from decimal import Decimal

import emulator_harness  # first: it sets the dummy environment before boto3 loads
from botocore.exceptions import ClientError  # noqa: E402

REGION = "eu-west-1"
URL = ""


def setUpModule() -> None:
    global URL
    URL = emulator_harness.start()


def account_client(account: str, service: str = "guardduty", region: str = REGION):
    return emulator_harness.account_client(URL, account, service, region=region)


def seed(account: str, usage: list, free_trial: dict | None = None, region: str = REGION) -> None:
    body = json.dumps({"accountId": account, "region": region, "usage": usage,
                       "freeTrialDays": free_trial or {}}).encode()
    status, out = emulator_harness.hook(URL, "POST", "/__gdctl/usage", body, region=region)
    assert status == 200, out


def fresh() -> tuple[str, object, str]:
    account = str(random.randrange(10**11, 10**12))
    gd = account_client(account)
    return account, gd, gd.create_detector(Enable=True)["DetectorId"]


def code(e: ClientError) -> str:
    return e.response["Error"]["Code"]


class UsageTest(unittest.TestCase):
    def test_sums_by_feature_are_exact_decimal_strings(self):
        account, gd, detector = fresh()
        seed(account, [{"feature": "S3_DATA_EVENTS", "amount": "0.1", "resource": "b1"},
                       {"feature": "S3_DATA_EVENTS", "amount": "0.2", "resource": "b2"},
                       {"feature": "FLOW_LOGS", "amount": "1.005"}])
        out = gd.get_usage_statistics(DetectorId=detector, UsageStatisticType="SUM_BY_FEATURES",
                                      UsageCriteria={}, Unit="USD")
        sums = {r["Feature"]: r["Total"] for r in out["UsageStatistics"]["SumByFeature"]}
        self.assertEqual(sums["S3_DATA_EVENTS"], {"Amount": "0.3", "Unit": "USD"})
        self.assertEqual(sums["FLOW_LOGS"]["Amount"], "1.005")
        only = gd.get_usage_statistics(DetectorId=detector, UsageStatisticType="SUM_BY_FEATURES",
                                       UsageCriteria={"Features": ["FLOW_LOGS"]})
        self.assertEqual([r["Feature"] for r in only["UsageStatistics"]["SumByFeature"]], ["FLOW_LOGS"])

    def test_by_account_resource_and_top_resources(self):
        account, gd, detector = fresh()
        seed(account, [{"feature": "S3_DATA_EVENTS", "amount": "3", "resource": "small"},
                       {"feature": "EBS_MALWARE_PROTECTION", "amount": "7.5", "resource": "big"}])
        by_account = gd.get_usage_statistics(DetectorId=detector, UsageStatisticType="SUM_BY_ACCOUNT",
                                             UsageCriteria={"AccountIds": [account]})
        self.assertEqual(by_account["UsageStatistics"]["SumByAccount"],
                         [{"AccountId": account, "Total": {"Amount": "10.5", "Unit": "USD"}}])
        top = gd.get_usage_statistics(DetectorId=detector, UsageStatisticType="TOP_RESOURCES", UsageCriteria={})
        self.assertEqual([r["Resource"] for r in top["UsageStatistics"]["TopResources"]], ["big", "small"])
        by_source = gd.get_usage_statistics(DetectorId=detector, UsageStatisticType="SUM_BY_DATA_SOURCE",
                                            UsageCriteria={})
        self.assertEqual({r["DataSource"] for r in by_source["UsageStatistics"]["SumByDataSource"]},
                         {"S3_LOGS", "EC2_MALWARE_SCAN"})

    def test_pages_of_at_most_fifty_with_a_next_token(self):
        account, gd, detector = fresh()
        seed(account, [{"feature": "S3_DATA_EVENTS", "amount": f"{i}.01", "resource": f"r{i}"} for i in range(60)])
        first = gd.get_usage_statistics(DetectorId=detector, UsageStatisticType="SUM_BY_RESOURCE",
                                        UsageCriteria={}, MaxResults=50)
        self.assertEqual(len(first["UsageStatistics"]["SumByResource"]), 50)
        rest = gd.get_usage_statistics(DetectorId=detector, UsageStatisticType="SUM_BY_RESOURCE",
                                       UsageCriteria={}, MaxResults=50, NextToken=first["NextToken"])
        self.assertEqual(len(rest["UsageStatistics"]["SumByResource"]), 10)
        self.assertNotIn("NextToken", rest)
        total = sum(Decimal(r["Total"]["Amount"]) for page in (first, rest)
                    for r in page["UsageStatistics"]["SumByResource"])
        self.assertEqual(total, Decimal("1770.60"))

    def test_bad_requests_are_refused_as_aws_does(self):
        account, gd, detector = fresh()
        bad = [
            dict(UsageStatisticType="SUM_BY_EVERYTHING", UsageCriteria={}),
            dict(UsageStatisticType="SUM_BY_FEATURES", UsageCriteria={}, Unit="EUR"),
            dict(UsageStatisticType="SUM_BY_ACCOUNT", UsageCriteria={"AccountIds": [account] * 51}),
            dict(UsageStatisticType="SUM_BY_ACCOUNT", UsageCriteria={"AccountIds": ["111111111111"]}),
        ]
        for kwargs in bad:
            with self.assertRaises(ClientError, msg=str(kwargs)) as e:
                gd.get_usage_statistics(DetectorId=detector, **kwargs)
            self.assertEqual(code(e.exception), "BadRequestException", kwargs)
        with self.assertRaises(ClientError):
            gd.get_usage_statistics(DetectorId="nosuchdetector", UsageStatisticType="SUM_BY_FEATURES",
                                    UsageCriteria={})

    def test_an_administrator_sees_its_enabled_members_usage_only_when_it_asks(self):
        management = str(random.randrange(10**11, 10**12))
        orgs = account_client(management, "organizations")
        orgs.create_organization(FeatureSet="ALL")
        admin = orgs.create_account(AccountName="admin", Email="admin@example.com")["CreateAccountStatus"]["AccountId"]
        member = orgs.create_account(AccountName="m", Email="m@example.com")["CreateAccountStatus"]["AccountId"]
        account_client(management).enable_organization_admin_account(AdminAccountId=admin)
        gd = account_client(admin)
        detector = gd.list_detectors()["DetectorIds"][0]
        gd.create_members(DetectorId=detector, AccountDetails=[{"AccountId": member, "Email": "m@example.com"}])
        seed(admin, [{"feature": "FLOW_LOGS", "amount": "1"}])
        seed(member, [{"feature": "FLOW_LOGS", "amount": "2"}], {"S3_DATA_EVENTS": 9})
        mine = gd.get_usage_statistics(DetectorId=detector, UsageStatisticType="SUM_BY_ACCOUNT", UsageCriteria={})
        self.assertEqual([r["AccountId"] for r in mine["UsageStatistics"]["SumByAccount"]], [admin])
        both = gd.get_usage_statistics(DetectorId=detector, UsageStatisticType="SUM_BY_ACCOUNT",
                                       UsageCriteria={"AccountIds": [admin, member]})
        self.assertEqual({r["AccountId"]: r["Total"]["Amount"] for r in both["UsageStatistics"]["SumByAccount"]},
                         {admin: "1", member: "2"})
        trial = gd.get_remaining_free_trial_days(DetectorId=detector, AccountIds=[member, "111111111111"])
        self.assertEqual(trial["Accounts"], [{"AccountId": member, "Features": [
            {"Name": "S3_DATA_EVENTS", "FreeTrialDaysRemaining": 9}]}])
        self.assertEqual([u["AccountId"] for u in trial["UnprocessedAccounts"]], ["111111111111"])

    def test_free_trial_days_of_the_account_itself_and_limits(self):
        account, gd, detector = fresh()
        seed(account, [], {"EBS_MALWARE_PROTECTION": 12, "RDS_LOGIN_EVENTS": 3})
        out = gd.get_remaining_free_trial_days(DetectorId=detector, AccountIds=[account])
        days = {f["Name"]: f["FreeTrialDaysRemaining"] for f in out["Accounts"][0]["Features"]}
        self.assertEqual(days, {"EBS_MALWARE_PROTECTION": 12, "RDS_LOGIN_EVENTS": 3})
        with self.assertRaises(ClientError) as e:
            gd.get_remaining_free_trial_days(DetectorId=detector, AccountIds=[account] * 51)
        self.assertEqual(code(e.exception), "BadRequestException")


if __name__ == "__main__":
    unittest.main()
