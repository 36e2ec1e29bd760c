#!/usr/bin/env python3
"""Sorted-set operations as the set grows: netkit against redis-server.

Usage: kv_zset.py NETKIT N SIZE [SIZE ...]

For each size, both servers get a sorted set `z` of SIZE members
(`m:000000000000`.. with score = index) and then redis-benchmark runs N
pipelined (-P 32) requests of: ZRANK of a random member, ZADD rescoring a
random member, ZRANGE of 10 members by rank from the middle, ZCOUNT over a
score range, ZSCORE. With O(log n) rank and score operations the rates stay
within a small factor from 1k to 1M members; an O(n) rank would fall by
orders of magnitude.
"""
import re
import subprocess
import sys

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from kv_tests import start  # noqa: E402


def fill(port, size):
    lines = []
    batch = 1000
    for base in range(0, size, batch):
        args = ["ZADD", "z"]
        for i in range(base, min(size, base + batch)):
            args += [str(i), f"m:{i:012d}"]
        lines.append(f"*{len(args)}\r\n" + "".join(f"${len(a)}\r\n{a}\r\n" for a in args))
    subprocess.run(["redis-cli", "-p", str(port), "--pipe"], input="".join(lines).encode(),
                   capture_output=True, check=True)
    card = subprocess.run(["redis-cli", "-p", str(port), "ZCARD", "z"],
                          capture_output=True, text=True).stdout.strip()
    assert card == str(size), (card, size)


def rate(port, n, size, cmd):
    out = subprocess.run(["redis-benchmark", "-p", str(port), "-n", str(n), "-c", "50", "-P", "32",
                          "-r", str(size), "-q", *cmd], capture_output=True, text=True).stdout
    m = re.findall(r"([\d.]+) requests per second", out.replace("\r", "\n"))
    return float(m[-1]) if m else 0.0


def main():
    netkit, n, sizes = sys.argv[1], int(sys.argv[2]), [int(s) for s in sys.argv[3:]]
    for size in sizes:
        (redis, rport), (nk, nport) = start(netkit)
        try:
            fill(rport, size)
            fill(nport, size)
            mid = str(size // 2)
            cmds = {
                "ZRANK random member": ["ZRANK", "z", "m:__rand_int__"],
                "ZADD rescore random": ["ZADD", "z", "__rand_int__", "m:__rand_int__"],
                "ZRANGE 10 by rank, middle": ["ZRANGE", "z", mid, str(size // 2 + 9)],
                "ZCOUNT score range": ["ZCOUNT", "z", "(1000", mid],
                "ZSCORE random member": ["ZSCORE", "z", "m:__rand_int__"],
            }
            for name, cmd in cmds.items():
                r = rate(rport, n, size, cmd)
                k = rate(nport, n, size, cmd)
                print(f"  {size:>8} members  {name:<27} redis {r:>10.0f}   netkit {k:>10.0f}   "
                      f"ratio {k / r if r else 0:.2f}")
        finally:
            for p in (redis, nk):
                p.terminate()
                p.wait()


if __name__ == "__main__":
    main()
