#!/usr/bin/env python3
"""Side-by-side timing of imprint's image engine and the tar pipelines a user would pick instead.

Usage: image.py IMPRINT SCRATCH [PREVIOUS]. Builds SCRATCH/tree (~300 MB of real files) once, warms the page cache, then runs
every capture and restore in five interleaved rounds and keeps each tool's fastest run (the machines are shared,
so a single run measures the neighbours as much as the tool; with three rounds the zstd capture ratio moved between
0.91x and 1.22x from one benchmark run to the next on an idle machine). Peak memory and CPU seconds (user + system, the
child processes included: gzip, pigz, zstd under tar) come from /usr/bin/time -v. Prints MB/s (of uncompressed tree
data), compressed sizes, the load average, and the ratios the README's Performance section quotes. PREVIOUS, another
imprint binary (an older build), adds its verify of the same image to every round.
"""
import json
import os
import shlex
import shutil
import subprocess
import sys
from timing import timed

TARGET_BYTES = 300 * 1000 * 1000
ROUNDS = 5


def tree_size(path):
    out = subprocess.run(["du", "-sb", path], capture_output=True, text=True, check=True).stdout
    return int(out.split()[0])


def make_tree(tree):
    if os.path.isdir(tree) and tree_size(tree) >= TARGET_BYTES * 0.9:
        return
    shutil.rmtree(tree, ignore_errors=True)
    os.makedirs(tree)
    total = 0
    for base in ["/usr/share", "/usr/lib"]:
        for name in sorted(os.listdir(base)):
            source = os.path.join(base, name)
            if os.path.islink(source) or name in ("swift", "debug"):
                continue
            size = tree_size(source)
            if size > TARGET_BYTES - total or size == 0:
                continue
            target = os.path.join(tree, base.strip("/").replace("/", "-"), name)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            subprocess.run(["cp", "-a", source, target], check=True)
            total += size
            if total >= TARGET_BYTES * 0.97:
                return


def main():
    imprint, scratch = sys.argv[1], sys.argv[2]
    previous = sys.argv[3] if len(sys.argv) > 3 else None
    os.makedirs(scratch, exist_ok=True)
    tree = os.path.join(scratch, "tree")
    make_tree(tree)
    data = tree_size(tree)
    subprocess.run(["tar", "-C", tree, "-cf", "/dev/null", "."], check=True)  # warm the page cache
    facts = os.path.join(scratch, "facts.json")
    with open(facts, "w") as handle:
        json.dump({"model": "bench"}, handle)
    out = os.path.join(scratch, "out")
    dest = os.path.join(scratch, "dest")
    cores = os.cpu_count()
    print(f"tree: {data / 1e6:.0f} MB of real files, {sum(len(f) for _, _, f in os.walk(tree))} files; {cores} cores")

    def fresh_dest():
        shutil.rmtree(dest, ignore_errors=True)
        os.makedirs(dest)

    captures = [
        ("imprint capture (gzip -6)", [imprint, "capture", "--root", tree, "-o", out + ".imprint", "--model", "bench"], out + ".imprint"),
        ("imprint capture (zstd -3)", [imprint, "capture", "--root", tree, "-o", out + ".zst.imprint", "--model", "bench", "--codec", "zstd"], out + ".zst.imprint"),
        ("tar -czf", ["tar", "-C", tree, "-czf", out + ".tgz", "."], out + ".tgz"),
        ("tar -I pigz", ["tar", "-C", tree, "-I", "pigz", "-cf", out + ".pigz.tgz", "."], out + ".pigz.tgz"),
        ("tar -I 'zstd -T0'", ["tar", "-C", tree, "-I", "zstd -T0", "-cf", out + ".tzst", "."], out + ".tzst"),
        # htslib's block gzip (BGZF: independent gzip members, deflated by libdeflate), in a pipe after tar
        (f"tar | bgzip -@{cores} -l 6", ["sh", "-c", f"tar -C {shlex.quote(tree)} -cf - . | bgzip -@{cores} -l 6 > {shlex.quote(out)}.bgz"],
         out + ".bgz"),
    ]
    print(f"load average at the start: {' '.join(f'{value:.2f}' for value in os.getloadavg())}")
    rows = {}
    cpus = {}
    for _ in range(ROUNDS):
        for name, command, path in captures:
            seconds, peak, cpu = timed(command)
            old = rows.get(name, (float("inf"), 0, 0))
            rows[name] = (min(old[0], seconds), max(old[1], peak), os.path.getsize(path))
            cpus[name] = min(cpus.get(name, float("inf")), cpu)
    restores = [
        ("imprint restore", [imprint, "restore", out + ".imprint", "--root", dest, "--facts", facts]),
        ("imprint restore (zstd)", [imprint, "restore", out + ".zst.imprint", "--root", dest, "--facts", facts]),
        ("tar -xzf", ["tar", "-C", dest, "-xzf", out + ".tgz"]),
        ("tar -I pigz -x", ["tar", "-C", dest, "-I", "pigz", "-xf", out + ".pigz.tgz"]),
        ("tar --zstd -x", ["tar", "-C", dest, "--zstd", "-xf", out + ".tzst"]),
        (f"bgzip -d -@{cores} | tar -x", ["sh", "-c", f"bgzip -d -@{cores} < {shlex.quote(out)}.bgz | tar -C {shlex.quote(dest)} -xf -"]),
    ]
    restores.append(("imprint verify", [imprint, "verify", out + ".imprint"]))
    if previous:
        restores.append(("imprint verify (previous)", [previous, "verify", out + ".imprint"]))
    for _ in range(ROUNDS):
        for name, command in restores:
            fresh_dest()
            seconds, peak, cpu = timed(command)
            old = rows.get(name, (float("inf"), 0, None))
            rows[name] = (min(old[0], seconds), max(old[1], peak), None)
            cpus[name] = min(cpus.get(name, float("inf")), cpu)
    shutil.rmtree(dest, ignore_errors=True)

    print(f"load average at the end: {' '.join(f'{value:.2f}' for value in os.getloadavg())}")
    print(f"{'':28}{'seconds':>9}{'MB/s':>9}{'size MB':>10}{'peak MB':>9}{'CPU s':>8}")
    for name, (seconds, peak, size) in rows.items():
        size_text = f"{size / 1e6:10.1f}" if size else f"{'':10}"
        print(f"{name:28}{seconds:9.2f}{data / seconds / 1e6:9.1f}{size_text}{peak / 1024:9.0f}{cpus[name]:8.2f}")

    def ratio(a, b):
        return rows[b][0] / rows[a][0]

    ours = rows["imprint capture (gzip -6)"]
    pigz = rows["tar -I pigz"]
    bgzip = f"tar | bgzip -@{cores} -l 6"
    print()
    print(f"capture vs {bgzip}: {ratio('imprint capture (gzip -6)', bgzip):.2f}x (goal >= 1.2), "
          f"size {100 * (ours[2] / rows[bgzip][2] - 1):+.2f}%")
    print(f"capture vs tar -I pigz:  {ratio('imprint capture (gzip -6)', 'tar -I pigz'):.2f}x throughput (goal >= 2.0), "
          f"size {100 * (ours[2] / pigz[2] - 1):+.2f}% (goal <= 0)")
    print(f"capture vs tar -czf:     {ratio('imprint capture (gzip -6)', 'tar -czf'):.2f}x")
    print(f"restore vs bgzip -d -@{cores} | tar -x: {ratio('imprint restore', f'bgzip -d -@{cores} | tar -x'):.2f}x (goal >= 1.5)")
    print(f"restore vs tar -xzf:     {ratio('imprint restore', 'tar -xzf'):.2f}x (goal >= 2.5)")
    if previous:
        print(f"verify vs the previous imprint's: {ratio('imprint verify', 'imprint verify (previous)'):.2f}x (goal >= 1.5)")
    zstd = rows["imprint capture (zstd -3)"]
    tar_zstd = "tar -I 'zstd -T0'"
    print(f"zstd capture vs tar -I 'zstd -T0': {ratio('imprint capture (zstd -3)', tar_zstd):.2f}x (goal >= 1.0), "
          f"size {100 * (zstd[2] / rows[tar_zstd][2] - 1):+.2f}%")
    print(f"zstd restore vs tar --zstd -x:     {ratio('imprint restore (zstd)', 'tar --zstd -x'):.2f}x (goal >= 1.0)")
    print(f"peak memory: capture {ours[1] / 1024:.0f} MB (zstd {zstd[1] / 1024:.0f} MB), "
          f"restore {rows['imprint restore'][1] / 1024:.0f} MB (zstd {rows['imprint restore (zstd)'][1] / 1024:.0f} MB) (goal < 256)")


if __name__ == "__main__":
    main()
