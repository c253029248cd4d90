#!/usr/bin/env bash
# Inventory benchmark (by hand, never in CI): builds release binaries and runs Benchmarks/inventory.py.
set -euo pipefail
cd "$(dirname "$0")/.."
bash .ci/setup test
swift build -c release --static-swift-stdlib --product imprint
swift build -c release --product imprint-bench 2>/dev/null || swift build -c release --target imprint-bench
bin="$(swift build -c release --show-bin-path)"
python3 Benchmarks/inventory.py "$bin/imprint" "$bin/imprint-bench"
