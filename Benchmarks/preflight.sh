#!/usr/bin/env bash
# Preflight benchmark (by hand, never in CI; as root): 'imprint preflight' of the 30 units of the demo room against
# an image of the real Debian master (.ci/debian-root, captured with --generalize), beside the naive way in the
# same run: restore the image 30 times and personalize each copy ('restore --personalize'), one unit after another
# (Benchmarks/preflight.py). Usage: preflight.sh [SCRATCH]   SCRATCH defaults to a tmpfs folder (~2 GB at the
# peak: the image, one restored copy at a time). IMPRINT=PATH uses that imprint binary instead of building one.
set -euo pipefail
cd "$(dirname "$0")/.."
bash .ci/setup test
if [ -z "${IMPRINT:-}" ]; then
  swift build -c release --static-swift-stdlib --product imprint
  IMPRINT="$(swift build -c release --static-swift-stdlib --show-bin-path)/imprint"
fi
master="$(bash .ci/debian-root)"
python3 Benchmarks/preflight.py "$IMPRINT" "${1:-/dev/shm/imprint-preflight-bench}" "$master" Fixtures/demo
