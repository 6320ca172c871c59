#!/usr/bin/env bash
# The GitHub Action's installer (action.yml): the release archive for this
# runner's platform, its SHA-256 checked against the one the release publishes
# beside it, unpacked into the tool cache and put on PATH. Not through dist's
# gdctl-installer.sh: it checks only the checksums embedded in it when the
# release was built (a local `dist build` embedded none, and installed a
# tampered archive), and it writes to shell profiles; here the check is ours.
#   GDCTL_REPOSITORY  owner/name whose releases hold gdctl
#   GDCTL_VERSION     a tag (v0.1.0) or `latest`
#   GDCTL_DOWNLOAD_BASE  for the project's own tests only: a loopback URL
#                        (http://127.0.0.1:PORT) serving the release's files
set -euo pipefail
repo="${GDCTL_REPOSITORY:?the repository whose releases hold gdctl}"
version="${GDCTL_VERSION:-latest}"

case "${RUNNER_OS:-$(uname -s)}/${RUNNER_ARCH:-$(uname -m)}" in
  Linux/X64 | Linux/x86_64) target=x86_64-unknown-linux-musl ext=tar.xz ;;
  Linux/ARM64 | Linux/aarch64) target=aarch64-unknown-linux-musl ext=tar.xz ;;
  macOS/X64 | Darwin/x86_64) target=x86_64-apple-darwin ext=tar.xz ;;
  macOS/ARM64 | Darwin/arm64) target=aarch64-apple-darwin ext=tar.xz ;;
  Windows/X64) target=x86_64-pc-windows-msvc ext=zip ;;
  *) echo "gdctl: no release binary for ${RUNNER_OS:-?}/${RUNNER_ARCH:-?}" >&2; exit 1 ;;
esac

archive="gdctl-$target.$ext"
proto='=https'
if [ -n "${GDCTL_DOWNLOAD_BASE:-}" ]; then
  case "$GDCTL_DOWNLOAD_BASE" in
    http://127.0.0.1:*) base="$GDCTL_DOWNLOAD_BASE" proto='=http' ;;
    *) echo "gdctl: GDCTL_DOWNLOAD_BASE is for tests on loopback only" >&2; exit 1 ;;
  esac
elif [ "$version" = latest ]; then
  base="https://github.com/$repo/releases/latest/download"
else
  base="https://github.com/$repo/releases/download/$version"
fi
dir="${RUNNER_TOOL_CACHE:-${TMPDIR:-/tmp}}/gdctl/$version/$target"
mkdir -p "$dir"
cd "$dir"
curl --proto "$proto" -fsSL --retry 3 -o "$archive" "$base/$archive"
curl --proto "$proto" -fsSL --retry 3 -o "$archive.sha256" "$base/$archive.sha256"

want="$(cut -d ' ' -f 1 < "$archive.sha256")"
if command -v sha256sum > /dev/null; then
  got="$(sha256sum "$archive" | cut -d ' ' -f 1)"
else
  got="$(shasum -a 256 "$archive" | cut -d ' ' -f 1)"
fi
if [ "$want" != "$got" ]; then
  echo "gdctl: $archive has SHA-256 $got, the release says $want: not installed" >&2
  exit 1
fi

case "$ext" in
  tar.xz) tar -xJf "$archive" ;;
  zip) unzip -oq "$archive" ;;
esac
bin="$(dirname "$(find "$dir" -type f \( -name gdctl -o -name gdctl.exe \) | head -n 1)")"
echo "$bin" >> "${GITHUB_PATH:-/dev/null}"
"$bin/gdctl" --version
