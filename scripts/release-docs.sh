#!/usr/bin/env bash
# What the release archives carry beside the binary (dist-workspace.toml's
# `include`), written by gdctl itself so they never drift from its flags:
# generated/man (gdctl.1 and a page per command) and generated/completions
# (bash, zsh, fish). GDCTL=/path/to/gdctl uses a built binary; otherwise the
# host's is built with cargo. The one argument, if given, is where to write
# them instead of generated/ (the tests' scratch directory).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
out="${1:-generated}"
gdctl=(${GDCTL:-cargo run --locked --quiet --})
rm -rf "$out/man" "$out/completions"
mkdir -p "$out/man" "$out/completions"
"${gdctl[@]}" man --dir "$out/man" > /dev/null
"${gdctl[@]}" completions bash > "$out/completions/gdctl.bash"
"${gdctl[@]}" completions zsh > "$out/completions/_gdctl"
"${gdctl[@]}" completions fish > "$out/completions/gdctl.fish"
