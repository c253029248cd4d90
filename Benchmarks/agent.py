#!/usr/bin/env python3
"""Agent benchmark: `imprint run` against a shell script doing the same job with the standard tools, on copies of
the same fixture root, in the same run, as whole processes. Run by Benchmarks/agent.sh; never a test.

The shell script: ssh-keygen -A (after removing the master's keys), systemd-machine-id-setup --root, and the
hostname files by echo and sed, which is what an admin would write instead.
"""
import os, shutil, statistics, subprocess, sys, tempfile, time

imprint, fixture, demo = sys.argv[1], sys.argv[2], sys.argv[3]
RUNS = 20
work = tempfile.mkdtemp(prefix="imprint-agent-bench-")
env = dict(os.environ, IMPRINT_INVENTORY=os.path.join(work, "inventory.db"))

SHELL = r'''
set -e
root="$1"
rm -f "$root"/etc/ssh/ssh_host_*
ssh-keygen -A -f "$root" >/dev/null
rm -f "$root/etc/machine-id" "$root/var/lib/systemd/credential.secret"
systemd-machine-id-setup --root="$root" >/dev/null
head -c 512 /dev/urandom > "$root/var/lib/systemd/random-seed"
echo RM204-07 > "$root/etc/hostname"
sed -i 's/^127\.0\.1\.1.*/127.0.1.1\tRM204-07.school.example.org RM204-07/' "$root/etc/hosts"
sed -i 's/^PRETTY_HOSTNAME=.*/PRETTY_HOSTNAME=RM204-07/' "$root/etc/machine-info"
echo RM204-07.school.example.org > "$root/etc/mailname"
'''

def timed(command):
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, env=env)
    return time.perf_counter() - start

def fresh_root(name):
    root = os.path.join(work, name)
    shutil.rmtree(root, ignore_errors=True)
    shutil.copytree(fixture, root, symlinks=True)
    return root

try:
    subprocess.run([imprint, "inventory", "init"], check=True, stdout=subprocess.DEVNULL, env=env)
    for name in ("printers", "groups", "units"):
        subprocess.run([imprint, "inventory", "import", os.path.join(demo, f"{name}.csv")], check=True, stdout=subprocess.DEVNULL, env=env)
    full, without_keys, nothing, shell = [], [], [], []
    for i in range(RUNS):
        root = fresh_root("full")
        full.append(timed([imprint, "run", "--root", root]))
        nothing.append(timed([imprint, "run", "--root", root]))
        root = fresh_root("nokeys")
        without_keys.append(timed([imprint, "run", "--root", root, "--skip", "host-keys"]))
        root = fresh_root("shell")
        shell.append(timed(["bash", "-c", SHELL, "bench", root]))
    m = lambda xs: statistics.median(xs) * 1000
    print(f"medians of {RUNS} runs, whole processes, on copies of {os.path.basename(fixture)}\n")
    rows = [
        ("imprint run, all steps (3 key types)", m(full), "<= 0.8x shell", m(full) <= 0.8 * m(shell), f"ratio {m(full) / m(shell):.2f}x the shell script"),
        ("imprint run --skip host-keys", m(without_keys), "< 50 ms", m(without_keys) < 50, ""),
        ("imprint run, nothing to do", m(nothing), "< 30 ms", m(nothing) < 30, ""),
        ("shell script (ssh-keygen -A, machine-id-setup, sed)", m(shell), "", True, ""),
    ]
    for what, value, goal, ok, note in rows:
        print(f"{what:<52} {value:8.1f} ms  {goal:<14} {('met' if ok else 'MISSED') if goal else '':<7} {note}")
finally:
    shutil.rmtree(work, ignore_errors=True)
