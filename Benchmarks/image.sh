#!/usr/bin/env bash
# Image benchmark (by hand, never in CI): builds the release binary, copies ~300 MB of real files (from /usr/share
# and /usr/lib) into a scratch folder, and times imprint capture, restore and verify beside tar -czf,
# tar -I pigz, tar -I 'zstd -T0', tar | bgzip and tar -xzf on the same tree (Benchmarks/image.py).
# Usage: image.sh [SCRATCH [PREVIOUS]], PREVIOUS an older imprint binary whose verify is timed beside.
# SCRATCH defaults to a tmpfs folder: on the test machines' ext4 (mounted with discard) file creation after a large
# delete is slow for every tool alike and hides the difference being measured.
set -euo pipefail
cd "$(dirname "$0")/.."
bash .ci/setup test
swift build -c release --static-swift-stdlib --product imprint
python3 Benchmarks/image.py "$(swift build -c release --static-swift-stdlib --show-bin-path)/imprint" "${1:-/dev/shm/imprint-image-bench}" ${2:+"$2"}
