"""What the benchmark drivers share: one timed run of a command under GNU time."""
import subprocess
import sys
import time


def timed(command, env=None):
    """Wall seconds, peak resident kilobytes (the largest single process) and CPU seconds of one run; exits with
    the command's output when it fails."""
    start = time.perf_counter()
    result = subprocess.run(["/usr/bin/time", "-v"] + command, capture_output=True, text=True, env=env)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        sys.exit(f"failed: {' '.join(command)}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    peak = 0
    cpu = 0.0
    for line in result.stderr.splitlines():
        if "Maximum resident set size" in line:
            peak = int(line.split(":")[1])
        if "User time (seconds)" in line or "System time (seconds)" in line:
            cpu += float(line.split(":")[1])
    return elapsed, peak, cpu
