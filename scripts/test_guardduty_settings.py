"""Tests of guardduty_settings.py: the emulator's filters, IP sets, threat intel
sets and publishing destinations, and its test hook, through boto3 against
the emulator on loopback (run by scripts/test.sh)."""
import json
import random
import time
import unittest

import emulator_harness  # first: it sets the dummy environment before boto3 loads
from botocore.exceptions import ClientError  # noqa: E402

import guardduty_settings  # noqa: E402
from guardduty_settings import MESSAGES  # noqa: E402

REGION = "eu-west-1"
URL = ""
HOUR_MS = 3_600_000
KEY = f"arn:aws:kms:{REGION}:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
BUCKET = "arn:aws:s3:::findings-bucket"
CRITERIA = {"Criterion": {"severity": {"Gte": 4}}}


def setUpModule() -> None:
    global URL
    URL = emulator_harness.start()


def credentials(account: str) -> dict:
    return emulator_harness.credentials(URL, account)


def account_client(account: str, service: str = "guardduty", validate: bool = True, region: str = REGION):
    return emulator_harness.account_client(URL, account, service, validate, region)


def call(method: str, path: str, body: bytes | None = None, access_key: str = "testing") -> tuple[int, dict]:
    return emulator_harness.hook(URL, method, path, body, region=REGION, access_key=access_key)


def fresh() -> tuple[str, object, str]:
    account = str(random.randrange(10**11, 10**12))
    gd = account_client(account)
    return account, gd, gd.create_detector(Enable=True)["DetectorId"]


def refused(test: unittest.TestCase, call_, message: str | None = None) -> str:
    """The call is refused with a BadRequestException (and, if given, exactly that message)."""
    with test.assertRaises(ClientError) as e:
        call_()
    test.assertEqual(e.exception.response["Error"]["Code"], "BadRequestException")
    test.assertEqual(e.exception.response["ResponseMetadata"]["HTTPStatusCode"], 400)
    if message is not None:
        test.assertEqual(e.exception.response["Error"]["Message"], message)
    return e.exception.response["Error"]["Message"]


def names(gd, detector: str, **kwargs) -> list[str]:
    pages = gd.get_paginator("list_filters").paginate(DetectorId=detector, **kwargs)
    return [n for page in pages for n in page["FilterNames"]]


def ranks(gd, detector: str) -> dict[str, int]:
    return {n: gd.get_filter(DetectorId=detector, FilterName=n)["Rank"] for n in names(gd, detector)}


def create(gd, detector: str, name: str, **kwargs) -> None:
    gd.create_filter(DetectorId=detector, Name=name, FindingCriteria=kwargs.pop("FindingCriteria", CRITERIA),
                     **kwargs)


def destination_status(body: dict) -> tuple[int, dict]:
    return call("POST", "/__gdctl/destination-status", json.dumps(body).encode())


def organization(members: int):
    """A fresh organization whose delegated administrator has `members` enabled members."""
    return emulator_harness.organization(URL, members)


class FilterTest(unittest.TestCase):
    def test_names_are_three_to_sixty_four_of_letters_digits_dot_dash_underscore(self):
        account, gd, detector = fresh()
        loose = account_client(account, validate=False)
        for name in ("abc", "a" * 64, "Suppress.low-sev_1"):
            create(gd, detector, name)
        self.assertEqual(names(gd, detector), ["abc", "a" * 64, "Suppress.low-sev_1"])
        for name in ("ab", "a" * 65, "with space", "comma,here", "slash/no", "caf\u00e9"):
            refused(self, lambda: create(loose, detector, name), MESSAGES["invalid"].format("name"))
        self.assertEqual(len(names(gd, detector)), 3)

    def test_a_second_filter_of_a_name_is_refused_and_the_first_kept(self):
        _, gd, detector = fresh()
        create(gd, detector, "dup", Action="ARCHIVE", Description="first")
        refused(self, lambda: create(gd, detector, "dup", Action="NOOP", Description="second"),
                "The request is rejected because a filter with the given name already exists.")
        kept = gd.get_filter(DetectorId=detector, FilterName="dup")
        self.assertEqual((kept["Action"], kept["Description"]), ("ARCHIVE", "first"))
        self.assertEqual(names(gd, detector), ["dup"])

    def test_a_rank_takes_its_place_and_the_others_shift(self):
        _, gd, detector = fresh()
        for name in ("aaa", "bbb", "ccc"):
            create(gd, detector, name)  # no rank: last
        self.assertEqual(ranks(gd, detector), {"aaa": 1, "bbb": 2, "ccc": 3})
        create(gd, detector, "first", Rank=1)
        create(gd, detector, "middle", Rank=3)
        create(gd, detector, "end", Rank=6)
        self.assertEqual(names(gd, detector), ["first", "aaa", "middle", "bbb", "ccc", "end"])
        self.assertEqual(list(ranks(gd, detector).values()), [1, 2, 3, 4, 5, 6])
        gd.update_filter(DetectorId=detector, FilterName="end", Rank=2)
        self.assertEqual(names(gd, detector), ["first", "end", "aaa", "middle", "bbb", "ccc"])
        gd.update_filter(DetectorId=detector, FilterName="first", Rank=6)
        self.assertEqual(names(gd, detector), ["end", "aaa", "middle", "bbb", "ccc", "first"])
        gd.update_filter(DetectorId=detector, FilterName="bbb", Rank=4)  # its own place: nothing moves
        self.assertEqual(names(gd, detector), ["end", "aaa", "middle", "bbb", "ccc", "first"])
        self.assertEqual(ranks(gd, detector), {"end": 1, "aaa": 2, "middle": 3, "bbb": 4, "ccc": 5, "first": 6})

    def test_ranks_out_of_bounds_are_refused_on_create_and_update(self):
        account, gd, detector = fresh()
        loose = account_client(account, validate=False)
        out = MESSAGES["out_of_bounds"].format("rank")
        self.assertEqual(out, "The request is rejected because the parameter rank is out-of-bounds.")
        refused(self, lambda: create(gd, detector, "gap", Rank=2), out)  # none yet: only 1
        for name in ("aaa", "bbb"):
            create(gd, detector, name)
        for rank in (0, -1, 4, 100):
            refused(self, lambda: create(loose, detector, "xxx", Rank=rank), out)
        for rank in (0, 3, 50):
            refused(self, lambda: loose.update_filter(DetectorId=detector, FilterName="aaa", Rank=rank), out)
        refused(self, lambda: create(loose, detector, "xxx", Rank="two"), MESSAGES["json"])
        self.assertEqual(ranks(gd, detector), {"aaa": 1, "bbb": 2})
        create(gd, detector, "ccc", Rank=3)  # count + 1 is the last place
        gd.update_filter(DetectorId=detector, FilterName="aaa", Rank=3)
        self.assertEqual(names(gd, detector), ["bbb", "ccc", "aaa"])

    def test_deleting_closes_the_gap(self):
        _, gd, detector = fresh()
        for name in ("aaa", "bbb", "ccc", "ddd"):
            create(gd, detector, name)
        gd.delete_filter(DetectorId=detector, FilterName="bbb")
        self.assertEqual(ranks(gd, detector), {"aaa": 1, "ccc": 2, "ddd": 3})
        gd.delete_filter(DetectorId=detector, FilterName="aaa")
        self.assertEqual(ranks(gd, detector), {"ccc": 1, "ddd": 2})
        create(gd, detector, "eee", Rank=3)
        self.assertEqual(ranks(gd, detector), {"ccc": 1, "ddd": 2, "eee": 3})
        refused(self, lambda: gd.delete_filter(DetectorId=detector, FilterName="aaa"), MESSAGES["no_such_resource"])

    def test_list_in_rank_order_by_pages(self):
        account, gd, detector = fresh()
        loose = account_client(account, validate=False)
        order = []
        for i in range(60):
            rank = random.randint(1, i + 1)
            create(gd, detector, f"f{i:02d}", Rank=rank)
            order.insert(rank - 1, f"f{i:02d}")
        first = gd.list_filters(DetectorId=detector)
        self.assertEqual(first["FilterNames"], order[:50])  # 50 by default
        rest = gd.list_filters(DetectorId=detector, NextToken=first["NextToken"])
        self.assertEqual(rest["FilterNames"], order[50:])
        self.assertNotIn("NextToken", rest)
        pages = list(gd.get_paginator("list_filters").paginate(DetectorId=detector,
                                                               PaginationConfig={"PageSize": 25}))
        self.assertEqual([len(p["FilterNames"]) for p in pages], [25, 25, 10])
        self.assertEqual([n for p in pages for n in p["FilterNames"]], order)
        self.assertEqual(gd.list_filters(DetectorId=detector, MaxResults=50)["FilterNames"], order[:50])
        for size in (0, 51):
            refused(self, lambda: loose.list_filters(DetectorId=detector, MaxResults=size),
                    MESSAGES["out_of_bounds"].format("maxResults"))
        refused(self, lambda: gd.list_filters(DetectorId=detector, NextToken="not-a-token"),
                MESSAGES["invalid"].format("nextToken"))
        _, other, empty = fresh()
        self.assertEqual(other.list_filters(DetectorId=empty)["FilterNames"], [])

    def test_short_operators_are_kept_in_their_long_form(self):
        account, gd, detector = fresh()
        criteria = {"Criterion": {
            "type": {"Eq": ["Recon:EC2/Portscan", "Recon:EC2/PortProbeUnprotectedPort"]},
            "resource.instanceDetails.tags.key": {"Neq": ["env"]},
            "severity": {"Gt": 2, "Lte": 8},
            "updatedAt": {"GreaterThanOrEqual": 1_486_685_375_000, "LessThan": 1_900_000_000_000},
            "service.action.networkConnectionAction.localPortDetails.port": {"Equals": ["22"], "NotEquals": ["23"]},
            "service.count": {"GreaterThan": 1, "GreaterThanOrEqual": 2, "LessThan": 9, "LessThanOrEqual": 8},
            "resource.resourceType": {"Eq": ["Instance"], "Equals": ["Instance"]},  # the same twice agrees
        }}
        create(gd, detector, "normal", FindingCriteria=criteria)
        key = credentials(account)["AccessKeyId"]
        status, wire = call("GET", f"/detector/{detector}/filter/normal", access_key=key)
        self.assertEqual(status, 200)
        self.assertEqual(wire["findingCriteria"], {"criterion": {
            "type": {"equals": ["Recon:EC2/Portscan", "Recon:EC2/PortProbeUnprotectedPort"]},
            "resource.instanceDetails.tags.key": {"notEquals": ["env"]},
            "severity": {"greaterThan": 2, "lessThanOrEqual": 8},
            "updatedAt": {"greaterThanOrEqual": 1_486_685_375_000, "lessThan": 1_900_000_000_000},
            "service.action.networkConnectionAction.localPortDetails.port": {"equals": ["22"], "notEquals": ["23"]},
            "service.count": {"greaterThan": 1, "greaterThanOrEqual": 2, "lessThan": 9, "lessThanOrEqual": 8},
            "resource.resourceType": {"equals": ["Instance"]},
        }})
        self.assertIsInstance(wire["findingCriteria"]["criterion"]["severity"]["greaterThan"], int)
        # What comes back creates the same filter again.
        got = gd.get_filter(DetectorId=detector, FilterName="normal")["FindingCriteria"]
        create(gd, detector, "again", FindingCriteria=got)
        self.assertEqual(gd.get_filter(DetectorId=detector, FilterName="again")["FindingCriteria"], got)
        refused(self, lambda: create(gd, detector, "clash",
                                     FindingCriteria={"Criterion": {"type": {"Eq": ["a"], "Equals": ["b"]}}}))
        # The short range keys are Integers: an epoch-millisecond time needs the long ones.
        refused(self, lambda: create(gd, detector, "short", FindingCriteria={"Criterion": {
            "updatedAt": {"Gte": 1_486_685_375_000}}}), MESSAGES["json"])

    def test_matches_only_in_filters_and_five_at_most(self):
        _, gd, detector = fresh()
        create(gd, detector, "match", FindingCriteria={"Criterion": {
            "resource.lambdaDetails.functionName": {"Matches": ["app-*"], "NotMatches": ["app-test*"]}}})
        got = gd.get_filter(DetectorId=detector, FilterName="match")["FindingCriteria"]["Criterion"]
        self.assertEqual(got, {"resource.lambdaDetails.functionName": {"Matches": ["app-*"],
                                                                       "NotMatches": ["app-test*"]}})
        refused(self, lambda: create(gd, detector, "six", FindingCriteria={"Criterion": {
            "type": {"Matches": [f"t{i}*" for i in range(6)]}}}))
        refused(self, lambda: gd.list_findings(DetectorId=detector, FindingCriteria={"Criterion": {
            "type": {"Matches": ["Recon:*"]}}}))

    def test_criteria_fields_and_values_are_the_references(self):
        account, gd, detector = fresh()
        loose = account_client(account, validate=False)
        unknown = refused(self, lambda: create(gd, detector, "bad", FindingCriteria={"Criterion": {
            "resource.nothing.here": {"Eq": ["x"]}}}))
        self.assertIn("resource.nothing.here", unknown)
        # Fields the findings operations do not know, but filters may use (the reference's list).
        for i, field in enumerate(("resource.lambdaDetails.functionName", "resource.rdsDbInstanceDetails.engine",
                                   "service.runtimeDetails.process.executablePath", "resource.s3BucketDetails.tags.key",
                                   "resource.instanceDetails.tags.value", "service.action.actionType")):
            create(gd, detector, f"field{i}", FindingCriteria={"Criterion": {field: {"Eq": ["x"]}}})
        fifty = [str(i) for i in range(50)]
        create(gd, detector, "fifty", FindingCriteria={"Criterion": {"accountId": {"Eq": fifty}}})
        for op in ("Eq", "Neq", "Equals", "NotEquals"):
            message = refused(self, lambda: create(gd, detector, "many", FindingCriteria={"Criterion": {
                "accountId": {op: fifty + ["50"]}}}))
            self.assertIn("50", message)
        fields = sorted(guardduty_settings.filter_fields())
        self.assertGreater(len(fields), 300)
        create(gd, detector, "wide", FindingCriteria={"Criterion": {f: {"Eq": ["1"]} for f in fields[:50]
                                                                    if f not in ("service.archived",)}})
        refused(self, lambda: create(gd, detector, "wider", FindingCriteria={"Criterion": {
            f: {"Neq": ["x"]} for f in fields if guardduty_settings.filter_fields()[f] is None}}))
        bad = [
            {},
            {"type": {}},
            {"type": {"Gt": 3}},
            {"severity": {"Gt": 2.5}},
            {"severity": {"Eq": ["high"]}},
            {"service.archived": {"Eq": ["yes"]}},
            {"severity": {"Gt": 2**31}},
        ]
        for criterion in bad:
            refused(self, lambda: create(loose, detector, "bad", FindingCriteria={"Criterion": criterion}))
        key = credentials(account)["AccessKeyId"]
        for criteria in ({"criterion": {"type": {"eq": "not a list"}}}, {"criterion": {"type": {"eq": [1]}}},
                         {"criterion": {"type": ["eq"]}}, {"criterion": []}, ["criterion"]):
            status, out = call("POST", f"/detector/{detector}/filter", json.dumps({
                "name": "bad", "findingCriteria": criteria}).encode(), key)
            self.assertEqual(status, 400, criteria)
        self.assertNotIn("bad", names(gd, detector))
        self.assertEqual(len(names(gd, detector)), 8)

    def test_at_most_one_hundred_filters(self):
        account, gd, detector = fresh()
        for i in range(100):
            create(gd, detector, f"rule{i:03d}")
        refused(self, lambda: create(gd, detector, "one-too-many"),
                "The request is rejected because filter limit has exceeded.")
        refused(self, lambda: create(gd, detector, "one-too-many", Rank=1),
                "The request is rejected because filter limit has exceeded.")
        self.assertEqual(len(names(gd, detector)), 100)
        gd.delete_filter(DetectorId=detector, FilterName="rule050")
        create(gd, detector, "room-again", Rank=100)
        self.assertEqual(names(gd, detector)[-1], "room-again")
        # The quota is per detector: another account's is empty.
        _, other, theirs = fresh()
        create(other, theirs, "rule000")

    def test_update_changes_what_it_is_given_and_counts_versions(self):
        account, gd, detector = fresh()
        loose = account_client(account, validate=False)
        create(gd, detector, "rule", Description="before", Tags={"team": "sec"})
        before = gd.get_filter(DetectorId=detector, FilterName="rule")
        self.assertEqual((before["Action"], before["Rank"], before["Version"], before["Tags"]),
                         ("NOOP", 1, 1, {"team": "sec"}))
        out = gd.update_filter(DetectorId=detector, FilterName="rule", Action="ARCHIVE")
        self.assertEqual(out["Name"], "rule")
        gd.update_filter(DetectorId=detector, FilterName="rule",
                         FindingCriteria={"Criterion": {"type": {"Neq": ["Recon:EC2/Portscan"]}}})
        after = gd.get_filter(DetectorId=detector, FilterName="rule")
        self.assertEqual(after["Action"], "ARCHIVE")
        self.assertEqual(after["Description"], "before")  # not given: kept
        self.assertEqual(after["FindingCriteria"], {"Criterion": {"type": {"NotEquals": ["Recon:EC2/Portscan"]}}})
        self.assertEqual(after["Version"], 3)
        self.assertEqual(after["CreatedAt"], before["CreatedAt"])
        self.assertGreaterEqual(after["UpdatedAt"], before["UpdatedAt"])
        gd.update_filter(DetectorId=detector, FilterName="rule", Description="")
        self.assertEqual(gd.get_filter(DetectorId=detector, FilterName="rule")["Description"], "")
        refused(self, lambda: loose.update_filter(DetectorId=detector, FilterName="rule", Action="DELETE"),
                MESSAGES["invalid"].format("action"))
        refused(self, lambda: gd.update_filter(DetectorId=detector, FilterName="rule", Description="a, b"),
                "The request is rejected because the JSON could not be processed.")
        refused(self, lambda: gd.update_filter(DetectorId=detector, FilterName="nosuch", Action="NOOP"),
                "The request is rejected since no such resource found.")
        refused(self, lambda: gd.get_filter(DetectorId=detector, FilterName="nosuch"),
                "The request is rejected since no such resource found.")
        self.assertEqual(gd.get_filter(DetectorId=detector, FilterName="rule")["Action"], "ARCHIVE")

    def test_a_create_repeated_with_its_client_token_answers_the_same_and_changes_nothing(self):
        _, gd, detector = fresh()
        create(gd, detector, "once", ClientToken="token-1")
        create(gd, detector, "once", ClientToken="token-1")  # a retry: not a duplicate
        create(gd, detector, "other", ClientToken="token-1", Rank=1)  # the first answer, no new filter
        self.assertEqual(names(gd, detector), ["once"])
        refused(self, lambda: create(gd, detector, "once", ClientToken="token-2"), MESSAGES["filter_exists"])


class ListsTest(unittest.TestCase):
    def test_an_ip_set_created_read_listed_updated_and_deleted(self):
        account, gd, detector = fresh()
        set_id = gd.create_ip_set(DetectorId=detector, Name="office ranges", Format="TXT",
                                  Location="https://s3.amazonaws.com/lists-bucket/trusted.txt", Activate=True,
                                  Tags={"owner": "net"})["IpSetId"]
        got = gd.get_ip_set(DetectorId=detector, IpSetId=set_id)
        self.assertEqual({k: got[k] for k in ("Name", "Format", "Location", "Status", "Tags")}, {
            "Name": "office ranges", "Format": "TXT", "Location": "https://s3.amazonaws.com/lists-bucket/trusted.txt",
            "Status": "ACTIVE", "Tags": {"owner": "net"}})
        self.assertEqual(gd.list_ip_sets(DetectorId=detector)["IpSetIds"], [set_id])
        gd.update_ip_set(DetectorId=detector, IpSetId=set_id, Activate=False)
        self.assertEqual(gd.get_ip_set(DetectorId=detector, IpSetId=set_id)["Status"], "INACTIVE")
        gd.update_ip_set(DetectorId=detector, IpSetId=set_id, Name="renamed", Location="s3://lists-bucket/v2.txt")
        got = gd.get_ip_set(DetectorId=detector, IpSetId=set_id)
        self.assertEqual((got["Name"], got["Location"], got["Status"]), ("renamed", "s3://lists-bucket/v2.txt",
                                                                         "INACTIVE"))
        gd.update_ip_set(DetectorId=detector, IpSetId=set_id, Activate=True)
        self.assertEqual(gd.get_ip_set(DetectorId=detector, IpSetId=set_id)["Status"], "ACTIVE")
        gd.delete_ip_set(DetectorId=detector, IpSetId=set_id)
        self.assertEqual(gd.list_ip_sets(DetectorId=detector)["IpSetIds"], [])
        for call_ in (lambda: gd.get_ip_set(DetectorId=detector, IpSetId=set_id),
                      lambda: gd.update_ip_set(DetectorId=detector, IpSetId=set_id, Activate=True),
                      lambda: gd.delete_ip_set(DetectorId=detector, IpSetId=set_id)):
            refused(self, call_, "The request is rejected since no such resource found.")
        inactive = gd.create_ip_set(DetectorId=detector, Name="later", Format="STIX",
                                    Location="s3://lists-bucket/t.xml", Activate=False)["IpSetId"]
        self.assertEqual(gd.get_ip_set(DetectorId=detector, IpSetId=inactive)["Status"], "INACTIVE")

    def test_one_trusted_ip_set_and_six_threat_intel_sets(self):
        _, gd, detector = fresh()
        location = "s3://lists-bucket/list.txt"
        first = gd.create_ip_set(DetectorId=detector, Name="trusted", Format="TXT", Location=location,
                                 Activate=True)["IpSetId"]
        refused(self, lambda: gd.create_ip_set(DetectorId=detector, Name="trusted2", Format="TXT", Location=location,
                                               Activate=True), MESSAGES["list_limit"])
        threats = [gd.create_threat_intel_set(DetectorId=detector, Name=f"threat{i}", Format="TXT",
                                              Location=location, Activate=True)["ThreatIntelSetId"]
                   for i in range(6)]
        refused(self, lambda: gd.create_threat_intel_set(DetectorId=detector, Name="threat6", Format="TXT",
                                                         Location=location, Activate=True), MESSAGES["list_limit"])
        self.assertIn("account limits", MESSAGES["list_limit"])
        self.assertEqual(gd.list_threat_intel_sets(DetectorId=detector)["ThreatIntelSetIds"], threats)
        self.assertEqual(gd.list_ip_sets(DetectorId=detector)["IpSetIds"], [first])
        page = gd.list_threat_intel_sets(DetectorId=detector, MaxResults=4)
        rest = gd.list_threat_intel_sets(DetectorId=detector, MaxResults=4, NextToken=page["NextToken"])
        self.assertEqual((page["ThreatIntelSetIds"], rest["ThreatIntelSetIds"]), (threats[:4], threats[4:]))
        self.assertNotIn("NextToken", rest)
        gd.delete_ip_set(DetectorId=detector, IpSetId=first)
        gd.create_ip_set(DetectorId=detector, Name="trusted2", Format="TXT", Location=location, Activate=True)
        gd.delete_threat_intel_set(DetectorId=detector, ThreatIntelSetId=threats[2])
        gd.create_threat_intel_set(DetectorId=detector, Name="threat6", Format="TXT", Location=location,
                                   Activate=False)
        self.assertEqual(len(gd.list_threat_intel_sets(DetectorId=detector)["ThreatIntelSetIds"]), 6)

    def test_the_format_is_not_updated(self):
        account, gd, detector = fresh()
        set_id = gd.create_threat_intel_set(DetectorId=detector, Name="intel", Format="TXT",
                                            Location="s3://lists-bucket/intel.txt", Activate=True)["ThreatIntelSetId"]
        key = credentials(account)["AccessKeyId"]
        status, _ = call("POST", f"/detector/{detector}/threatintelset/{set_id}",
                         json.dumps({"format": "STIX", "name": "intel-v2"}).encode(), key)
        self.assertEqual(status, 200)
        got = gd.get_threat_intel_set(DetectorId=detector, ThreatIntelSetId=set_id)
        self.assertEqual((got["Format"], got["Name"], got["Status"]), ("TXT", "intel-v2", "ACTIVE"))
        loose = account_client(account, validate=False)
        refused(self, lambda: loose.create_threat_intel_set(DetectorId=detector, Name="bad", Format="CSV",
                                                            Location="s3://lists-bucket/x.csv", Activate=True),
                MESSAGES["invalid"].format("format"))
        refused(self, lambda: loose.create_threat_intel_set(DetectorId=detector, Name="bad", Format="TXT",
                                                            Location="s3://lists-bucket/x.txt"), MESSAGES["json"])

    def test_locations_names_and_tags_as_aws_takes_them(self):
        account, gd, detector = fresh()
        loose = account_client(account, validate=False)
        good = ["https://s3.amazonaws.com/my-bucket/a.txt", "https://s3-eu-west-1.amazonaws.com/my.bucket/dir/a.txt",
                "https://s3.eu-west-1.amazonaws.com/my-bucket/a.txt", "http://my-bucket.s3.amazonaws.com/a.txt",
                "https://my-bucket.s3.eu-west-1.amazonaws.com/a.txt", "https://my.bucket.s3-eu-west-1.amazonaws.com/a",
                "s3://my-bucket/lists/a.txt"]
        ids = []
        for i, location in enumerate(good[:6]):
            ids.append(gd.create_threat_intel_set(DetectorId=detector, Name=f"t{i}", Format="TXT",
                                                  Location=location, Activate=False)["ThreatIntelSetId"])
        gd.update_threat_intel_set(DetectorId=detector, ThreatIntelSetId=ids[0], Location=good[6])
        bad = ["https://example.com/my-bucket/a.txt", "s3://my-bucket", "s3://my-bucket/", "ftp://my-bucket/a.txt",
               "https://s3.amazonaws.com/my-bucket", "https://s3.amazonaws.com/MyBucket/a.txt", "my-bucket/a.txt",
               "s3://my-bucket/" + "a" * 300]
        for location in bad:
            refused(self, lambda: gd.create_ip_set(DetectorId=detector, Name="ip", Format="TXT", Location=location,
                                                   Activate=True), MESSAGES["invalid"].format("location"))
            refused(self, lambda: gd.update_threat_intel_set(DetectorId=detector, ThreatIntelSetId=ids[1],
                                                             Location=location), MESSAGES["invalid"].format("location"))
        self.assertEqual(gd.get_threat_intel_set(DetectorId=detector, ThreatIntelSetId=ids[1])["Location"], good[1])
        for name in ("comma,name", "dot.name", "x" * 301):
            refused(self, lambda: loose.create_ip_set(DetectorId=detector, Name=name, Format="TXT",
                                                      Location=good[0], Activate=True),
                    MESSAGES["invalid"].format("name"))
        # A name is unique among the account-region's lists, trusted and threat alike.
        refused(self, lambda: gd.create_ip_set(DetectorId=detector, Name="t3", Format="TXT", Location=good[0],
                                               Activate=True), MESSAGES["list_exists"])
        refused(self, lambda: gd.update_threat_intel_set(DetectorId=detector, ThreatIntelSetId=ids[1], Name="t2"),
                MESSAGES["list_exists"])
        gd.update_threat_intel_set(DetectorId=detector, ThreatIntelSetId=ids[1], Name="t1")  # its own name
        refused(self, lambda: gd.create_ip_set(DetectorId=detector, Name="ip", Format="TXT", Location=good[0],
                                               Activate=True, Tags={"aws:reserved": "x"}),
                MESSAGES["invalid"].format("tags"))
        refused(self, lambda: loose.create_ip_set(DetectorId=detector, Name="ip", Format="TXT", Location=good[0],
                                                  Activate=True, ExpectedBucketOwner="12345"),
                MESSAGES["invalid"].format("expectedBucketOwner"))
        self.assertEqual(gd.list_ip_sets(DetectorId=detector)["IpSetIds"], [])
        owned = gd.create_ip_set(DetectorId=detector, Name="ip", Format="TXT", Location=good[0], Activate=True,
                                 ExpectedBucketOwner="111122223333")["IpSetId"]
        self.assertEqual(gd.get_ip_set(DetectorId=detector, IpSetId=owned)["ExpectedBucketOwner"], "111122223333")

    def test_a_member_may_not_manage_lists_its_administrator_may(self):
        admin, gd, detector, (member, removed) = organization(2)
        gd.disassociate_members(DetectorId=detector, AccountIds=[removed])
        member_gd = account_client(member)
        member_detector = member_gd.list_detectors()["DetectorIds"][0]
        location = "s3://lists-bucket/list.txt"
        refusal = "The request is rejected because member accounts cannot manage specified resources or properties."
        self.assertEqual(MESSAGES["member"], refusal)
        refused(self, lambda: member_gd.create_ip_set(DetectorId=member_detector, Name="mine", Format="TXT",
                                                      Location=location, Activate=True), refusal)
        refused(self, lambda: member_gd.create_threat_intel_set(DetectorId=member_detector, Name="mine",
                                                                Format="TXT", Location=location, Activate=True),
                refusal)
        refused(self, lambda: member_gd.update_ip_set(DetectorId=member_detector, IpSetId="0" * 32, Activate=True),
                refusal)
        refused(self, lambda: member_gd.delete_threat_intel_set(DetectorId=member_detector,
                                                                ThreatIntelSetId="0" * 32), refusal)
        self.assertEqual(member_gd.list_ip_sets(DetectorId=member_detector)["IpSetIds"], [])
        # The administrator manages them; an account removed from the organization's members its own.
        set_id = gd.create_ip_set(DetectorId=detector, Name="org", Format="TXT", Location=location,
                                  Activate=True)["IpSetId"]
        gd.update_ip_set(DetectorId=detector, IpSetId=set_id, Activate=False)
        removed_gd = account_client(removed)
        removed_gd.create_ip_set(DetectorId=removed_gd.list_detectors()["DetectorIds"][0], Name="own", Format="TXT",
                                 Location=location, Activate=True)
        # Members' filters and destinations are their own to manage.
        create(member_gd, member_detector, "member-rule")
        member_gd.create_publishing_destination(DetectorId=member_detector, DestinationType="S3",
                                                DestinationProperties={"DestinationArn": BUCKET, "KmsKeyArn": KEY})


class DestinationTest(unittest.TestCase):
    def test_a_destination_created_described_updated_and_deleted(self):
        _, gd, detector = fresh()
        destination_id = gd.create_publishing_destination(
            DetectorId=detector, DestinationType="S3", Tags={"k": "v"},
            DestinationProperties={"DestinationArn": BUCKET + "/guardduty/", "KmsKeyArn": KEY})["DestinationId"]
        self.assertEqual(gd.list_publishing_destinations(DetectorId=detector)["Destinations"], [
            {"DestinationId": destination_id, "DestinationType": "S3", "Status": "PUBLISHING"}])
        got = gd.describe_publishing_destination(DetectorId=detector, DestinationId=destination_id)
        self.assertEqual({k: got[k] for k in ("DestinationId", "DestinationType", "Status",
                                              "PublishingFailureStartTimestamp", "DestinationProperties", "Tags")}, {
            "DestinationId": destination_id, "DestinationType": "S3", "Status": "PUBLISHING",
            "PublishingFailureStartTimestamp": 0,
            "DestinationProperties": {"DestinationArn": BUCKET + "/guardduty/", "KmsKeyArn": KEY}, "Tags": {"k": "v"}})
        other_key = KEY.replace("1234abcd", "9999ffff")
        gd.update_publishing_destination(DetectorId=detector, DestinationId=destination_id,
                                         DestinationProperties={"KmsKeyArn": other_key})
        got = gd.describe_publishing_destination(DetectorId=detector, DestinationId=destination_id)
        self.assertEqual(got["DestinationProperties"], {"DestinationArn": BUCKET + "/guardduty/",
                                                        "KmsKeyArn": other_key})
        gd.update_publishing_destination(DetectorId=detector, DestinationId=destination_id,
                                         DestinationProperties={"DestinationArn": BUCKET,
                                                                "ExpectedBucketOwner": "111122223333"})
        got = gd.describe_publishing_destination(DetectorId=detector, DestinationId=destination_id)
        self.assertEqual(got["DestinationProperties"], {"DestinationArn": BUCKET, "KmsKeyArn": other_key,
                                                        "ExpectedBucketOwner": "111122223333"})
        gd.delete_publishing_destination(DetectorId=detector, DestinationId=destination_id)
        self.assertEqual(gd.list_publishing_destinations(DetectorId=detector)["Destinations"], [])
        gone = MESSAGES["no_destination"]
        self.assertEqual(gone, "The request is rejected because the one or more input parameters have invalid values.")
        for call_ in (lambda: gd.describe_publishing_destination(DetectorId=detector, DestinationId=destination_id),
                      lambda: gd.update_publishing_destination(DetectorId=detector, DestinationId=destination_id,
                                                               DestinationProperties={"KmsKeyArn": KEY}),
                      lambda: gd.delete_publishing_destination(DetectorId=detector, DestinationId=destination_id)):
            refused(self, call_, gone)

    def test_one_destination_a_detector(self):
        _, gd, detector = fresh()
        gd.create_publishing_destination(DetectorId=detector, DestinationType="S3",
                                         DestinationProperties={"DestinationArn": BUCKET, "KmsKeyArn": KEY})
        refused(self, lambda: gd.create_publishing_destination(
            DetectorId=detector, DestinationType="S3",
            DestinationProperties={"DestinationArn": BUCKET + "-2", "KmsKeyArn": KEY}),
            "The request failed because a publishingDestination already exists with the destinationType value "
            "provided in the request.")
        self.assertEqual(len(gd.list_publishing_destinations(DetectorId=detector)["Destinations"]), 1)

    def test_bad_destinations_are_refused(self):
        account, gd, detector = fresh()
        loose = account_client(account, validate=False)
        bad = [
            ({"DestinationArn": "arn:aws:s3:::Bad_Bucket", "KmsKeyArn": KEY}, MESSAGES["invalid"].format(
                "destinationArn")),
            ({"DestinationArn": "arn:aws-cn:s3:::findings-bucket", "KmsKeyArn": KEY}, MESSAGES["invalid"].format(
                "destinationArn")),
            ({"DestinationArn": "arn:aws:sqs:eu-west-1:111122223333:queue", "KmsKeyArn": KEY},
             MESSAGES["invalid"].format("destinationArn")),
            ({"KmsKeyArn": KEY}, MESSAGES["invalid"].format("destinationArn")),
            ({"DestinationArn": BUCKET}, MESSAGES["invalid"].format("kmsKeyArn")),
            ({"DestinationArn": BUCKET, "KmsKeyArn": "alias/aws/s3"}, MESSAGES["invalid"].format("kmsKeyArn")),
            ({"DestinationArn": BUCKET, "KmsKeyArn": KEY, "ExpectedBucketOwner": "me"},
             MESSAGES["invalid"].format("expectedBucketOwner")),
        ]
        for properties, message in bad:
            refused(self, lambda: loose.create_publishing_destination(
                DetectorId=detector, DestinationType="S3", DestinationProperties=properties), message)
        refused(self, lambda: loose.create_publishing_destination(
            DetectorId=detector, DestinationType="SQS", DestinationProperties={"DestinationArn": BUCKET,
                                                                               "KmsKeyArn": KEY}), MESSAGES["json"])
        key = credentials(account)["AccessKeyId"]
        status, out = call("POST", f"/detector/{detector}/publishingDestination", json.dumps({
            "destinationProperties": {"destinationArn": BUCKET, "kmsKeyArn": KEY}}).encode(), key)
        self.assertEqual((status, out["message"]), (400, MESSAGES["no_type"]))
        status, out = call("POST", f"/detector/{detector}/publishingDestination",
                           json.dumps({"destinationType": "S3"}).encode(), key)
        self.assertEqual((status, out["message"]), (400, MESSAGES["no_properties"]))
        self.assertEqual(gd.list_publishing_destinations(DetectorId=detector)["Destinations"], [])
        destination_id = gd.create_publishing_destination(
            DetectorId=detector, DestinationType="S3",
            DestinationProperties={"DestinationArn": BUCKET, "KmsKeyArn": KEY})["DestinationId"]
        refused(self, lambda: gd.update_publishing_destination(DetectorId=detector, DestinationId=destination_id,
                                                               DestinationProperties={"KmsKeyArn": "nope"}),
                MESSAGES["invalid"].format("kmsKeyArn"))
        refused(self, lambda: gd.update_publishing_destination(DetectorId=detector, DestinationId=destination_id),
                MESSAGES["out_of_range"])
        self.assertEqual(gd.describe_publishing_destination(DetectorId=detector, DestinationId=destination_id)[
            "DestinationProperties"]["KmsKeyArn"], KEY)


class UnknownDetectorTest(unittest.TestCase):
    def test_every_operation_refuses_a_detector_not_the_callers(self):
        _, gd, detector = fresh()
        _, _, others = fresh()
        props = {"DestinationArn": BUCKET, "KmsKeyArn": KEY}
        calls = [
            lambda d: create(gd, d, "rule"),
            lambda d: gd.list_filters(DetectorId=d),
            lambda d: gd.get_filter(DetectorId=d, FilterName="rule"),
            lambda d: gd.update_filter(DetectorId=d, FilterName="rule", Action="NOOP"),
            lambda d: gd.delete_filter(DetectorId=d, FilterName="rule"),
            lambda d: gd.create_ip_set(DetectorId=d, Name="ip", Format="TXT", Location="s3://b-1/k", Activate=True),
            lambda d: gd.list_ip_sets(DetectorId=d),
            lambda d: gd.get_ip_set(DetectorId=d, IpSetId="0" * 32),
            lambda d: gd.update_ip_set(DetectorId=d, IpSetId="0" * 32, Activate=True),
            lambda d: gd.delete_ip_set(DetectorId=d, IpSetId="0" * 32),
            lambda d: gd.create_threat_intel_set(DetectorId=d, Name="t", Format="TXT", Location="s3://b-1/k",
                                                 Activate=True),
            lambda d: gd.list_threat_intel_sets(DetectorId=d),
            lambda d: gd.get_threat_intel_set(DetectorId=d, ThreatIntelSetId="0" * 32),
            lambda d: gd.update_threat_intel_set(DetectorId=d, ThreatIntelSetId="0" * 32, Activate=True),
            lambda d: gd.delete_threat_intel_set(DetectorId=d, ThreatIntelSetId="0" * 32),
            lambda d: gd.create_publishing_destination(DetectorId=d, DestinationType="S3",
                                                       DestinationProperties=props),
            lambda d: gd.list_publishing_destinations(DetectorId=d),
            lambda d: gd.describe_publishing_destination(DetectorId=d, DestinationId="0" * 32),
            lambda d: gd.update_publishing_destination(DetectorId=d, DestinationId="0" * 32,
                                                       DestinationProperties=props),
            lambda d: gd.delete_publishing_destination(DetectorId=d, DestinationId="0" * 32),
        ]
        for call_ in calls:
            for d in ("nosuchdetector", others):
                message = refused(self, lambda: call_(d))
                self.assertIn("detectorId is not owned by the current account", message)
        self.assertEqual(names(gd, detector), [])


class HookTest(unittest.TestCase):
    def test_a_destination_made_to_fail_and_fixed_by_an_update(self):
        account, gd, detector = fresh()
        destination_id = gd.create_publishing_destination(
            DetectorId=detector, DestinationType="S3",
            DestinationProperties={"DestinationArn": BUCKET, "KmsKeyArn": KEY})["DestinationId"]
        status, out = destination_status({"accountId": account, "region": REGION,
                                          "status": "UNABLE_TO_PUBLISH_FIX_DESTINATION_PROPERTY",
                                          "failureStartedHoursAgo": 5})
        self.assertEqual((status, out["destinationId"], out["status"]),
                         (200, destination_id, "UNABLE_TO_PUBLISH_FIX_DESTINATION_PROPERTY"))
        got = gd.describe_publishing_destination(DetectorId=detector, DestinationId=destination_id)
        self.assertEqual(got["Status"], "UNABLE_TO_PUBLISH_FIX_DESTINATION_PROPERTY")
        self.assertEqual(got["PublishingFailureStartTimestamp"], out["publishingFailureStartTimestamp"])
        self.assertLess(abs(time.time() * 1000 - 5 * HOUR_MS - got["PublishingFailureStartTimestamp"]), 60_000)
        self.assertEqual(gd.list_publishing_destinations(DetectorId=detector)["Destinations"][0]["Status"],
                         "UNABLE_TO_PUBLISH_FIX_DESTINATION_PROPERTY")
        gd.update_publishing_destination(DetectorId=detector, DestinationId=destination_id,
                                         DestinationProperties={"DestinationArn": BUCKET + "/fixed"})
        got = gd.describe_publishing_destination(DetectorId=detector, DestinationId=destination_id)
        self.assertEqual((got["Status"], got["PublishingFailureStartTimestamp"]), ("PUBLISHING", 0))
        status, out = destination_status({"accountId": account, "region": REGION, "status": "STOPPED"})
        self.assertEqual((status, out["publishingFailureStartTimestamp"]), (200, 0))
        self.assertEqual(gd.describe_publishing_destination(DetectorId=detector, DestinationId=destination_id)[
            "Status"], "STOPPED")
        status, out = destination_status({"accountId": account, "region": REGION,
                                          "status": "UNABLE_TO_PUBLISH_FIX_DESTINATION_PROPERTY"})
        self.assertLess(abs(time.time() * 1000 - out["publishingFailureStartTimestamp"]), 60_000)

    def test_bad_destination_status_requests_are_refused(self):
        account, gd, detector = fresh()
        base = {"accountId": account, "region": REGION, "status": "STOPPED"}
        status, out = destination_status(base)
        self.assertEqual(status, 400)
        self.assertIn("no publishing destination", out["message"])
        gd.create_publishing_destination(DetectorId=detector, DestinationType="S3",
                                         DestinationProperties={"DestinationArn": BUCKET, "KmsKeyArn": KEY})
        bad = [
            ({**base, "status": "BROKEN"}, "status must be one of"),
            ({**base, "failureStartedHoursAgo": 3}, "failureStartedHoursAgo goes only with"),
            ({**base, "status": "UNABLE_TO_PUBLISH_FIX_DESTINATION_PROPERTY", "failureStartedHoursAgo": -1},
             "failureStartedHoursAgo must be"),
            ({**base, "colour": "red"}, "unknown keys"),
            ({**base, "region": "nowhere-1"}, "unknown region"),
            ({"accountId": account, "region": REGION}, "accountId, region and status"),
            ({**base, "accountId": str(random.randrange(10**11, 10**12))}, "no detector"),
        ]
        for body, words in bad:
            status, out = destination_status(body)
            self.assertEqual(status, 400, body)
            self.assertIn(words, out["message"], body)
        status, out = call("POST", "/__gdctl/destination-status", b"not json")
        self.assertEqual(status, 400)
        self.assertEqual(gd.list_publishing_destinations(DetectorId=detector)["Destinations"][0]["Status"],
                         "PUBLISHING")


if __name__ == "__main__":
    unittest.main()
