#!/usr/bin/env bash
# The whole test suite: unit tests, then the real binary end to end against moto
# on loopback. Installs the pinned moto into .venv first if it is missing.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
. scripts/venv.sh
venv_ensure "$root" scripts/requirements.txt

# Never reach for real AWS: no metadata probe, and every test sets its own
# dummy credentials and a 127.0.0.1 endpoint.
export AWS_EC2_METADATA_DISABLED=true
export GDCTL_TEST_PYTHON="$root/.venv/bin/python"
cargo test --locked "$@"
