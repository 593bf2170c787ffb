#!/bin/sh
# Fetch the ONNX backend test data (ONNX 1.12: data/node, pytorch-converted, pytorch-operator,
# simple) from Debian's libonnx-testdata package into .cache/onnx-testdata/, for the conformance
# suite (test/conformance). Idempotent: does nothing when the data is already there. Needs
# apt-get and dpkg (Debian/Ubuntu); on a machine without apt lists it runs `apt-get update` once.
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
dest="$root/.cache/onnx-testdata"
marker="$dest/.complete"

if [ -f "$marker" ]; then
  echo "onnx test data already in $dest"
  exit 0
fi
for tool in apt-get dpkg; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "fetch-onnx-testdata: error: '$tool' not found; this script needs a Debian-based system (package libonnx-testdata)" >&2
    exit 1
  fi
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
if ! apt-get download libonnx-testdata >/dev/null 2>"$work/err1"; then
  echo "apt-get download failed ($(tail -n 1 "$work/err1")); running apt-get update once and retrying" >&2
  if ! apt-get update >/dev/null 2>"$work/err2"; then
    echo "fetch-onnx-testdata: error: apt-get update failed (needs root and network): $(tail -n 1 "$work/err2")" >&2
    exit 1
  fi
  if ! apt-get download libonnx-testdata >/dev/null 2>"$work/err3"; then
    echo "fetch-onnx-testdata: error: apt-get download libonnx-testdata failed: $(tail -n 1 "$work/err3")" >&2
    exit 1
  fi
fi
deb=$(ls "$work"/libonnx-testdata_*.deb)
rm -rf "$dest"
mkdir -p "$dest"
dpkg -x "$deb" "$dest"
data=$(find "$dest" -type d -name node -path '*/data/node' | head -n 1)
if [ -z "$data" ]; then
  echo "fetch-onnx-testdata: error: $deb has no data/node directory" >&2
  exit 1
fi
# Record where the case directories are (the parent of node/, pytorch-converted/, ...),
# relative to $dest so the cache survives moving the checkout.
dirname "${data#"$dest"/}" > "$marker"
echo "onnx test data in $dest/$(cat "$marker") ($(ls "$data" | wc -l) node cases)"
