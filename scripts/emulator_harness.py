"""The emulator in-process, for the emulator's own unittest cases: dummy
credentials, no metadata probe, moto with the project's additions (Organizations,
usage, findings and settings: guardduty_org.py, guardduty_usage.py,
guardduty_findings.py, guardduty_settings.py), on a free loopback port. Imported
first by each test module."""
import logging
import os
import threading

os.environ.update(
    AWS_ACCESS_KEY_ID="testing",
    AWS_SECRET_ACCESS_KEY="testing",
    AWS_EC2_METADATA_DISABLED="true",
)
os.environ.pop("AWS_PROFILE", None)

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
