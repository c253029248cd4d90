#!/usr/bin/env python3
"""Inventory benchmark: Imprint against the sqlite3 shell on the same data, in the same run.

Builds a 100,000-unit inventory, then measures
  - importing a 10,000-row CSV into it (imprint validates every value, checks duplicates in the file and against
    the database, in one transaction; sqlite3's .import copies text into a table with the same UNIQUE indexes),
  - identify by serial and by MAC inside the process (imprint-bench),
  - the whole `imprint identify` process, against a `sqlite3` process running the equivalent lookup.
Prints each number with its goal and the ratio to the sqlite3 shell. Run by Benchmarks/inventory.sh.
"""
import os, shutil, statistics, subprocess, sys, tempfile, time, json

imprint, bench = sys.argv[1], sys.argv[2]
BASE, EXTRA, RUNS = 100_000, 10_000, 30
work = tempfile.mkdtemp(prefix="imprint-bench-")

def mac(n):
    return "02:00:" + ":".join(f"{(n >> s) & 0xff:02x}" for s in (24, 16, 8, 0))

def write_csv(path, first, count):
    with open(path, "w") as f:
        f.write("hostname,group,model,serial,macs,ipv4,gateway4\n")
        for n in range(first, first + count):
            # One address per unit (imprint refuses a shared one), never the /8's network or broadcast address.
            m = n + 256
            f.write(f"u{n:06d},ROOM{n // 30:05d},OptiPlex 7090,SN{n:06d},{mac(n)},10.{m >> 16}.{(m >> 8) & 255}.{m & 255}/8,10.0.0.1\n")

def timed(command, env=None):
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, env=env)
    return time.perf_counter() - start

try:
    base_csv, extra_csv = os.path.join(work, "base.csv"), os.path.join(work, "extra.csv")
    write_csv(base_csv, 1, BASE)
    write_csv(extra_csv, BASE + 1, EXTRA)
    db = os.path.join(work, "inventory.db")
    env = dict(os.environ, IMPRINT_INVENTORY=db)
    subprocess.run([imprint, "inventory", "init"], check=True, stdout=subprocess.DEVNULL, env=env)
    base_seconds = timed([imprint, "inventory", "import", "--create-groups", base_csv], env)

    # The same data in a plain SQLite table with the same unique keys, for the sqlite3 shell.
    plain = os.path.join(work, "plain.db")
    schema = ("CREATE TABLE units (hostname TEXT UNIQUE COLLATE NOCASE, grp TEXT, model TEXT, serial TEXT UNIQUE,"
              " macs TEXT UNIQUE, ipv4 TEXT, gateway4 TEXT);")
    subprocess.run(["sqlite3", plain, schema], check=True)
    subprocess.run(["sqlite3", plain, f".import --csv --skip 1 {base_csv} units"], check=True)

    imports, shell_imports = [], []
    for _ in range(3):
        copy, plain_copy = db + ".run", plain + ".run"
        shutil.copy(db, copy)
        shutil.copy(plain, plain_copy)
        imports.append(timed([imprint, "inventory", "import", "--create-groups", extra_csv], dict(os.environ, IMPRINT_INVENTORY=copy)))
        shell_imports.append(timed(["sqlite3", plain_copy, f".import --csv --skip 1 {extra_csv} units"]))
    imprint_import, shell_import = statistics.median(imports), statistics.median(shell_imports)

    lookups = subprocess.run([bench, db, str(BASE), "2000"], check=True, capture_output=True, text=True).stdout.split("\n")
    inproc = {line.split()[0]: (float(line.split()[1]), float(line.split()[2])) for line in lookups if line}

    facts = os.path.join(work, "facts.json")
    with open(facts, "w") as f:
        json.dump({"serial": "SN054321", "macs": [mac(54321)]}, f)
    identify = [timed([imprint, "identify", "--facts", facts], env) for _ in range(RUNS)]
    shell_lookup = [timed(["sqlite3", plain, "SELECT hostname FROM units WHERE serial = 'SN054321' OR macs = '02:00:00:00:d4:31';"])
                    for _ in range(RUNS)]
    identify_ms, shell_ms = statistics.median(identify) * 1000, statistics.median(shell_lookup) * 1000

    def row(what, value, unit, goal, ok, versus=""):
        print(f"{what:<44} {value:>9.3f} {unit:<3} goal {goal:<10} {'met' if ok else 'MISSED':<7} {versus}")

    print(f"inventory of {BASE:,} units (built by importing {BASE:,} rows in {base_seconds:.1f} s); medians\n")
    row(f"import {EXTRA:,} rows, imprint", imprint_import, "s", "< 2 s", imprint_import < 2,
        f"sqlite3 .import {shell_import:.3f} s: ratio {imprint_import / shell_import:.1f}x (imprint validates every value)")
    row("identify by serial, in process", inproc["serial"][0], "ms", "< 1 ms", inproc["serial"][0] < 1, f"p99 {inproc['serial'][1]:.3f} ms")
    row("identify by MAC, in process", inproc["mac"][0], "ms", "< 1 ms", inproc["mac"][0] < 1, f"p99 {inproc['mac'][1]:.3f} ms")
    row("imprint identify, whole process", identify_ms, "ms", "< 50 ms", identify_ms < 50,
        f"sqlite3 process {shell_ms:.1f} ms: ratio {identify_ms / shell_ms:.1f}x")
finally:
    shutil.rmtree(work, ignore_errors=True)
