#!/usr/bin/env python3
"""Open N concurrent connections to an echo server on loopback, keep them all
open, and check that every one of them still echoes. Prints one line:
`opened N, echoed N`. Used by bench/peers.sh for the 10,000-connection check."""
import selectors
import socket
import sys


def main():
    host, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    if not host.startswith("127.") and host != "::1":
        sys.exit("loopback only")
    socks = []
    for i in range(n):
        s = socket.create_connection((host, port), timeout=10)
        socks.append(s)
    # Two rounds: every connection echoes, and still echoes after all are open.
    echoed = 0
    for rnd in range(2):
        sel = selectors.DefaultSelector()
        for i, s in enumerate(socks):
            s.sendall(b"%d:%d\n" % (rnd, i))
            s.setblocking(False)
            sel.register(s, selectors.EVENT_READ, (i, b""))
        pending = len(socks)
        got = 0
        while pending:
            events = sel.select(timeout=30)
            if not events:
                break
            for key, _ in events:
                i, buf = key.data
                try:
                    data = key.fileobj.recv(64)
                except BlockingIOError:
                    continue
                buf += data
                want = b"%d:%d\n" % (rnd, i)
                if buf == want:
                    sel.unregister(key.fileobj)
                    pending -= 1
                    got += 1
                elif not data or len(buf) >= len(want):
                    sel.unregister(key.fileobj)
                    pending -= 1
                else:
                    sel.modify(key.fileobj, selectors.EVENT_READ, (i, buf))
        sel.close()
        for s in socks:
            s.setblocking(True)
        echoed = got
    print(f"opened {len(socks)}, echoed {echoed}")
    for s in socks:
        s.close()


if __name__ == "__main__":
    main()
