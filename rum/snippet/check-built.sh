#!/bin/sh
# Fails when the committed bundles in rum/dist differ from a fresh build of
# the pinned sources (npm ci + esbuild). Run from anywhere; CI runs it.
set -eu
cd "$(dirname "$0")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
npm ci --no-audit --no-fund --loglevel=error >/dev/null
OUT_DIR="$tmp" npm run --silent build
status=0
for f in rum.min.js vitals.min.js; do
  if ! cmp -s "$tmp/$f" "../dist/$f"; then
    echo "rum/dist/$f differs from a fresh build: run 'cd rum/snippet && npm ci && npm run build' and commit the result" >&2
    status=1
  fi
done
[ "$status" -eq 0 ] && echo "rum/dist is up to date"
exit "$status"
