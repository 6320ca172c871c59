#!/usr/bin/env bash
# Try gdctl without AWS: start moto on a free loopback port, run
# status -> enable -> status -> disable -> status, findings and an apply dry
# run against it, and stop it again.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
. scripts/venv.sh
venv_ensure "$root" scripts/requirements.txt

gdctl="${GDCTL:-}"
if [ -z "$gdctl" ]; then
  echo "building gdctl (the first build of the AWS SDK crates takes several minutes and a few GB of memory)..."
  cargo build --locked --quiet
  gdctl="$root/target/debug/gdctl"
fi

# moto exits when this script does (its stdin closes).
coproc MOTO { exec "$root/.venv/bin/python" scripts/emulator.py --exit-on-eof; }
read -r line <&"${MOTO[0]}"
endpoint="${line#listening on }"

export AWS_ACCESS_KEY_ID=demo AWS_SECRET_ACCESS_KEY=demo AWS_REGION=us-east-1
export AWS_EC2_METADATA_DISABLED=true AWS_ENDPOINT_URL="$endpoint"
# Nothing from your own AWS setup may redirect or sign these calls.
export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
# moto is on loopback: never through a proxy of yours.
export NO_PROXY=127.0.0.1,localhost no_proxy=127.0.0.1,localhost
unset AWS_PROFILE AWS_SESSION_TOKEN $(env | grep -o '^AWS_ENDPOINT_URL_[A-Z_]*' || true)

# One region at a time, so the lines come in the same order on every run
# (gdctl itself works on every region at once and prints each as it finishes).
export GDCTL_DEMO_FLAGS="--concurrency 1"
run() { echo; echo "\$ gdctl $*"; "$gdctl" $GDCTL_DEMO_FLAGS "$@" || echo "(exit $?)"; }
echo "moto is listening on $endpoint (an emulator: nothing here reaches AWS; its answers"
echo "are moto's, so a plain enable shows features: none where AWS would turn on every plan"
echo "but runtime monitoring)"
run status --check
run enable --frequency fifteen-minutes
run enable
run status --check --frequency fifteen-minutes
run disable --suspend --regions eu-west-1
run status --check
run findings --check
run apply examples/guardduty.toml --dry-run --regions us-east-1,eu-west-1
run disable --yes
run status
