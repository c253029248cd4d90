#!/usr/bin/env python3
"""Side-by-side measures of imprint-server and nginx on loopback, same machine, same run.

Usage: server.py BIN-FOLDER SCRATCH (BIN-FOLDER holds release builds of imprint and imprint-server).

  - Image download: the library holds one image (a capture of /usr/lib, a few hundred MB); curl fetches it with the
    admin token from imprint-server and, as a plain static file, from nginx (sendfile on) serving the same folder.
    One stream, then 30 streams at once; throughput is bytes over wall time, best of three rounds each; then the
    server's peak memory (VmHWM).
  - Identify: 10,000 units imported from a CSV; wrk (2 threads, 16 connections, 60 s) posts the facts of a known
    unit to /v1/identify, flat out and then paced (20 ms between a connection's requests, near 500 a second);
    reports requests a second and the latency percentiles wrk measured.
  - Enrolment: a window lets 200 units enrol; 200 curl processes ask at once; wall time until the last answers,
    and the names checked distinct.
Goals (issue 17): downloads >= 0.9x nginx both ways; identify p99 < 20 ms at >= 500 requests/s; 200 enrolments < 5 s.
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time

ROUNDS = 3


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port):
    for _ in range(400):
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    sys.exit(f"nothing listens on {port}")


def run(command, **kwargs):
    return subprocess.run(command, check=True, capture_output=True, text=True, **kwargs).stdout


def download(url, streams, headers):
    """Wall seconds for `streams` curls fetching url at once, and the bytes each got."""
    command = ["curl", "-sS", "-o", "/dev/null", "-w", "%{size_download}\n"]
    for header in headers:
        command += ["-H", header]
    start = time.perf_counter()
    processes = [subprocess.Popen(command + [url], stdout=subprocess.PIPE, text=True) for _ in range(streams)]
    sizes = [int(p.communicate()[0].strip() or 0) for p in processes]
    return time.perf_counter() - start, sizes


def main():
    bin_folder, scratch = sys.argv[1], sys.argv[2]
    imprint = os.path.join(bin_folder, "imprint")
    server_bin = os.path.join(bin_folder, "imprint-server")
    shutil.rmtree(scratch, ignore_errors=True)
    os.makedirs(os.path.join(scratch, "library"))
    inventory = os.path.join(scratch, "inventory.db")
    token_file = os.path.join(scratch, "admin.token")
    run([server_bin, "init", "--inventory", inventory, "--admin-token-file", token_file])
    token = open(token_file).read().strip()
    run([imprint, "inventory", "group", "add", "lab", "--naming-pattern", "LAB-{####}", "--inventory", inventory])
    run([imprint, "inventory", "group", "add", "hall", "--naming-pattern", "HALL-{###}", "--inventory", inventory])
    with open(os.path.join(scratch, "units.csv"), "w") as f:
        f.write("hostname,group,model,serial,macs\n")
        for i in range(10000):
            f.write(f"U{i:05d},lab,Bench PC,SER{i:07d},52:54:{i >> 24 & 255:02x}:{i >> 16 & 255:02x}:{i >> 8 & 255:02x}:{i & 255:02x}\n")
    run([imprint, "inventory", "import", os.path.join(scratch, "units.csv"), "--inventory", inventory])
    image = os.path.join(scratch, "library", "bench.img")
    run([imprint, "capture", "--root", "/usr/lib", "--model", "Bench PC", "-o", image])
    size = os.path.getsize(image)

    port = free_port()
    server = subprocess.Popen(
        [server_bin, "serve", "--inventory", inventory, "--library", os.path.join(scratch, "library"),
         "--listen", f"127.0.0.1:{port}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    nginx_port = free_port()
    nginx_conf = os.path.join(scratch, "nginx.conf")
    with open(nginx_conf, "w") as f:
        f.write(f"""daemon off; user root; worker_processes auto;
pid {scratch}/nginx.pid; error_log {scratch}/nginx-error.log warn;
events {{ worker_connections 256; }}
http {{ access_log off; sendfile on; tcp_nopush on;
  client_body_temp_path {scratch}/body; proxy_temp_path {scratch}/proxy; fastcgi_temp_path {scratch}/fastcgi;
  uwsgi_temp_path {scratch}/uwsgi; scgi_temp_path {scratch}/scgi;
  server {{ listen 127.0.0.1:{nginx_port}; root {scratch}/library; }} }}
""")
    nginx = subprocess.Popen(["nginx", "-p", scratch, "-c", nginx_conf])
    try:
        wait_port(port)
        wait_port(nginx_port)
        ours = f"http://127.0.0.1:{port}/v1/images/bench.img"
        theirs = f"http://127.0.0.1:{nginx_port}/bench.img"
        auth = [f"Authorization: Bearer {token}"]
        print(f"image: {size / 1e6:.1f} MB; nginx: worker_processes auto (one per core), sendfile on")
        print(f"{'download':<22}{'imprint-server':>16}{'nginx':>12}{'ratio':>8}")
        for streams in (1, 30):
            best = {}
            for _ in range(ROUNDS):
                for name, url, headers in (("imprint", ours, auth), ("nginx", theirs, [])):
                    wall, sizes = download(url, streams, headers)
                    if any(s != size for s in sizes):
                        sys.exit(f"{name}: a download got {sizes[:3]}... bytes, not {size}")
                    rate = streams * size / wall / 1e6
                    best[name] = max(best.get(name, 0), rate)
            print(f"{f'{streams} stream(s), MB/s':<22}{best['imprint']:>16.0f}{best['nginx']:>12.0f}{best['imprint'] / best['nginx']:>7.2f}x")
        # What the server held at most, downloads included (a server that reads ahead of what the connections take
        # grows with every stream).
        peak = next(line.split()[1] for line in open(f"/proc/{server.pid}/status") if line.startswith("VmHWM:"))
        print(f"imprint-server peak memory after the downloads: {int(peak) / 1024:.0f} MB")

        body = json.dumps({"facts": {"serial": "SER0004711", "interfaces": []}, "diskHoldsData": False})
        script = os.path.join(scratch, "identify.lua")
        with open(script, "w") as f:
            f.write('wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\nwrk.body = ' + json.dumps(body) + "\n")
        # Flat out, then paced near the goal's 500 requests/s: each connection waits 20 ms between requests (wrk's
        # delay()), since wrk itself cannot hold a fixed rate.
        for label, pause in (("flat out", None), ("paced", 20)):
            text = script
            if pause:
                text = os.path.join(scratch, "identify-paced.lua")
                with open(text, "w") as f:
                    f.write(open(script).read() + f"function delay() return {pause} end\n")
            output = run(["wrk", "-t2", "-c16", "-d60s", "--latency", "-s", text, f"http://127.0.0.1:{port}/v1/identify"])
            rate = next(line for line in output.splitlines() if "Requests/sec" in line).split()[-1]
            percentiles = {line.split()[0]: line.split()[1] for line in output.splitlines() if line.strip().startswith(("50%", "90%", "99%"))}
            print(f"identify {label} (10,000 units, 16 connections, 60 s): {rate} requests/s, p50 {percentiles.get('50%')}, "
                  f"p90 {percentiles.get('90%')}, p99 {percentiles.get('99%')}")

        window = json.dumps({"group": "hall", "actions": ["enrol"], "minutes": 30, "maximumNewUnits": 200})
        run(["curl", "-sS", "-f", "-H", f"Authorization: Bearer {token}", "-H", "Content-Type: application/json",
             "-d", window, f"http://127.0.0.1:{port}/v1/admin/windows"])
        start = time.perf_counter()
        processes = [subprocess.Popen(
            ["curl", "-sS", "-H", "Content-Type: application/json", "-d",
             json.dumps({"facts": {"serial": f"NEW{i:07d}", "interfaces": []}, "diskHoldsData": False}),
             f"http://127.0.0.1:{port}/v1/identify"], stdout=subprocess.PIPE, text=True) for i in range(200)]
        names = [json.loads(p.communicate()[0]).get("unit") for p in processes]
        wall = time.perf_counter() - start
        print(f"200 enrolments at once: {wall:.2f} s, {len(set(names))} distinct names")
    finally:
        server.send_signal(signal.SIGTERM)
        nginx.send_signal(signal.SIGTERM)
        server.wait()
        nginx.wait()


if __name__ == "__main__":
    main()
