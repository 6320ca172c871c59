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
