#!/usr/bin/env bash
# Agent benchmark (by hand, never in CI): builds the release binary and runs Benchmarks/agent.py.
set -euo pipefail
cd "$(dirname "$0")/.."
bash .ci/setup test
swift build -c release --static-swift-stdlib --product imprint
python3 Benchmarks/agent.py "$(swift build -c release --static-swift-stdlib --show-bin-path)/imprint" Fixtures/roots/rm204-master Fixtures/demo
