#!/usr/bin/env bash
# Whole-disk benchmark (by hand, never in CI; as root): times imprint capture --disk and restore --disk beside
# Clonezilla's way (sfdisk --dump + partclone piped through zstd -T0) and fsarchiver (savefs/restfs, zstd level 3)
# on the same master disk in the same run (Benchmarks/disk.py): the bootable Debian disk .ci/debian-disk builds,
# copied, grown to 5 GiB and given ~1.6 GB more of real files. Usage: disk.sh [SCRATCH]
# SCRATCH defaults to a tmpfs folder (it holds the 5 GiB sparse master, ~2.6 GB used, a restored disk and the
# images: about 9 GB of memory at the peak). IMPRINT=PATH uses that imprint binary instead of building one.
set -euo pipefail
cd "$(dirname "$0")/.."
bash .ci/setup test
if [ -z "${IMPRINT:-}" ]; then
  swift build -c release --static-swift-stdlib --product imprint
  IMPRINT="$(swift build -c release --static-swift-stdlib --show-bin-path)/imprint"
fi
master="$(bash .ci/debian-disk)"
python3 Benchmarks/disk.py "$IMPRINT" "${1:-/dev/shm/imprint-disk-bench}" "$master"
