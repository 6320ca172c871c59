#!/usr/bin/env python3
# (Not named moto.py: that would shadow the moto package it imports.)
"""Run moto's server on 127.0.0.1 for gdctl's tests, demo and bench, with
GuardDuty's Organizations, usage and findings operations moto lacks added
(guardduty_org.py, guardduty_usage.py, guardduty_findings.py), and the settings
a settings file converges -- filters, IP sets, threat intel sets, publishing
destinations -- as the API reference has them (guardduty_settings.py), and
tagging a detector (guardduty_tags.py).

Prints `listening on http://127.0.0.1:PORT` once it accepts requests (port 0, the
default, lets the OS pick a free one). With --exit-on-eof it exits when its
stdin closes, so a test process that dies never leaves a server behind.
"""
import argparse
import logging

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import make_server

import guardduty_findings
import guardduty_org
import guardduty_settings
import guardduty_tags
import guardduty_usage
from loopback import serve


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--exit-on-eof", action="store_true")
    p.add_argument("--admin-detector-delay", type=float, default=None,
                   help="seconds before the service creates a new administrator's detector")
    args = p.parse_args()

    # GuardDuty's Organizations operations moto lacks, on moto's backend.
    guardduty_org.install(args.admin_detector_delay)
    # Usage and free-trial days, seeded through a test hook (guardduty_usage.py).
    guardduty_usage.install()
    # Findings (list, get, statistics, samples, archive), seeded through a test
    # hook too (guardduty_findings.py).
    guardduty_findings.install()
    # Filters (replacing moto's), IP sets, threat intel sets and publishing
    # destinations, with a test hook that sets a destination's status
    # (guardduty_settings.py).
    guardduty_settings.install()
    # TagResource, UntagResource, ListTagsForResource for detectors.
    guardduty_tags.install()

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no line per request
    app = DomainDispatcherApplication(create_backend_app)
    server = make_server("127.0.0.1", args.port, app, threaded=True)
    serve(server, args.exit_on_eof)


if __name__ == "__main__":
    main()
