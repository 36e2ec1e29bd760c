#!/usr/bin/env python3
"""Round trip of one small message through a pipe program.

    bench/rtt.py N SIZE CMD...

Starts CMD (e.g. `netkit connect 127.0.0.1 PORT` to an echo server) with a
pipe on its stdin and on its stdout, then N times: write one SIZE-byte
message to the stdin pipe and wait until SIZE bytes came back on the stdout
pipe. Each message is sent only after the previous one returned, so nothing
is in flight to hide a delay. Prints the median and the 90th percentile round
trip in microseconds. Warm-up round trips (a tenth, at least 50) are not
counted. Exits non-zero if CMD closes early.
"""
import os
import subprocess
import sys
import time


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    n, size, cmd = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3:]
    p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, bufsize=0)
    win, rout = p.stdin.fileno(), p.stdout.fileno()
    msg = b"x" * (size - 1) + b"\n"

    def once():
        t0 = time.perf_counter_ns()
        os.write(win, msg)
        got = 0
        while got < size:
            d = os.read(rout, 65536)
            if not d:
                sys.exit("EOF from " + " ".join(cmd))
            got += len(d)
        return time.perf_counter_ns() - t0

    for _ in range(max(50, n // 10)):
        once()
    rtts = sorted(once() for _ in range(n))
    p.stdin.close()
    p.stdout.close()
    try:
        p.wait(timeout=10)
    except subprocess.TimeoutExpired:
        p.kill()
    print(f"{rtts[len(rtts) // 2] / 1000:.1f} {rtts[len(rtts) * 9 // 10] / 1000:.1f}")


if __name__ == "__main__":
    main()
