"""Tests of guardduty_org.py: the emulator's GuardDuty Organizations operations,
through boto3 against the emulator on loopback (run by scripts/test.sh)."""
import random
import time
import unittest

import emulator_harness  # first: it sets the dummy environment before boto3 loads
from botocore.exceptions import ClientError  # noqa: E402

import guardduty_org  # noqa: E402

REGION = "eu-west-1"
URL = ""


def setUpModule() -> None:
    global URL
    URL = emulator_harness.start()


def client(service: str, creds: dict | None = None, region: str = REGION):
    return emulator_harness.client(URL, service, creds, region)


def assume(account: str, role: str = "OrganizationAccountAccessRole") -> dict:
    return emulator_harness.credentials(URL, account, role)


class Org:
    """A fresh organization: a management account and `n` member accounts."""

    def __init__(self, n: int = 3):
        self.management = str(random.randrange(10**11, 10**12))
        self.mgmt = assume(self.management, "admin")
        orgs = client("organizations", self.mgmt)
        orgs.create_organization(FeatureSet="ALL")
        self.accounts = []
        for i in range(n):
            status = orgs.create_account(AccountName=f"a{i}", Email=f"a{i}@example.com")["CreateAccountStatus"]
            self.accounts.append(status["AccountId"])
        self.admin = self.accounts[0]

    def gd(self, account: str, region: str = REGION):
        creds = self.mgmt if account == self.management else assume(account)
        return client("guardduty", creds, region)

    def enable_admin(self, region: str = REGION) -> str:
        self.gd(self.management, region).enable_organization_admin_account(AdminAccountId=self.admin)
        return self.gd(self.admin, region).list_detectors()["DetectorIds"][0]


def code(e: ClientError) -> str:
    return e.response["Error"]["Code"]


class AdminAccountTest(unittest.TestCase):
    def test_only_the_management_account_names_an_administrator(self):
        org = Org(2)
        with self.assertRaises(ClientError) as e:
            org.gd(org.admin).enable_organization_admin_account(AdminAccountId=org.accounts[1])
        self.assertEqual(code(e.exception), "BadRequestException")
        self.assertIn("not the management account", str(e.exception))
        outsider = client("guardduty", assume(str(random.randrange(10**11, 10**12)), "x"))
        with self.assertRaises(ClientError) as e:
            outsider.enable_organization_admin_account(AdminAccountId=org.admin)
        self.assertIn("not a member of an organization", str(e.exception))

    def test_the_administrator_gets_a_detector_and_guardduty_is_trusted(self):
        org = Org(1)
        self.assertEqual(org.gd(org.admin).list_detectors()["DetectorIds"], [])
        org.enable_admin()
        self.assertEqual(len(org.gd(org.admin).list_detectors()["DetectorIds"]), 1)
        listed = org.gd(org.management).list_organization_admin_accounts()["AdminAccounts"]
        self.assertEqual(listed, [{"AdminAccountId": org.admin, "AdminStatus": "ENABLED"}])
        orgs = client("organizations", org.mgmt)
        principals = [s["ServicePrincipal"] for s in
                      orgs.list_aws_service_access_for_organization()["EnabledServicePrincipals"]]
        self.assertIn("guardduty.amazonaws.com", principals)
        # Per region: another region has no administrator yet.
        other = org.gd(org.management, "us-west-2").list_organization_admin_accounts()["AdminAccounts"]
        self.assertEqual(other, [])

    def test_the_detector_comes_later_when_delayed(self):
        org = Org(1)
        guardduty_org.settings["admin_detector_delay"] = 0.3
        try:
            org.gd(org.management).enable_organization_admin_account(AdminAccountId=org.admin)
            self.assertEqual(org.gd(org.admin).list_detectors()["DetectorIds"], [])
            deadline = time.monotonic() + 10
            while not org.gd(org.admin).list_detectors()["DetectorIds"]:
                self.assertLess(time.monotonic(), deadline, "the detector never came")
                time.sleep(0.05)
        finally:
            guardduty_org.settings["admin_detector_delay"] = 0

    def test_one_administrator_per_region_and_enabling_again_is_harmless(self):
        org = Org(2)
        org.enable_admin()
        org.gd(org.management).enable_organization_admin_account(AdminAccountId=org.admin)
        with self.assertRaises(ClientError) as e:
            org.gd(org.management).enable_organization_admin_account(AdminAccountId=org.accounts[1])
        self.assertIn(f"already enabled for the organization in this region: {org.admin}", str(e.exception))
        # The same administrator in another region (registered with Organizations once).
        org.enable_admin("us-west-2")

    def test_an_account_outside_the_organization_cannot_be_administrator(self):
        org = Org(1)
        with self.assertRaises(ClientError) as e:
            org.gd(org.management).enable_organization_admin_account(AdminAccountId="999999999999")
        self.assertEqual(code(e.exception), "BadRequestException")

    def test_disable_removes_the_administrator(self):
        org = Org(1)
        org.enable_admin()
        org.gd(org.management).disable_organization_admin_account(AdminAccountId=org.admin)
        self.assertEqual(org.gd(org.management).list_organization_admin_accounts()["AdminAccounts"], [])
        with self.assertRaises(ClientError) as e:
            org.gd(org.management).disable_organization_admin_account(AdminAccountId=org.admin)
        self.assertEqual(code(e.exception), "BadRequestException")


class ConfigurationTest(unittest.TestCase):
    def test_defaults_then_an_update(self):
        org = Org(1)
        det = org.enable_admin()
        gd = org.gd(org.admin)
        conf = gd.describe_organization_configuration(DetectorId=det)
        self.assertEqual(conf["AutoEnableOrganizationMembers"], "NONE")
        self.assertFalse(conf["AutoEnable"])
        self.assertTrue(all(f["AutoEnable"] == "NONE" for f in conf["Features"]))
        gd.update_organization_configuration(
            DetectorId=det, AutoEnableOrganizationMembers="ALL",
            Features=[{"Name": "S3_DATA_EVENTS", "AutoEnable": "ALL"},
                      {"Name": "RUNTIME_MONITORING", "AutoEnable": "NEW",
                       "AdditionalConfiguration": [{"Name": "EKS_ADDON_MANAGEMENT", "AutoEnable": "NEW"}]}])
        conf = gd.describe_organization_configuration(DetectorId=det)
        self.assertEqual(conf["AutoEnableOrganizationMembers"], "ALL")
        self.assertTrue(conf["DataSources"]["S3Logs"]["AutoEnable"])
        by_name = {f["Name"]: f for f in conf["Features"]}
        self.assertEqual(by_name["S3_DATA_EVENTS"]["AutoEnable"], "ALL")
        self.assertEqual(by_name["EKS_AUDIT_LOGS"]["AutoEnable"], "NONE")
        extra = {a["Name"]: a["AutoEnable"] for a in by_name["RUNTIME_MONITORING"]["AdditionalConfiguration"]}
        self.assertEqual(extra["EKS_ADDON_MANAGEMENT"], "NEW")
        self.assertEqual(extra["EC2_AGENT_MANAGEMENT"], "NONE")

    def test_refusals(self):
        org = Org(2)
        det = org.enable_admin()
        gd = org.gd(org.admin)
        with self.assertRaises(ClientError) as e:
            gd.update_organization_configuration(DetectorId=det, AutoEnable=True,
                                                 AutoEnableOrganizationMembers="ALL")
        self.assertEqual(code(e.exception), "BadRequestException")
        with self.assertRaises(ClientError) as e:
            gd.update_organization_configuration(DetectorId=det, Features=[{"Name": "CLOUD_TRAIL",
                                                                            "AutoEnable": "ALL"}])
        self.assertEqual(code(e.exception), "BadRequestException")
        # Only the region's administrator reads the configuration.
        other = org.gd(org.accounts[1])
        own = other.create_detector(Enable=True)["DetectorId"]
        with self.assertRaises(ClientError) as e:
            other.describe_organization_configuration(DetectorId=own)
        self.assertIn("not the delegated administrator", str(e.exception))
        # Listing members is any account's (by invitation on AWS): none here.
        self.assertEqual(other.list_members(DetectorId=own)["Members"], [])
        # Another account's detector id is refused as moto refuses it.
        with self.assertRaises(ClientError):
            other.describe_organization_configuration(DetectorId=det)

    def test_untrusted_service_is_refused(self):
        org = Org(1)
        det = org.enable_admin()
        client("organizations", org.mgmt).disable_aws_service_access(ServicePrincipal="guardduty.amazonaws.com")
        with self.assertRaises(ClientError) as e:
            org.gd(org.admin).describe_organization_configuration(DetectorId=det)
        self.assertIn("not a trusted service", str(e.exception))

    def test_auto_enable_new_covers_accounts_that_join_later_only(self):
        org = Org(2)
        det = org.enable_admin()
        gd = org.gd(org.admin)
        gd.update_organization_configuration(DetectorId=det, AutoEnableOrganizationMembers="ALL")
        self.assertEqual(gd.list_members(DetectorId=det)["Members"], [], "existing accounts: within 24 hours")
        time.sleep(0.01)  # a creation time after the setting's (clock resolution), not synchronisation
        late = client("organizations", org.mgmt).create_account(AccountName="late", Email="late@example.com")
        late_id = late["CreateAccountStatus"]["AccountId"]
        members = gd.list_members(DetectorId=det)["Members"]
        self.assertEqual([m["AccountId"] for m in members], [late_id])
        self.assertEqual(len(org.gd(late_id).list_detectors()["DetectorIds"]), 1)


class PlansTest(unittest.TestCase):
    def features_of(self, org, account):
        gd = org.gd(account)
        detector = gd.list_detectors()["DetectorIds"][0]
        return {f["Name"]: f["Status"] for f in gd.get_detector(DetectorId=detector).get("Features", [])}

    def test_new_members_get_new_plans_and_existing_ones_only_all(self):
        org = Org(3)
        det = org.enable_admin()
        gd = org.gd(org.admin)
        gd.create_members(DetectorId=det, AccountDetails=[{"AccountId": org.accounts[1], "Email": "x@example.com"}])
        gd.update_organization_configuration(DetectorId=det, Features=[{"Name": "S3_DATA_EVENTS", "AutoEnable": "NEW"}])
        self.assertNotIn("S3_DATA_EVENTS", self.features_of(org, org.accounts[1]), "NEW: not existing members")
        gd.create_members(DetectorId=det, AccountDetails=[{"AccountId": org.accounts[2], "Email": "x@example.com"}])
        self.assertEqual(self.features_of(org, org.accounts[2])["S3_DATA_EVENTS"], "ENABLED", "a new member")
        gd.update_organization_configuration(DetectorId=det, Features=[{"Name": "S3_DATA_EVENTS", "AutoEnable": "ALL"}])
        self.assertEqual(self.features_of(org, org.accounts[1])["S3_DATA_EVENTS"], "ENABLED", "ALL: existing too")
        got = gd.get_member_detectors(DetectorId=det, AccountIds=[org.accounts[1]])["MemberDataSourceConfigurations"]
        self.assertEqual([(f["Name"], f["Status"]) for f in got[0]["Features"]], [("S3_DATA_EVENTS", "ENABLED")])


class MembersTest(unittest.TestCase):
    def test_create_list_get_disassociate(self):
        org = Org(4)
        det = org.enable_admin()
        gd = org.gd(org.admin)
        # A member with a suspended detector is turned on; one without gets one.
        suspended = org.gd(org.accounts[2]).create_detector(Enable=False)["DetectorId"]
        details = [{"AccountId": a, "Email": f"{a}@example.com"} for a in org.accounts]
        out = gd.create_members(DetectorId=det, AccountDetails=details)
        self.assertEqual([u["AccountId"] for u in out["UnprocessedAccounts"]], [org.admin])
        members = gd.list_members(DetectorId=det)["Members"]
        self.assertEqual(sorted(m["AccountId"] for m in members), sorted(org.accounts[1:]))
        self.assertTrue(all(m["RelationshipStatus"] == "Enabled" and m["AdministratorId"] == org.admin
                            for m in members))
        status = org.gd(org.accounts[2]).get_detector(DetectorId=suspended)["Status"]
        self.assertEqual(status, "ENABLED")
        got = gd.get_member_detectors(DetectorId=det, AccountIds=[org.accounts[1], "999999999999"])
        self.assertEqual([c["AccountId"] for c in got["MemberDataSourceConfigurations"]], [org.accounts[1]])
        self.assertEqual([u["AccountId"] for u in got["UnprocessedAccounts"]], ["999999999999"])
        out = gd.disassociate_members(DetectorId=det, AccountIds=[org.accounts[1]])
        self.assertEqual(out["UnprocessedAccounts"], [])
        associated = gd.list_members(DetectorId=det)["Members"]
        self.assertNotIn(org.accounts[1], [m["AccountId"] for m in associated])
        everyone = gd.list_members(DetectorId=det, OnlyAssociated="false")["Members"]
        removed = [m for m in everyone if m["AccountId"] == org.accounts[1]]
        self.assertEqual(removed[0]["RelationshipStatus"], "Removed")
        # The member's detector stays on.
        self.assertEqual(len(org.gd(org.accounts[1]).list_detectors()["DetectorIds"]), 1)

    def test_the_management_account_needs_its_own_detector(self):
        org = Org(1)
        det = org.enable_admin()
        gd = org.gd(org.admin)
        detail = [{"AccountId": org.management, "Email": "m@example.com"}]
        out = gd.create_members(DetectorId=det, AccountDetails=detail)
        self.assertIn("management account does not have GuardDuty enabled", out["UnprocessedAccounts"][0]["Result"])
        org.gd(org.management).create_detector(Enable=True)
        self.assertEqual(gd.create_members(DetectorId=det, AccountDetails=detail)["UnprocessedAccounts"], [])

    def test_batches_of_at_most_fifty_and_pages_of_members(self):
        org = Org(4)
        det = org.enable_admin()
        gd = org.gd(org.admin)
        too_many = [{"AccountId": f"{i:012d}", "Email": "x@example.com"} for i in range(51)]
        with self.assertRaises(ClientError) as e:
            gd.create_members(DetectorId=det, AccountDetails=too_many)
        self.assertEqual(code(e.exception), "BadRequestException")
        gd.create_members(DetectorId=det, AccountDetails=[{"AccountId": a, "Email": "x@example.com"}
                                                          for a in org.accounts[1:]])
        first = gd.list_members(DetectorId=det, MaxResults=2)
        self.assertEqual(len(first["Members"]), 2)
        rest = gd.list_members(DetectorId=det, MaxResults=2, NextToken=first["NextToken"])
        self.assertEqual(len(rest["Members"]), 1)
        self.assertNotIn("NextToken", rest)


if __name__ == "__main__":
    unittest.main()
