#!/usr/bin/env python3
"""Side-by-side timing of imprint's whole-disk capture and restore and what a technician would pick instead.

Usage: disk.py IMPRINT SCRATCH CACHED-MASTER. Run as root (loop devices, mounts).

The master: a copy of the bootable Debian disk .ci/debian-disk builds (GPT, ESP with shim and GRUB, ext4 root with a
real Debian system), grown to 5 GiB, its root file system grown with it and given ~1.6 GB more of real files (whole
folders of this machine's /usr/share and /usr/lib, copied in through a loop mount, under /srv/data), so the disk
holds a few GB as a technician's master would. Built once under SCRATCH (the cached disk is never written).

The tools, on the same master in the same run:
  - Clonezilla's way: sfdisk --dump, then partclone.vfat -c (ESP) and partclone.ext4 -c (root) each piped through
    zstd -T0 (Clonezilla's zstd choice); restore: sfdisk < dump, zstd -dc | partclone.X -r onto each partition.
  - fsarchiver savefs -Z 3 -j 2 (zstd level 3, two jobs) with the sfdisk dump; restore: sfdisk < dump, fsarchiver
    restfs -j 2. fsarchiver mounts what it saves and restores, and this kernel has no vfat: it cannot save the ESP
    here, so it does the ext4 root only (its MB/s are of the root's data), which flatters it a little.
  - imprint capture --disk (zstd -3, and the default gzip -6), imprint restore --disk onto a blank disk.
Partitions are loop devices at the partition's offset (no partition nodes without udev); each script detaches its
own, and everything still attached to a file under SCRATCH is detached at exit.

Every capture and restore runs in three interleaved rounds, each tool's fastest run kept; CPU seconds (user +
system, children included) and peak memory (the largest single process: a pipeline's processes are not summed)
come from /usr/bin/time -v. Every restored disk is checked: sfdisk --verify says "No errors detected", e2fsck -fn
passes on each ext4 file system, fsck.vfat -n on the ESP; on the last round the restored root is mounted read-only
and compared with the master's with rsync -aHAXn (names, sizes, times, owners, modes, links, xattrs).
"""
import json
import os
import shutil
import signal
import subprocess
import sys
from timing import timed

ROUNDS = int(os.environ.get("DISK_BENCH_ROUNDS", "3"))
DISK_BYTES = 5 * 1024 ** 3
EXTRA_BYTES = 1700 * 1000 * 1000
TYPE_ESP = "C12A7328-F81F-11D2-BA4B-00A0C93EC93B"

scratch = None


def run(command, **kwargs):
    return subprocess.run(command, check=True, capture_output=True, text=True, **kwargs).stdout


def du(path):
    return int(run(["du", "-sb", path]).split()[0])


def detach_all():
    """Unmounts what this script mounted and detaches every loop device backed by a file under SCRATCH."""
    for name in ("mnt", "mnt-master", "mnt-target"):
        path = os.path.join(scratch, name)
        if os.path.ismount(path):
            subprocess.run(["umount", path])
    for name in os.listdir(scratch):
        path = os.path.join(scratch, name)
        if not os.path.isfile(path):
            continue
        out = subprocess.run(["losetup", "-j", path], capture_output=True, text=True).stdout
        for line in out.splitlines():
            subprocess.run(["losetup", "-d", line.split(":")[0]])


def partitions(disk):
    """[(number, start, size, kind)] in bytes; kind is 'vfat' for the ESP, else what blkid finds there."""
    table = json.loads(run(["sfdisk", "--json", disk]))["partitiontable"]
    sector = table.get("sectorsize", 512)
    result = []
    for number, part in enumerate(table["partitions"], 1):
        start, size = part["start"] * sector, part["size"] * sector
        kind = subprocess.run(["blkid", "-p", "-O", str(start), "-o", "value", "-s", "TYPE", disk],
                              capture_output=True, text=True).stdout.strip()
        result.append((number, start, size, kind))
    return result


def attach(disk, start, size, read_only=False):
    command = ["losetup", "--find", "--show", "--offset", str(start), "--sizelimit", str(size), disk]
    if read_only:
        command.insert(1, "--read-only")
    return run(command).strip()


def esp_bytes(disk, start):
    """Bytes of file data on a FAT file system, read with mtools (no vfat in this kernel)."""
    folder = os.path.join(scratch, "esp-files")
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder)
    run(["mcopy", "-s", "-n", "-i", f"{disk}@@{start}", "::/*", folder], env=dict(os.environ, MTOOLS_SKIP_CHECK="1"))
    size = du(folder) - os.path.getsize(folder)
    shutil.rmtree(folder)
    return size


def make_master(cached, master):
    """The master disk: the cached Debian disk grown to DISK_BYTES, its root given EXTRA_BYTES of real files."""
    info_path = master + ".json"
    if os.path.exists(info_path) and os.path.exists(master):
        with open(info_path) as handle:
            return json.load(handle)
    building = master + ".building"
    run(["cp", "--sparse=always", cached, building])
    os.truncate(building, DISK_BYTES)
    run(["sgdisk", "-e", building])  # the backup GPT to the new end
    run(["sfdisk", "--quiet", "--no-reread", "-N", "2", building], input=", +\n")
    parts = partitions(building)
    number, start, size, kind = parts[1]
    assert kind == "ext4", parts
    loop = attach(building, start, size)
    mnt = os.path.join(scratch, "mnt")
    os.makedirs(mnt, exist_ok=True)
    try:
        subprocess.run(["e2fsck", "-fy", loop], capture_output=True)
        run(["resize2fs", loop])
        run(["mount", "-t", "ext4", loop, mnt])
        data = os.path.join(mnt, "srv", "data")
        os.makedirs(data, exist_ok=True)
        total = 0
        for base in ["/usr/share", "/usr/lib"]:
            for name in sorted(os.listdir(base)):
                source = os.path.join(base, name)
                if os.path.islink(source) or not os.path.isdir(source) or name in ("swift", "debug"):
                    continue
                size_here = du(source)
                if size_here > EXTRA_BYTES - total or size_here == 0:
                    continue
                run(["cp", "-a", source, os.path.join(data, base.strip("/").replace("/", "-") + "-" + name)])
                total += size_here
                if total >= EXTRA_BYTES * 0.97:
                    break
            if total >= EXTRA_BYTES * 0.97:
                break
        root_bytes = du(mnt)
        root_files = int(run(["bash", "-c", f"find {mnt} -xdev | wc -l"]).strip())
    finally:
        subprocess.run(["umount", mnt])
        subprocess.run(["losetup", "-d", loop])
    run(["e2fsck", "-fn", f"{building}?offset={start}"])
    info = {"root_bytes": root_bytes, "root_entries": root_files, "esp_bytes": esp_bytes(building, parts[0][1])}
    os.rename(building, master)
    with open(info_path, "w") as handle:
        json.dump(info, handle)
    return info


def script(body):
    """A bash script whose loop devices (attached with 'loop VAR DISK START SIZE') are detached however it ends."""
    prelude = """set -euo pipefail
loops=()
trap 'for l in "${loops[@]}"; do losetup -d "$l"; done' EXIT
loop() { local device; device="$(losetup --find --show ${5:-} --offset "$3" --sizelimit "$4" "$2")"; loops+=("$device"); printf -v "$1" %s "$device"; }
"""
    return ["bash", "-c", prelude + body]


def image_bytes(path):
    if os.path.isdir(path):
        return sum(os.path.getsize(os.path.join(path, name)) for name in os.listdir(path))
    return os.path.getsize(path)


def check_disk(target, parts, esp_expected):
    """Every check a technician's tools make on a restored disk; returns the ext4 root's device-free summary."""
    verify = subprocess.run(["sfdisk", "--verify", target], capture_output=True, text=True)
    if "No errors detected" not in verify.stdout + verify.stderr:
        sys.exit(f"sfdisk --verify {target}:\n{verify.stdout}{verify.stderr}")
    summary = []
    for number, start, size, kind in partitions(target):
        if kind.startswith("ext"):
            check = subprocess.run(["e2fsck", "-fn", f"{target}?offset={start}"], capture_output=True, text=True)
            if check.returncode != 0:
                sys.exit(f"e2fsck -fn {target}?offset={start}:\n{check.stdout}{check.stderr}")
            summary.append(check.stdout.strip().splitlines()[-1].split(": ", 1)[-1])
        elif kind == "vfat":
            fat = os.path.join(scratch, "esp.fat")
            run(["dd", f"if={target}", f"of={fat}", "bs=1M", f"skip={start // 1048576}", f"count={size // 1048576}",
                 "status=none"])
            check = subprocess.run(["fsck.vfat", "-n", fat], capture_output=True, text=True)
            os.remove(fat)
            if check.returncode != 0:
                sys.exit(f"fsck.vfat -n (partition {number} of {target}):\n{check.stdout}{check.stderr}")
            summary.append("ESP " + check.stdout.strip().splitlines()[-1].split(": ", 1)[-1])
        elif esp_expected or number != 1:
            sys.exit(f"partition {number} of {target}: no file system found ({kind!r})")
    return "; ".join(summary)


def compare_root(master, master_parts, target):
    """rsync -aHAXn of the master's root against the restored one: the lines that differ."""
    root = [part for part in partitions(target) if part[3] == "ext4"][0]
    theirs = os.path.join(scratch, "mnt-target")
    os.makedirs(theirs, exist_ok=True)
    loop = attach(target, root[1], root[2], read_only=True)
    try:
        run(["mount", "-t", "ext4", "-o", "ro,noload", loop, theirs])
        try:
            out = subprocess.run(["rsync", "-aHAXn", "--delete", "--itemize-changes", os.path.join(scratch, "mnt-master") + "/",
                                  theirs + "/"], capture_output=True, text=True)
        finally:
            run(["umount", theirs])
    finally:
        run(["losetup", "-d", loop])
    lines = [line for line in out.stdout.splitlines() if line.strip()]
    if out.returncode not in (0, 24):
        sys.exit(f"rsync failed:\n{out.stderr}")
    return lines


def main():
    global scratch
    imprint, scratch, cached = sys.argv[1], sys.argv[2], sys.argv[3]
    if os.geteuid() != 0:
        sys.exit("disk.py: run as root (loop devices and mounts)")
    os.makedirs(scratch, exist_ok=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        bench(imprint, cached)
    finally:
        detach_all()


def bench(imprint, cached):
    master = os.path.join(scratch, "master.img")
    info = make_master(cached, master)
    parts = partitions(master)
    (_, esp_start, esp_size, esp_kind), (_, root_start, root_size, root_kind) = parts
    assert esp_kind == "vfat" and root_kind == "ext4", parts
    data = info["root_bytes"] + info["esp_bytes"]
    root_data = info["root_bytes"]
    facts = os.path.join(scratch, "facts.json")
    with open(facts, "w") as handle:
        json.dump({"model": "bench"}, handle)
    target = os.path.join(scratch, "target.img")
    pc = os.path.join(scratch, "partclone")
    fsa = os.path.join(scratch, "fsarchiver")
    used = os.popen(f"du -B1 {master}").read().split()[0]
    print(f"master: {DISK_BYTES / 2 ** 30:.0f} GiB GPT disk, {int(used) / 1e6:.0f} MB allocated; file data "
          f"{data / 1e6:.0f} MB ({info['root_bytes'] / 1e6:.0f} MB in {info['root_entries']} entries on the ext4 "
          f"root, {info['esp_bytes'] / 1e6:.1f} MB on the ESP); {os.cpu_count()} cores")

    captures = [
        ("partclone + zstd -T0", script(f"""
rm -rf {pc}; mkdir {pc}
sfdisk --dump {master} > {pc}/table.sfdisk
loop esp {master} {esp_start} {esp_size} --read-only
loop root {master} {root_start} {root_size} --read-only
partclone.vfat -q -c -s "$esp" -o - | zstd -T0 -q > {pc}/p1.vfat-ptcl-img.zst
partclone.ext4 -q -c -s "$root" -o - | zstd -T0 -q > {pc}/p2.ext4-ptcl-img.zst
"""), pc, data),
        ("fsarchiver -Z3 -j2 (root only)", script(f"""
rm -rf {fsa}; mkdir {fsa}
sfdisk --dump {master} > {fsa}/table.sfdisk
loop root {master} {root_start} {root_size} --read-only
fsarchiver savefs -o -Z 3 -j 2 {fsa}/root.fsa "$root" >/dev/null
"""), fsa, root_data),
        ("imprint zstd -3", [imprint, "capture", "--disk", master, "-o", os.path.join(scratch, "zstd.imprint"),
                             "--model", "bench", "--codec", "zstd"], os.path.join(scratch, "zstd.imprint"), data),
        ("imprint gzip -6", [imprint, "capture", "--disk", master, "-o", os.path.join(scratch, "gzip.imprint"),
                             "--model", "bench"], os.path.join(scratch, "gzip.imprint"), data),
    ]
    restores = [
        ("partclone + zstd -T0", script(f"""
sfdisk --quiet {target} < {pc}/table.sfdisk
loop esp {target} {esp_start} {esp_size}
loop root {target} {root_start} {root_size}
zstd -dc -q {pc}/p1.vfat-ptcl-img.zst | partclone.vfat -q -r -s - -o "$esp"
zstd -dc -q {pc}/p2.ext4-ptcl-img.zst | partclone.ext4 -q -r -s - -o "$root"
"""), data, True),
        ("fsarchiver -Z3 -j2 (root only)", script(f"""
sfdisk --quiet {target} < {fsa}/table.sfdisk
loop root {target} {root_start} {root_size}
fsarchiver restfs -j 2 {fsa}/root.fsa id=0,dest="$root" >/dev/null
"""), root_data, False),
        ("imprint zstd -3", [imprint, "restore", os.path.join(scratch, "zstd.imprint"), "--disk", target,
                             "--facts", facts], data, True),
        ("imprint gzip -6", [imprint, "restore", os.path.join(scratch, "gzip.imprint"), "--disk", target,
                             "--facts", facts], data, True),
    ]

    print(f"load average at the start: {' '.join(f'{value:.2f}' for value in os.getloadavg())}")
    best = {}  # (phase, name) -> [seconds, peak KB, CPU s, size, data]
    every = {}  # (phase, name) -> the seconds of each round

    def keep(key, seconds, peak, cpu, size, amount):
        every.setdefault(key, []).append(seconds)
        old = best.get(key)
        if old is None:
            best[key] = [seconds, peak, cpu, size, amount]
        else:
            old[0] = min(old[0], seconds)
            old[1] = max(old[1], peak)
            old[2] = min(old[2], cpu)
            old[3] = size

    for round_number in range(ROUNDS):
        for name, command, out, amount in captures:
            seconds, peak, cpu = timed(command)
            keep(("capture", name), seconds, peak, cpu, image_bytes(out), amount)
        print(f"capture round {round_number + 1} done; load {os.getloadavg()[0]:.2f}", flush=True)

    master_summary = check_disk(master, parts, True)
    print(f"master: {master_summary}")
    master_mnt = os.path.join(scratch, "mnt-master")
    os.makedirs(master_mnt, exist_ok=True)
    master_loop = attach(master, root_start, root_size, read_only=True)
    run(["mount", "-t", "ext4", "-o", "ro,noload", master_loop, master_mnt])
    checks = {}
    for round_number in range(ROUNDS):
        for name, command, amount, esp_expected in restores:
            if os.path.exists(target):
                os.remove(target)
            with open(target, "wb") as handle:
                os.truncate(handle.fileno(), DISK_BYTES)
            seconds, peak, cpu = timed(command)
            leftover = run(["losetup", "-j", target]).strip()
            if leftover:
                sys.exit(f"{name} left loop devices attached: {leftover}")
            keep(("restore", name), seconds, peak, cpu, None, amount)
            summary = check_disk(target, parts, esp_expected)
            if round_number == ROUNDS - 1:
                checks[name] = (summary, compare_root(master, parts, target))
        print(f"restore round {round_number + 1} done; load {os.getloadavg()[0]:.2f}", flush=True)
    os.remove(target)
    run(["umount", master_mnt])
    run(["losetup", "-d", master_loop])

    print(f"load average at the end: {' '.join(f'{value:.2f}' for value in os.getloadavg())}")
    print()
    print(f"{'':42}{'seconds':>9}{'MB/s':>8}{'CPU s':>8}{'peak MB':>9}{'image MB':>10}   every round's seconds")
    for (phase, name), (seconds, peak, cpu, size, amount) in best.items():
        size_text = f"{size / 1e6:10.1f}" if size else f"{'':10}"
        rounds = " ".join(f"{value:.2f}" for value in every[(phase, name)])
        print(f"{phase + ' ' + name:42}{seconds:9.2f}{amount / seconds / 1e6:8.1f}{cpu:8.2f}{peak / 1024:9.0f}{size_text}   {rounds}")
    print()
    print("restored disks (last round): sfdisk --verify, e2fsck -fn, fsck.vfat -n all passed")
    for name, (summary, lines) in checks.items():
        print(f"  {name}: {summary}")
        print(f"    rsync -aHAXn master root -> restored root: {len(lines)} differences"
              + ("" if not lines else ": " + ", ".join(lines[:8]) + (" ..." if len(lines) > 8 else "")))
    print()

    def ratio(phase, theirs, ours):
        """Throughput ratio on the data each moved (fsarchiver moves the root only)."""
        a, b = best[(phase, ours)], best[(phase, theirs)]
        return (a[4] / a[0]) / (b[4] / b[0])

    for ours in ("imprint zstd -3", "imprint gzip -6"):
        for phase in ("capture", "restore"):
            print(f"{phase} {ours}: {ratio(phase, 'partclone + zstd -T0', ours):.2f}x partclone+zstd (goal >= 1.0), "
                  f"{ratio(phase, 'fsarchiver -Z3 -j2 (root only)', ours):.2f}x fsarchiver (goal >= 1.5)")
    peaks = ", ".join(f"{phase} {name[8:]} {best[(phase, name)][1] / 1024:.0f} MB"
                      for phase in ("capture", "restore") for name in ("imprint zstd -3", "imprint gzip -6"))
    print(f"imprint peak memory: {peaks} (goal < 256)")


if __name__ == "__main__":
    main()
