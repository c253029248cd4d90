#!/usr/bin/python3
"""Times 'imprint preflight' of the demo room's 30 units beside the naive way (30 restores, each personalized), in
one run on one image. Usage: preflight.py IMPRINT SCRATCH MASTER DEMO_FOLDER (Benchmarks/preflight.sh)."""
import json
import os
import shutil
import subprocess
import sys

from timing import timed


def main():
    imprint, scratch, master, demo = sys.argv[1:5]
    shutil.rmtree(scratch, ignore_errors=True)
    os.makedirs(scratch)
    # Preflight's restored copy goes where the naive way's copies go: the same file system for both.
    os.makedirs(os.path.join(scratch, "tmp"))
    env = dict(os.environ, IMPRINT_INVENTORY=os.path.join(scratch, "inventory.db"), PATH="/usr/sbin:/usr/bin:/sbin:/bin",
               TMPDIR=os.path.join(scratch, "tmp"))

    def run(*arguments):
        result = subprocess.run([imprint, *arguments], capture_output=True, text=True, env=env)
        if result.returncode != 0:
            sys.exit(f"failed: imprint {' '.join(arguments)}\n{result.stderr[-3000:]}")
        return result.stdout

    run("inventory", "init")
    for name in ("printers", "groups", "units"):
        run("inventory", "import", os.path.join(demo, f"{name}.csv"))
    # As the room test has it: the admin wants netplan whatever else the image has installed.
    run("inventory", "group", "set", "RM204", "--network-stack", "netplan")
    image = os.path.join(scratch, "rm204.img")
    run("capture", "--root", master, "-o", image, "--model", "OptiPlex 7090", "--generalize")
    print(f"image: {os.path.getsize(image) / 1e6:.0f} MB of {master}")

    report_path = os.path.join(scratch, "report.json")
    seconds, peak, cpu = timed(["/bin/sh", "-c", f'"$0" preflight "$1" --group RM204 --json > "$2"', imprint, image, report_path], env=env)
    with open(report_path) as report_file:
        report = json.load(report_file)
    print(f"preflight, 30 units: {seconds:.1f} s wall, {cpu:.1f} s CPU, peak {peak / 1024:.0f} MB; "
          f"{report['passed']} passed, {report['failed']} failed")
    if report["failed"]:
        for unit in report["units"]:
            if not unit["passed"]:
                print(f"  {unit['unit']}: {unit['failures'][0]['message']}")

    naive = 0.0
    naive_cpu = 0.0
    for number in range(1, 31):
        hostname = f"RM204-{number:02d}"
        root = os.path.join(scratch, "unit")
        os.makedirs(root)
        elapsed, _, used = timed([imprint, "restore", image, "--root", root, "--personalize",
                                  "--facts", os.path.join(demo, "facts", f"{hostname}.json")], env=env)
        naive += elapsed
        naive_cpu += used
        shutil.rmtree(root)
    print(f"naive way, 30 restores each personalized: {naive:.1f} s wall, {naive_cpu:.1f} s CPU")
    # The design's split: one restore (what preflight does first) against the checks of 30 units on that copy.
    root = os.path.join(scratch, "unit")
    os.makedirs(root)
    restore, _, _ = timed([imprint, "restore", image, "--root", root, "--facts", os.path.join(demo, "facts", "RM204-01.json")], env=env)
    shutil.rmtree(root)
    print(f"one plain restore: {restore:.1f} s, so preflight spends {seconds - restore:.1f} s "
          f"({(seconds - restore) / 30 * 1000:.0f} ms a unit) planning and checking")
    print(f"ratio: preflight is {naive / seconds:.1f}x faster (goal: >= 10x, and under 60 s)")


if __name__ == "__main__":
    main()
