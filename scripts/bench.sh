#!/usr/bin/env bash
# Benchmark gdctl against a boto3 loop and an aws CLI loop on moto, with
# real-world round trips per region. Arguments go to bench/bench.py
# (--scale 0 for pure CPU cost, --repeat N, --table FILE).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
. scripts/venv.sh
venv_ensure "$root" bench/requirements.txt
cargo build --release --locked --quiet
exec "$root/.venv/bin/python" bench/bench.py "$@"
