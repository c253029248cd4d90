#!/usr/bin/env bash
# Deployment server benchmark (by hand, never in CI): image downloads from imprint-server beside nginx serving the
# same file from the same folder (one stream, then 30 at once), the identify API under wrk with 10,000 units in the
# inventory, and 200 enrolments at once; all on loopback, in the same run (Benchmarks/server.py).
# Usage: server.sh [SCRATCH]   SCRATCH defaults to a tmpfs folder (~1 GB: the inventory, an image of /usr/lib).
# IMPRINT_BIN=FOLDER uses the release binaries there instead of building them.
set -euo pipefail
cd "$(dirname "$0")/.."
bash .ci/setup test
if ! command -v wrk >/dev/null; then DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; fi
if [ -z "${IMPRINT_BIN:-}" ]; then
  swift build -c release --product imprint-server
  swift build -c release --product imprint
  IMPRINT_BIN="$(swift build -c release --show-bin-path)"
fi
python3 Benchmarks/server.py "$IMPRINT_BIN" "${1:-/dev/shm/imprint-server-bench}"
