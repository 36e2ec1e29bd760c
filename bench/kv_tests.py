#!/usr/bin/env python3
"""Every test of `redis-benchmark` with no -t, netkit against redis-server.

Usage: kv_tests.py NETKIT N PIPELINE REPEAT

Each repetition starts a fresh redis-server and a fresh `netkit kv serve`
on free loopback ports, then runs redis-benchmark's default tests in their
default order, one group at a time (-t ping, -t set, ... -t lrange, -t mset),
alternating which server goes first, so both see the same data (the lists
LPUSH grows are the ones LPOP and LRANGE read) and drifting machine load hits
both alike. Prints, per line, the median requests/s of each and the median
ratio netkit/redis with its range over the repetitions, then the geometric
mean of the median ratios.
"""
import math
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time

GROUPS = ["ping", "set", "get", "incr", "lpush", "rpush", "lpop", "rpop", "sadd",
          "hset", "spop", "zadd", "zpopmin", "lrange", "mset"]


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_port(port):
    for _ in range(400):
        out = subprocess.run(["redis-cli", "-p", str(port), "ping"], capture_output=True)
        if out.stdout.strip() == b"PONG":
            return
        time.sleep(0.05)
    sys.exit(f"nothing answers on port {port}")


def start(netkit):
    rport, nport = free_port(), free_port()
    rdir = tempfile.mkdtemp()
    redis = subprocess.Popen(["redis-server", "--port", str(rport), "--bind", "127.0.0.1",
                              "--save", "", "--appendonly", "no", "--dir", rdir],
                             stdout=subprocess.DEVNULL)
    nk = subprocess.Popen([netkit, "kv", "serve", "-q", str(nport)],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_port(rport)
    wait_port(nport)
    return (redis, rport), (nk, nport)


def bench(port, n, pipeline, group):
    out = subprocess.run(["redis-benchmark", "-p", str(port), "-n", str(n), "-c", "50",
                          "-P", str(pipeline), "-q", "-t", group],
                         capture_output=True, text=True).stdout
    res = {}
    for line in out.replace("\r", "\n").splitlines():
        m = re.match(r"\s*(.+?): ([\d.]+) requests per second", line)
        if m and "needed to benchmark" not in m.group(1):
            res[m.group(1)] = float(m.group(2))
    return res


def main():
    netkit, n, pipeline, reps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    order, r_rps, n_rps = [], {}, {}
    for rep in range(reps):
        (redis, rport), (nk, nport) = start(netkit)
        try:
            for i, g in enumerate(GROUPS):
                if (i + rep) % 2 == 0:
                    a, b = bench(rport, n, pipeline, g), bench(nport, n, pipeline, g)
                else:
                    b, a = bench(nport, n, pipeline, g), bench(rport, n, pipeline, g)
                for name, v in a.items():
                    if name not in order:
                        order.append(name)
                    r_rps.setdefault(name, []).append(v)
                    n_rps.setdefault(name, []).append(b.get(name, 0.0))
        finally:
            for p in (redis, nk):
                p.terminate()
                p.wait()
    meds = []
    for name in order:
        ratios = [b / a for a, b in zip(r_rps[name], n_rps[name]) if a > 0]
        med = statistics.median(ratios) if ratios else 0.0
        meds.append(med)
        span = f"[{min(ratios):.2f}..{max(ratios):.2f}]" if len(ratios) > 1 else ""
        print(f"  {name:<34} redis {statistics.median(r_rps[name]):>10.0f}   "
              f"netkit {statistics.median(n_rps[name]):>10.0f}   ratio {med:.2f} {span}")
    good = [m for m in meds if m > 0]
    if good:
        gm = math.exp(sum(math.log(m) for m in good) / len(good))
        print(f"  geometric mean of the ratios: {gm:.2f}  (lowest line {min(meds):.2f})")


if __name__ == "__main__":
    main()
