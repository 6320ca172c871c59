"""Tests of guardduty_tags.py: tagging a detector, through boto3 against the
emulator on loopback (run by scripts/test.sh)."""
import unittest

import emulator_harness  # first: it sets the dummy environment before boto3 loads
from botocore.exceptions import ClientError  # noqa: E402

REGION = "eu-west-1"
URL = ""


def setUpModule() -> None:
    global URL
    URL = emulator_harness.start()


def account_client(account: str, region: str = REGION):
    return emulator_harness.account_client(URL, account, region=region)


class TagsTest(unittest.TestCase):
    def test_a_detectors_tags_are_added_listed_and_removed(self):
        gd = account_client("300000000001")
        detector = gd.create_detector(Enable=True, Tags={"team": "sec"})["DetectorId"]
        arn = f"arn:aws:guardduty:{REGION}:300000000001:detector/{detector}"
        gd.tag_resource(ResourceArn=arn, Tags={"cost": "42"})
        self.assertEqual(gd.list_tags_for_resource(ResourceArn=arn)["Tags"], {"team": "sec", "cost": "42"})
        gd.untag_resource(ResourceArn=arn, TagKeys=["team"])
        self.assertEqual(gd.list_tags_for_resource(ResourceArn=arn)["Tags"], {"cost": "42"})
        # GetDetector shows them too.
        self.assertEqual(gd.get_detector(DetectorId=detector)["Tags"], {"cost": "42"})

    def test_another_accounts_or_an_unknown_detector_is_refused(self):
        gd = account_client("300000000002")
        detector = gd.create_detector(Enable=True)["DetectorId"]
        other = account_client("300000000003")
        for arn in (f"arn:aws:guardduty:{REGION}:300000000002:detector/{detector}",
                    f"arn:aws:guardduty:{REGION}:300000000003:detector/0000",
                    "arn:aws:s3:::bucket"):
            with self.assertRaises(ClientError) as e:
                other.tag_resource(ResourceArn=arn, Tags={"a": "b"})
            self.assertEqual(e.exception.response["Error"]["Code"], "BadRequestException")


if __name__ == "__main__":
    unittest.main()
