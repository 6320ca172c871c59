"""The emulator in-process, for the emulator's own unittest cases: dummy
credentials, no metadata probe, moto with the project's additions (Organizations,
usage, findings and settings: guardduty_org.py, guardduty_usage.py,
guardduty_findings.py, guardduty_settings.py), on a free loopback port. Imported
first by each test module.

Also the helpers those modules share, each taking the emulator's URL: an
account's STS credentials and boto3 clients, and the test hooks' requests."""
import json
import logging
import os
import random
import threading
import urllib.error
import urllib.request

os.environ.update(
    AWS_ACCESS_KEY_ID="testing",
    AWS_SECRET_ACCESS_KEY="testing",
    AWS_EC2_METADATA_DISABLED="true",
)
os.environ.pop("AWS_PROFILE", None)

import boto3  # noqa: E402
from botocore.config import Config  # noqa: E402
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app  # noqa: E402
from werkzeug.serving import make_server  # noqa: E402

import guardduty_findings  # noqa: E402
import guardduty_org  # noqa: E402
import guardduty_settings  # noqa: E402
import guardduty_tags  # noqa: E402
import guardduty_usage  # noqa: E402


def start() -> str:
    """The emulator's URL; the service creates an administrator's detector at once."""
    guardduty_org.install(admin_detector_delay=0)
    guardduty_usage.install()
    guardduty_findings.install()
    guardduty_settings.install()
    guardduty_tags.install()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = make_server("127.0.0.1", 0, DomainDispatcherApplication(create_backend_app), threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_port}"


REGION = "eu-west-1"


def client(url: str, service: str, creds: dict | None = None, region: str = REGION, validate: bool = True):
    """A boto3 client of the emulator: with `creds` (STS credentials) if given, else the dummy environment's;
    validate=False lets through what the AWS model refuses, for the server to refuse."""
    kw = {}
    if creds:
        kw = dict(aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
                  aws_session_token=creds["SessionToken"])
    return boto3.client(service, region_name=region, endpoint_url=url, config=Config(parameter_validation=validate),
                        **kw)


def credentials(url: str, account: str, role: str = "OrganizationAccountAccessRole") -> dict:
    """STS credentials of a role in the account (the emulator's STS, in REGION, whatever the caller's region)."""
    return client(url, "sts").assume_role(RoleArn=f"arn:aws:iam::{account}:role/{role}",
                                          RoleSessionName="tests")["Credentials"]


def account_client(url: str, account: str, service: str = "guardduty", validate: bool = True, region: str = REGION):
    """A client of the account, as its OrganizationAccountAccessRole."""
    return client(url, service, credentials(url, account), region, validate)


def hook(url: str, method: str, path: str, body: bytes | None = None, region: str = REGION,
         access_key: str = "testing") -> tuple[int, dict]:
    """A request as the Rust tests send the hooks: any GuardDuty credential scope (`access_key` in `region`),
    no real signature. The status and the JSON body (an empty one as {}), for errors too."""
    request = urllib.request.Request(f"{url}{path}", data=body, method=method, headers={
        "Content-Type": "application/json",
        "Authorization": f"AWS4-HMAC-SHA256 Credential={access_key}/20260101/{region}/guardduty/aws4_request, "
                         "SignedHeaders=host, Signature=0"})
    try:
        with urllib.request.urlopen(request) as r:
            return r.status, json.loads(r.read() or b"{}")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def organization(url: str, members: int):
    """A fresh organization whose delegated administrator has `members` enabled
    members: (administrator, its GuardDuty client, its detector, the members)."""
    management = str(random.randrange(10**11, 10**12))
    orgs = account_client(url, management, "organizations")
    orgs.create_organization(FeatureSet="ALL")
    admin = orgs.create_account(AccountName="admin", Email="admin@example.com")["CreateAccountStatus"]["AccountId"]
    accounts = [orgs.create_account(AccountName=f"m{i}", Email=f"m{i}@example.com")["CreateAccountStatus"]["AccountId"]
                for i in range(members)]
    account_client(url, management).enable_organization_admin_account(AdminAccountId=admin)
    gd = account_client(url, admin)
    detector = gd.list_detectors()["DetectorIds"][0]
    gd.create_members(DetectorId=detector, AccountDetails=[{"AccountId": a, "Email": f"{a}@example.com"}
                                                           for a in accounts])
    return admin, gd, detector, accounts
