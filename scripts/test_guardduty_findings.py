"""Tests of guardduty_findings.py: the emulator's findings operations and its
seeding hook, through boto3 against the emulator on loopback (run by scripts/test.sh)."""
import json
import random
import re
import time
import unittest
from datetime import datetime, timezone

import emulator_harness  # first: it sets the dummy environment before boto3 loads
from botocore.exceptions import ClientError  # noqa: E402

import guardduty_findings  # noqa: E402

REGION = "eu-west-1"
URL = ""
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
HOUR_MS = 3_600_000


def setUpModule() -> None:
    global URL
    URL = emulator_harness.start()


def credentials(account: str) -> dict:
    return emulator_harness.credentials(URL, account)


def account_client(account: str, service: str = "guardduty", validate: bool = True):
    return emulator_harness.account_client(URL, account, service, validate, region=REGION)


def post(path: str, body: bytes, access_key: str = "testing") -> tuple[int, dict]:
    return emulator_harness.hook(URL, "POST", path, body, region=REGION, access_key=access_key)


def seed_raw(account: str, findings: list, region: str = REGION) -> tuple[int, dict]:
    return post("/__gdctl/findings", json.dumps({"accountId": account, "region": region,
                                                 "findings": findings}).encode())


def seed(account: str, findings: list) -> list[str]:
    status, out = seed_raw(account, findings)
    assert status == 200, out
    return out["findingIds"]


def fresh() -> tuple[str, object, str]:
    account = str(random.randrange(10**11, 10**12))
    gd = account_client(account)
    return account, gd, gd.create_detector(Enable=True)["DetectorId"]


def code(e: ClientError) -> str:
    return e.response["Error"]["Code"]


def listed(gd, detector: str, **kwargs) -> list[str]:
    pages = gd.get_paginator("list_findings").paginate(DetectorId=detector, **kwargs)
    return [i for page in pages for i in page["FindingIds"]]


def matching(gd, detector: str, criterion: dict) -> set[str]:
    return set(listed(gd, detector, FindingCriteria={"Criterion": criterion}))


def findings(gd, detector: str, ids: list[str]) -> dict[str, dict]:
    out = {}
    for start in range(0, len(ids), 50):
        for f in gd.get_findings(DetectorId=detector, FindingIds=ids[start:start + 50])["Findings"]:
            out[f["Id"]] = f
    return out


def ms(text: str) -> int:
    at = datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)
    return round(at.timestamp() * 1000)


def organization(members: int):
    """A fresh organization whose delegated administrator has `members` enabled members."""
    return emulator_harness.organization(URL, members)


class CriteriaTest(unittest.TestCase):
    def test_equality_on_strings_numbers_and_booleans(self):
        account, gd, detector = fresh()
        a, b, c = seed(account, [{"type": "Recon:EC2/Portscan", "severity": 5.0},
                                 {"type": "Backdoor:EC2/C&CActivity.B!DNS", "severity": 8, "archived": True},
                                 {"type": "Policy:IAMUser/RootCredentialUsage", "severity": 2.0}])
        cases = [
            ({"type": {"Eq": ["Recon:EC2/Portscan", "Policy:IAMUser/RootCredentialUsage"]}}, {a, c}),
            ({"type": {"Equals": ["Backdoor:EC2/C&CActivity.B!DNS"]}}, {b}),
            ({"type": {"Neq": ["Recon:EC2/Portscan"]}}, {b, c}),
            ({"type": {"NotEquals": ["Recon:EC2/Portscan", "Backdoor:EC2/C&CActivity.B!DNS"]}}, {c}),
            ({"severity": {"Eq": ["8"]}}, {b}),
            ({"severity": {"Equals": ["5.0", "2"]}}, {a, c}),
            ({"severity": {"NotEquals": ["8.0"]}}, {a, c}),
            ({"service.archived": {"Eq": ["true"]}}, {b}),
            ({"service.archived": {"Equals": ["false"]}}, {a, c}),
            ({"service.archived": {"Neq": ["false"]}}, {b}),
            ({"accountId": {"Eq": [account]}}, {a, b, c}),
            ({"accountId": {"Neq": [account]}}, set()),
            ({"id": {"Eq": [a, "0" * 32]}}, {a}),
            ({"region": {"Equals": [REGION]}}, {a, b, c}),
            ({"region": {"Equals": ["us-east-1"]}}, set()),
            # Every field is an AND.
            ({"severity": {"GreaterThanOrEqual": 5}, "service.archived": {"Eq": ["false"]}}, {a}),
        ]
        for criterion, expected in cases:
            self.assertEqual(matching(gd, detector, criterion), expected, criterion)

    def test_sample_neq_true_matches_real_findings_which_lack_the_key(self):
        account, gd, detector = fresh()
        real, seeded_sample = seed(account, [{"type": "Recon:EC2/Portscan", "severity": 5},
                                             {"type": "Recon:EC2/Portscan", "severity": 5, "sample": True}])
        gd.create_sample_findings(DetectorId=detector, FindingTypes=["Policy:S3/BucketPublicAccessGranted"])
        sample = (set(listed(gd, detector)) - {real, seeded_sample}).pop()
        cases = [
            ({"service.additionalInfo.sample": {"Neq": ["true"]}}, {real}),
            ({"service.additionalInfo.sample": {"NotEquals": ["true"]}}, {real}),
            ({"service.additionalInfo.sample": {"Eq": ["true"]}}, {seeded_sample, sample}),
            ({"service.additionalInfo.sample": {"Neq": ["false"]}}, {real, seeded_sample, sample}),
            ({"service.additionalInfo.sample": {"Equals": ["false"]}}, set()),
        ]
        for criterion, expected in cases:
            self.assertEqual(matching(gd, detector, criterion), expected, criterion)

    def test_ranges_on_numbers_and_epoch_millisecond_times(self):
        account, gd, detector = fresh()
        recent, older, oldest = seed(account, [
            {"type": "T:EC2/A", "severity": 2.0, "count": 1, "updatedHoursAgo": 1, "firstSeenHoursAgo": 2},
            {"type": "T:EC2/B", "severity": 5.5, "count": 5, "updatedHoursAgo": 10, "firstSeenHoursAgo": 20},
            {"type": "T:EC2/C", "severity": 8.0, "count": 9, "updatedHoursAgo": 100, "firstSeenHoursAgo": 200}])
        now = round(time.time() * 1000)
        cases = [
            ({"severity": {"GreaterThan": 5}}, {older, oldest}),
            ({"severity": {"Gt": 5}}, {older, oldest}),
            ({"severity": {"GreaterThanOrEqual": 8}}, {oldest}),
            ({"severity": {"Gte": 2}}, {recent, older, oldest}),
            ({"severity": {"LessThan": 5}}, {recent}),
            ({"severity": {"Lt": 2}}, set()),
            ({"severity": {"LessThanOrEqual": 2}}, {recent}),
            ({"severity": {"Lte": 8, "Gt": 2}}, {older, oldest}),
            ({"service.count": {"GreaterThanOrEqual": 5}}, {older, oldest}),
            ({"service.count": {"LessThan": 5}}, {recent}),
            ({"service.count": {"Eq": ["9"]}}, {oldest}),
            ({"updatedAt": {"GreaterThan": now - 5 * HOUR_MS}}, {recent}),
            ({"updatedAt": {"LessThanOrEqual": now - 5 * HOUR_MS}}, {older, oldest}),
            ({"updatedAt": {"GreaterThan": now - 50 * HOUR_MS, "LessThan": now - 5 * HOUR_MS}}, {older}),
            ({"service.eventFirstSeen": {"LessThan": now - 50 * HOUR_MS}}, {oldest}),
            ({"service.eventFirstSeen": {"GreaterThanOrEqual": now - 15 * HOUR_MS}}, {recent}),
            ({"service.eventLastSeen": {"GreaterThanOrEqual": now - 50 * HOUR_MS}}, {recent, older}),
            ({"service.eventLastSeen": {"Lte": now}}, {recent, older, oldest}),
        ]
        for criterion, expected in cases:
            self.assertEqual(matching(gd, detector, criterion), expected, criterion)
        # eq on a time is its epoch milliseconds, as a string.
        at = ms(findings(gd, detector, [older])[older]["UpdatedAt"])
        self.assertEqual(matching(gd, detector, {"updatedAt": {"Eq": [str(at)]}}), {older})

    def test_resource_fields_every_value_of_a_list_counts(self):
        account, gd, detector = fresh()
        instance, key, bucket, default = seed(account, [
            {"type": "Recon:EC2/Portscan", "severity": 5,
             "resource": {"resourceType": "Instance", "instanceDetails": {"instanceId": "i-0abc"}}},
            {"type": "Recon:IAMUser/MaliciousIPCaller", "severity": 5, "resource": {
                "resourceType": "AccessKey", "accessKeyDetails": {
                    "accessKeyId": "AKIAEXAMPLE", "principalId": "AIDAEXAMPLE", "userName": "alice",
                    "userType": "IAMUser"}}},
            {"type": "Policy:S3/BucketPublicAccessGranted", "severity": 8, "resource": {
                "resourceType": "S3Bucket", "s3BucketDetails": [{"name": "logs"}, {"name": "data"}]}},
            {"type": "Recon:EC2/Portscan", "severity": 5}])
        cases = [
            ({"resource.resourceType": {"Eq": ["AccessKey"]}}, {key}),
            ({"resource.resourceType": {"Equals": ["Instance"]}}, {instance, default}),
            ({"resource.instanceDetails.instanceId": {"Eq": ["i-0abc"]}}, {instance}),
            ({"resource.instanceDetails.instanceId": {"Neq": ["i-0abc"]}}, {key, bucket, default}),
            ({"resource.accessKeyDetails.accessKeyId": {"Eq": ["AKIAEXAMPLE"]}}, {key}),
            ({"resource.accessKeyDetails.userName": {"Equals": ["alice", "bob"]}}, {key}),
            ({"resource.accessKeyDetails.userName": {"NotEquals": ["alice"]}}, {instance, bucket, default}),
            ({"resource.s3BucketDetails.name": {"Eq": ["data"]}}, {bucket}),
            ({"resource.s3BucketDetails.name": {"Neq": ["data"]}}, {instance, key, default}),
        ]
        for criterion, expected in cases:
            self.assertEqual(matching(gd, detector, criterion), expected, criterion)

    def test_bad_criteria_are_refused(self):
        account, gd, detector = fresh()
        seed(account, [{"type": "Recon:EC2/Portscan", "severity": 5}])
        bad = [
            {"resource.nothing.here": {"Eq": ["x"]}},
            {"type": {"Eq": [str(i) for i in range(51)]}},
            {"type": {"NotEquals": [str(i) for i in range(51)]}},
            {"type": {"GreaterThan": 3}},
            {"severity": {"Eq": ["high"]}},
            {"service.archived": {"Eq": ["yes"]}},
            {"type": {"Matches": ["Recon:*"]}},
            {"type": {}},
        ]
        for criterion in bad:
            with self.assertRaises(ClientError, msg=str(criterion)) as e:
                gd.list_findings(DetectorId=detector, FindingCriteria={"Criterion": criterion})
            self.assertEqual(code(e.exception), "BadRequestException", criterion)
        # Fifty values are allowed.
        self.assertEqual(len(matching(gd, detector, {"type": {"Eq": ["Recon:EC2/Portscan"] * 50}})), 1)
        with self.assertRaises(ClientError) as e:
            gd.get_findings_statistics(DetectorId=detector, GroupBy="SEVERITY",
                                       FindingCriteria={"Criterion": {"nope": {"Eq": ["x"]}}})
        self.assertEqual(code(e.exception), "BadRequestException")


class ListAndGetTest(unittest.TestCase):
    def test_sort_and_pages_of_at_most_fifty(self):
        account, gd, detector = fresh()
        ids = seed(account, [{"type": "Recon:EC2/Portscan", "severity": [2.0, 5.0, 8.0][i % 3],
                              "updatedHoursAgo": i % 7} for i in range(60)])
        got = findings(gd, detector, ids)
        updated = {i: ms(got[i]["UpdatedAt"]) for i in ids}
        severity = {i: got[i]["Severity"] for i in ids}
        orders = [
            ({"AttributeName": "severity", "OrderBy": "ASC"}, lambda i: (severity[i], -updated[i], i)),
            ({"AttributeName": "severity", "OrderBy": "DESC"}, lambda i: (-severity[i], -updated[i], i)),
            ({"AttributeName": "updatedAt", "OrderBy": "ASC"}, lambda i: (updated[i], i)),
            (None, lambda i: (-updated[i], i)),
        ]
        for sort, key in orders:
            kwargs = {"SortCriteria": sort} if sort else {}
            first = gd.list_findings(DetectorId=detector, MaxResults=50, **kwargs)
            self.assertEqual(len(first["FindingIds"]), 50)
            rest = gd.list_findings(DetectorId=detector, MaxResults=50, NextToken=first["NextToken"], **kwargs)
            self.assertEqual(len(rest["FindingIds"]), 10)
            self.assertNotIn("NextToken", rest)
            self.assertEqual(first["FindingIds"] + rest["FindingIds"], sorted(ids, key=key), sort)
        # A page that ends the list has no next token.
        tail = gd.list_findings(DetectorId=detector, MaxResults=10, NextToken=first["NextToken"])
        self.assertEqual((len(tail["FindingIds"]), "NextToken" in tail), (10, False))
        # The default page is fifty.
        self.assertEqual(len(gd.list_findings(DetectorId=detector)["FindingIds"]), 50)
        pages = list(gd.get_paginator("list_findings").paginate(DetectorId=detector, PaginationConfig={"PageSize": 25}))
        self.assertEqual([len(p["FindingIds"]) for p in pages], [25, 25, 10])

    def test_list_limits_are_refused(self):
        account, _, detector = fresh()
        loose = account_client(account, validate=False)
        for kwargs in (dict(MaxResults=51), dict(MaxResults=0), dict(NextToken="not-a-token"),
                       dict(SortCriteria={"AttributeName": "colour", "OrderBy": "ASC"}),
                       dict(SortCriteria={"AttributeName": "severity", "OrderBy": "UP"})):
            with self.assertRaises(ClientError, msg=str(kwargs)) as e:
                loose.list_findings(DetectorId=detector, **kwargs)
            self.assertEqual(code(e.exception), "BadRequestException", kwargs)

    def test_get_findings_leaves_unknown_ids_out_and_takes_fifty_at_most(self):
        account, gd, detector = fresh()
        a, b, c = seed(account, [{"type": "Recon:EC2/Portscan", "severity": s} for s in (5.0, 8.0, 2.0)])
        got = gd.get_findings(DetectorId=detector, FindingIds=[a, "0" * 32, b])["Findings"]
        self.assertEqual([f["Id"] for f in got], [a, b])
        by_severity = gd.get_findings(DetectorId=detector, FindingIds=[a, b, c],
                                      SortCriteria={"AttributeName": "severity", "OrderBy": "DESC"})["Findings"]
        self.assertEqual([f["Id"] for f in by_severity], [b, a, c])
        loose = account_client(account, validate=False)
        for ids in ([a] * 51, []):
            with self.assertRaises(ClientError) as e:
                loose.get_findings(DetectorId=detector, FindingIds=ids)
            self.assertEqual(code(e.exception), "BadRequestException")
        self.assertEqual(len(gd.get_findings(DetectorId=detector, FindingIds=[a] * 50)["Findings"]), 1)

    def test_the_wire_shape_is_the_sdks(self):
        account, gd, detector = fresh()
        (real,) = seed(account, [{"type": "Recon:EC2/Portscan", "severity": 5, "count": 3,
                                  "updatedHoursAgo": 2, "firstSeenHoursAgo": 30}])
        gd.create_sample_findings(DetectorId=detector, FindingTypes=["Recon:EC2/Portscan"])
        sample = (set(listed(gd, detector)) - {real}).pop()
        key = credentials(account)["AccessKeyId"]
        status, out = post(f"/detector/{detector}/findings/get",
                           json.dumps({"findingIds": [real, sample]}).encode(), key)
        self.assertEqual(status, 200)
        wire = {f["id"]: f for f in out["findings"]}
        for f in wire.values():
            self.assertEqual(f["accountId"], account)
            self.assertEqual(f["arn"], f"arn:aws:guardduty:{REGION}:{account}:detector/{detector}/finding/{f['id']}")
            self.assertEqual((f["partition"], f["region"], f["schemaVersion"]), ("aws", REGION, "2.0"))
            for text in (f["createdAt"], f["updatedAt"], f["service"]["eventFirstSeen"],
                         f["service"]["eventLastSeen"]):
                self.assertRegex(text, ISO)
            self.assertIsInstance(f["severity"], float)
            self.assertIsInstance(f["confidence"], float)
            self.assertEqual(f["resource"]["resourceType"], "Instance")
            self.assertTrue(f["resource"]["instanceDetails"]["instanceId"].startswith("i-"))
            service = f["service"]
            self.assertEqual((service["serviceName"], service["detectorId"], service["resourceRole"]),
                             ("guardduty", detector, "TARGET"))
            self.assertIs(service["archived"], False)
            self.assertEqual(service["additionalInfo"]["type"], "default")
        self.assertEqual(json.loads(wire[real]["service"]["additionalInfo"]["value"]), {})
        self.assertEqual(wire[sample]["service"]["additionalInfo"]["value"], '{"sample":true}')
        self.assertEqual(wire[real]["service"]["count"], 3)
        self.assertEqual(ms(wire[real]["updatedAt"]) - ms(wire[real]["service"]["eventFirstSeen"]), 28 * HOUR_MS)
        self.assertEqual(wire[real]["updatedAt"], wire[real]["service"]["eventLastSeen"])
        self.assertEqual(wire[real]["createdAt"], wire[real]["service"]["eventFirstSeen"])
        self.assertTrue(wire[sample]["title"].startswith("[SAMPLE] "))
        self.assertFalse(wire[real]["title"].startswith("[SAMPLE] "))
        status, out = post(f"/detector/{detector}/findings/statistics", b'{"groupBy": "ACCOUNT"}', key)
        (row,) = out["findingStatistics"]["groupedByAccount"]
        self.assertIsInstance(row["lastGeneratedAt"], (int, float))
        self.assertAlmostEqual(row["lastGeneratedAt"], ms(wire[sample]["updatedAt"]) / 1000, places=3)
        self.assertEqual(list(out["findingStatistics"]), ["groupedByAccount"])


class StatisticsTest(unittest.TestCase):
    def test_by_severity_the_exact_value_ordered_and_cut_at_max_results(self):
        account, gd, detector = fresh()
        seed(account, [{"type": "Recon:EC2/Portscan", "severity": s, "updatedHoursAgo": i}
                       for i, s in enumerate([8.0, 8.0, 8.0, 8.5, 5.0, 5.0, 2.0])])

        def groups(**kwargs):
            out = gd.get_findings_statistics(DetectorId=detector, GroupBy="SEVERITY", **kwargs)
            self.assertNotIn("NextToken", out)
            return [(g["Severity"], g["TotalFindings"]) for g in out["FindingStatistics"]["GroupedBySeverity"]]

        self.assertEqual(groups(), [(8.0, 3), (5.0, 2), (2.0, 1), (8.5, 1)])
        self.assertEqual(groups(OrderBy="DESC"), groups())
        self.assertEqual(groups(OrderBy="ASC"), [(2.0, 1), (8.5, 1), (5.0, 2), (8.0, 3)])
        self.assertEqual(groups(MaxResults=1), [(8.0, 3)])
        self.assertEqual(groups(OrderBy="ASC", MaxResults=2), [(2.0, 1), (8.5, 1)])
        self.assertEqual(groups(FindingCriteria={"Criterion": {"severity": {"GreaterThanOrEqual": 8}}}),
                         [(8.0, 3), (8.5, 1)])
        latest = gd.get_findings_statistics(DetectorId=detector, GroupBy="SEVERITY")["FindingStatistics"]
        eight = next(g for g in latest["GroupedBySeverity"] if g["Severity"] == 8.0)
        # The latest of the three (updated 0 hours ago) against the 8.5 one (3 hours ago).
        eight_five = next(g for g in latest["GroupedBySeverity"] if g["Severity"] == 8.5)
        self.assertAlmostEqual((eight["LastGeneratedAt"] - eight_five["LastGeneratedAt"]).total_seconds(), 3 * 3600,
                               places=2)

    def test_by_account_for_an_administrator_ordered_and_cut_at_max_results(self):
        admin, gd, detector, (first, second) = organization(2)
        seed(admin, [{"type": "Recon:EC2/Portscan", "severity": 5}])
        seed(first, [{"type": "Recon:EC2/Portscan", "severity": 5, "updatedHoursAgo": h} for h in (1, 2, 3)])
        seed(second, [{"type": "Recon:EC2/Portscan", "severity": 5}] * 2)

        def groups(**kwargs):
            out = gd.get_findings_statistics(DetectorId=detector, GroupBy="ACCOUNT", **kwargs)
            self.assertNotIn("NextToken", out)
            return [(g["AccountId"], g["TotalFindings"]) for g in out["FindingStatistics"]["GroupedByAccount"]]

        self.assertEqual(groups(), [(first, 3), (second, 2), (admin, 1)])
        self.assertEqual(groups(OrderBy="ASC"), [(admin, 1), (second, 2), (first, 3)])
        self.assertEqual(groups(MaxResults=2), [(first, 3), (second, 2)])
        self.assertEqual(groups(MaxResults=100), groups())
        rows = gd.get_findings_statistics(DetectorId=detector, GroupBy="ACCOUNT")["FindingStatistics"]
        newest = {g["AccountId"]: g["LastGeneratedAt"] for g in rows["GroupedByAccount"]}
        ids = listed(gd, detector, FindingCriteria={"Criterion": {"accountId": {"Eq": [first]}}})
        latest = max(ms(f["UpdatedAt"]) for f in findings(gd, detector, ids).values())
        self.assertAlmostEqual(newest[first].timestamp(), latest / 1000, places=3)

    def test_by_finding_type_resource_and_date(self):
        account, gd, detector = fresh()
        box = {"resourceType": "Instance", "instanceDetails": {"instanceId": "i-0box"}}
        ids = seed(account, [
            {"type": "Recon:EC2/Portscan", "severity": 5, "resource": box},
            {"type": "Recon:EC2/Portscan", "severity": 5, "resource": box, "updatedHoursAgo": 48},
            {"type": "Trojan:EC2/DNSDataExfiltration", "severity": 8, "updatedHoursAgo": 100},
            {"type": "Recon:IAMUser/MaliciousIPCaller", "severity": 5, "resource": {
                "resourceType": "AccessKey", "accessKeyDetails": {"accessKeyId": "AKIAONE"}}}])
        by = lambda group: gd.get_findings_statistics(  # noqa: E731
            DetectorId=detector, GroupBy=group)["FindingStatistics"]
        types = [(g["FindingType"], g["TotalFindings"]) for g in by("FINDING_TYPE")["GroupedByFindingType"]]
        self.assertEqual(types, [("Recon:EC2/Portscan", 2), ("Recon:IAMUser/MaliciousIPCaller", 1),
                                 ("Trojan:EC2/DNSDataExfiltration", 1)])
        got = findings(gd, detector, ids)
        trojan = got[ids[2]]["Resource"]["InstanceDetails"]["InstanceId"]
        resources = [((g["AccountId"], g["ResourceType"], g["ResourceId"]), g["TotalFindings"])
                     for g in by("RESOURCE")["GroupedByResource"]]
        self.assertEqual(resources[0], ((account, "Instance", "i-0box"), 2))
        self.assertEqual(dict(resources), {(account, "Instance", "i-0box"): 2, (account, "AccessKey", "AKIAONE"): 1,
                                           (account, "Instance", trojan): 1})
        expected: dict = {}
        for f in got.values():
            day = ms(f["UpdatedAt"]) // 86_400_000 * 86_400
            expected[(day, f["Severity"])] = expected.get((day, f["Severity"]), 0) + 1
        dates = by("DATE")["GroupedByDate"]
        self.assertEqual({(round(g["Date"].timestamp()), g["Severity"]): g["TotalFindings"] for g in dates}, expected)
        self.assertEqual([g["Date"] for g in dates], sorted((g["Date"] for g in dates), reverse=True))

    def test_the_deprecated_count_by_severity(self):
        account, gd, detector = fresh()
        seed(account, [{"type": "Recon:EC2/Portscan", "severity": s} for s in (8, 8.0, 5.5)])
        out = gd.get_findings_statistics(DetectorId=detector, FindingStatisticTypes=["COUNT_BY_SEVERITY"])
        self.assertEqual(out["FindingStatistics"], {"CountBySeverity": {"8.0": 2, "5.5": 1}})
        only = gd.get_findings_statistics(DetectorId=detector, FindingStatisticTypes=["COUNT_BY_SEVERITY"],
                                          FindingCriteria={"Criterion": {"severity": {"Lt": 8}}})
        self.assertEqual(only["FindingStatistics"]["CountBySeverity"], {"5.5": 1})

    def test_bad_statistics_requests_are_refused(self):
        account, _, detector = fresh()
        loose = account_client(account, validate=False)
        bad = [
            {},
            dict(GroupBy="SEVERITY", FindingStatisticTypes=["COUNT_BY_SEVERITY"]),
            dict(FindingStatisticTypes=["COUNT_BY_SEVERITY"], MaxResults=10),
            dict(FindingStatisticTypes=["COUNT_BY_SEVERITY"], OrderBy="ASC"),
            dict(FindingStatisticTypes=["COUNT_BY_COLOUR"]),
            dict(GroupBy="SEVERITY", MaxResults=101),
            dict(GroupBy="SEVERITY", MaxResults=0),
            dict(GroupBy="COLOUR"),
            dict(GroupBy="ACCOUNT", OrderBy="SIDEWAYS"),
        ]
        for kwargs in bad:
            with self.assertRaises(ClientError, msg=str(kwargs)) as e:
                loose.get_findings_statistics(DetectorId=detector, **kwargs)
            self.assertEqual(code(e.exception), "BadRequestException", kwargs)


class SampleAndArchiveTest(unittest.TestCase):
    def test_samples_of_every_type_when_none_is_named(self):
        account, gd, detector = fresh()
        gd.create_sample_findings(DetectorId=detector)
        got = findings(gd, detector, listed(gd, detector))
        table = guardduty_findings.FINDING_TYPES
        self.assertGreaterEqual(len(table), 20)
        self.assertEqual(sorted(f["Type"] for f in got.values()), sorted(table))
        kinds = {"EC2": "Instance", "Runtime": "Instance", "IAMUser": "AccessKey", "S3": "S3Bucket",
                 "Kubernetes": "EKSCluster"}
        self.assertEqual({t.split(":")[1].split("/")[0] for t in table}, set(kinds))
        for f in got.values():
            self.assertEqual(f["AccountId"], account)
            self.assertTrue(f["Title"].startswith("[SAMPLE] "), f["Title"])
            self.assertEqual(f["Severity"], table[f["Type"]][0])
            self.assertEqual(json.loads(f["Service"]["AdditionalInfo"]["Value"]), {"sample": True})
            self.assertEqual(f["Resource"]["ResourceType"], kinds[f["Type"].split(":")[1].split("/")[0]], f["Type"])

    def test_one_sample_type_again_and_an_unknown_one(self):
        account, gd, detector = fresh()
        gd.create_sample_findings(DetectorId=detector, FindingTypes=["Execution:Kubernetes/ExecInKubeSystemPod"])
        (only,) = listed(gd, detector)
        f = findings(gd, detector, [only])[only]
        self.assertEqual((f["Type"], f["Severity"], f["Service"]["Count"]),
                         ("Execution:Kubernetes/ExecInKubeSystemPod", 5.0, 1))
        self.assertIn(f["Resource"]["EksClusterDetails"]["Name"], f["Title"])
        gd.create_sample_findings(DetectorId=detector, FindingTypes=["Execution:Kubernetes/ExecInKubeSystemPod"])
        self.assertEqual(listed(gd, detector), [only])
        self.assertEqual(findings(gd, detector, [only])[only]["Service"]["Count"], 2)
        for types in (["Recon:EC2/NoSuchThing"], ["Recon:EC2/Portscan", "Made:Up/Type"]):
            with self.assertRaises(ClientError) as e:
                gd.create_sample_findings(DetectorId=detector, FindingTypes=types)
            self.assertEqual(code(e.exception), "BadRequestException")
        self.assertEqual(listed(gd, detector), [only])

    def test_archive_and_unarchive(self):
        account, gd, detector = fresh()
        a, b = seed(account, [{"type": "Recon:EC2/Portscan", "severity": 5, "updatedHoursAgo": 5}] * 2)
        before = findings(gd, detector, [a])[a]["UpdatedAt"]
        gd.archive_findings(DetectorId=detector, FindingIds=[a, "0" * 32])
        after = findings(gd, detector, [a, b])
        self.assertIs(after[a]["Service"]["Archived"], True)
        self.assertIs(after[b]["Service"]["Archived"], False)
        self.assertGreater(ms(after[a]["UpdatedAt"]) - ms(before), 4 * HOUR_MS)
        self.assertEqual(matching(gd, detector, {"service.archived": {"Eq": ["true"]}}), {a})
        gd.unarchive_findings(DetectorId=detector, FindingIds=[a])
        self.assertEqual(matching(gd, detector, {"service.archived": {"Eq": ["true"]}}), set())
        loose = account_client(account, validate=False)
        for call in (loose.archive_findings, loose.unarchive_findings):
            for ids in ([a] * 51, []):
                with self.assertRaises(ClientError) as e:
                    call(DetectorId=detector, FindingIds=ids)
                self.assertEqual(code(e.exception), "BadRequestException")


class VisibilityTest(unittest.TestCase):
    def test_an_administrator_sees_its_enabled_members_findings(self):
        admin, gd, detector, (member, removed) = organization(2)
        gd.disassociate_members(DetectorId=detector, AccountIds=[removed])
        (mine,) = seed(admin, [{"type": "Recon:EC2/Portscan", "severity": 5}])
        (theirs,) = seed(member, [{"type": "Recon:EC2/Portscan", "severity": 8}])
        seed(removed, [{"type": "Recon:EC2/Portscan", "severity": 2}])
        outsider, _, _ = fresh()
        seed(outsider, [{"type": "Recon:EC2/Portscan", "severity": 2}])
        self.assertEqual(set(listed(gd, detector)), {mine, theirs})
        self.assertEqual(matching(gd, detector, {"accountId": {"Eq": [member]}}), {theirs})
        self.assertEqual(findings(gd, detector, [theirs])[theirs]["AccountId"], member)
        member_gd = account_client(member)
        member_detector = member_gd.list_detectors()["DetectorIds"][0]
        self.assertEqual(listed(member_gd, member_detector), [theirs])
        self.assertEqual(member_gd.get_findings(DetectorId=member_detector, FindingIds=[mine])["Findings"], [])
        # The administrator archives its member's finding; the member may not.
        gd.archive_findings(DetectorId=detector, FindingIds=[theirs])
        seen = findings(member_gd, member_detector, [theirs])[theirs]
        self.assertIs(seen["Service"]["Archived"], True)
        with self.assertRaises(ClientError) as e:
            member_gd.archive_findings(DetectorId=member_detector, FindingIds=[theirs])
        self.assertEqual(code(e.exception), "BadRequestException")
        self.assertIn(admin, str(e.exception))
        accounts = gd.get_findings_statistics(DetectorId=detector, GroupBy="ACCOUNT")["FindingStatistics"]
        self.assertEqual({g["AccountId"] for g in accounts["GroupedByAccount"]}, {admin, member})

    def test_an_unknown_detector_is_refused_as_aws_does(self):
        account, gd, detector = fresh()
        _, _, others = fresh()
        calls = [
            lambda d: gd.list_findings(DetectorId=d),
            lambda d: gd.get_findings(DetectorId=d, FindingIds=["0" * 32]),
            lambda d: gd.get_findings_statistics(DetectorId=d, GroupBy="SEVERITY"),
            lambda d: gd.create_sample_findings(DetectorId=d),
            lambda d: gd.archive_findings(DetectorId=d, FindingIds=["0" * 32]),
            lambda d: gd.unarchive_findings(DetectorId=d, FindingIds=["0" * 32]),
        ]
        for call in calls:
            for d in ("nosuchdetector", others):
                with self.assertRaises(ClientError) as e:
                    call(d)
                self.assertEqual(code(e.exception), "BadRequestException")
                self.assertIn("detectorId is not owned by the current account", str(e.exception))
        self.assertEqual(listed(gd, detector), [])


class HookTest(unittest.TestCase):
    def test_any_type_with_a_resource_of_its_kind_and_defaults(self):
        account, gd, detector = fresh()
        ids = seed(account, [{"type": t, "severity": 3} for t in
                             ("Odd:S3/Thing", "Odd:Kubernetes/Thing", "Odd:IAMUser/Thing", "NoSlashAtAll")])
        got = findings(gd, detector, ids)
        self.assertEqual([got[i]["Resource"]["ResourceType"] for i in ids],
                         ["S3Bucket", "EKSCluster", "AccessKey", "Instance"])
        f = got[ids[0]]
        self.assertEqual(f["Title"], "Odd:S3/Thing activity was detected.")
        self.assertEqual((f["Service"]["Count"], f["Service"]["Archived"]), (1, False))
        self.assertEqual(f["Service"]["EventFirstSeen"], f["Service"]["EventLastSeen"])
        self.assertLess(abs(ms(f["UpdatedAt"]) - time.time() * 1000), 60_000)
        (titled,) = seed(account, [{"type": "Recon:EC2/Portscan", "severity": 5, "title": "My own title",
                                    "updatedHoursAgo": 7}])
        t = findings(gd, detector, [titled])[titled]
        self.assertEqual(t["Title"], "My own title")
        # firstSeenHoursAgo defaults to updatedHoursAgo: never first seen after last seen.
        self.assertEqual(t["Service"]["EventFirstSeen"], t["UpdatedAt"])
        # The findings are appended, not replaced.
        self.assertEqual(len(listed(gd, detector)), 5)

    def test_errors_are_clear_and_append_nothing(self):
        account, gd, detector = fresh()
        no_detector = str(random.randrange(10**11, 10**12))
        status, out = seed_raw(no_detector, [{"type": "Recon:EC2/Portscan", "severity": 5}])
        self.assertEqual(status, 400)
        self.assertIn("no detector", out["message"])
        status, out = seed_raw(account, [{"type": "Recon:EC2/Portscan", "severity": 5}], region="nowhere-1")
        self.assertEqual(status, 400)
        good = {"type": "Recon:EC2/Portscan", "severity": 5}
        bad = [
            ({"severity": 5}, "type"),
            ({"type": "Recon:EC2/Portscan"}, "severity"),
            ({**good, "severity": "high"}, "severity"),
            ({**good, "severity": 11}, "severity"),
            ({**good, "updatedHourAgo": 3}, "unknown keys"),
            ({**good, "updatedHoursAgo": 5, "firstSeenHoursAgo": 1}, "first seen after"),
            ({**good, "updatedHoursAgo": -1}, "updatedHoursAgo"),
            ({**good, "count": 0}, "count"),
            ({**good, "archived": "yes"}, "archived"),
            ({**good, "resource": "i-0abc"}, "resource"),
        ]
        for item, words in bad:
            status, out = seed_raw(account, [good, item])
            self.assertEqual(status, 400, item)
            self.assertIn(words, out["message"], item)
        for body in (b"not json", b'{"accountId": "1", "region": "eu-west-1"}'):
            status, out = post("/__gdctl/findings", body)
            self.assertEqual(status, 400)
            self.assertIn("accountId, region and findings", out["message"])
        self.assertEqual(listed(gd, detector), [])


if __name__ == "__main__":
    unittest.main()
