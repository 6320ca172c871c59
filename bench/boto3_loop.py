#!/usr/bin/env python3
"""The way people enable GuardDuty today, as in the common how-to scripts:
list the regions, then create a detector region after region."""
import boto3

ec2 = boto3.client("ec2")
regions = [
    r["RegionName"]
    for r in ec2.describe_regions()["Regions"]
    # AWS's describe_regions() returns only the regions the account can use;
    # moto returns them all, so keep what AWS would have returned.
    if r.get("OptInStatus") != "not-opted-in" and not r["RegionName"].startswith(("cn-", "us-gov-"))
]
for region in regions:
    gd = boto3.client("guardduty", region_name=region)
    gd.create_detector(Enable=True, FindingPublishingFrequency="FIFTEEN_MINUTES")
    print(f"{region}: enabled")
