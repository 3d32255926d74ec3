"""A pipelining app-protocol client (blocking socket).

Usage: app_client.py HOST PORT REQUEST...   where REQUEST is one of
  search:VALUE   echo:VALUE   binary:TEXT   json:OBJECT   repeat:N:search:VALUE
Sends every request back to back (in one sendall, or one byte per send with
--trickle), half-closes, reads replies until the server closes, and prints one JSON
line per reply: {"type": ..., "result": ...} or {"type": ..., "binary": TEXT}.
Exits 1 if a reply is missing or malformed.
"""

import argparse
import json
import socket
import sys

import appproto


def build(spec):
    kind, _, rest = spec.partition(":")
    if kind == "repeat":
        count, _, inner = rest.partition(":")
        return [m for _ in range(int(count)) for m in build(inner)]
    if kind in ("search", "echo"):
        return [appproto.encode_json({"action": kind, "value": rest})]
    if kind == "binary":
        return [appproto.encode_binary(rest.encode("utf-8"))]
    if kind == "json":
        return [appproto.encode_json(json.loads(rest))]
    raise SystemExit("bad request spec %r" % spec)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("host")
    ap.add_argument("port", type=int)
    ap.add_argument("requests", nargs="+")
    ap.add_argument("--trickle", action="store_true", help="send one byte per send()")
    ap.add_argument("--timeout", type=float, default=10.0)
    args = ap.parse_args()

    messages = [m for spec in args.requests for m in build(spec)]
    wire = b"".join(messages)
    sock = socket.create_connection((args.host, args.port), timeout=args.timeout)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if args.trickle:
        for i in range(len(wire)):
            sock.sendall(wire[i:i + 1])
    else:
        sock.sendall(wire)
    sock.shutdown(socket.SHUT_WR)

    decoder = appproto.Decoder(max_content=16 * 1024 * 1024)
    replies = 0
    while True:
        data = sock.recv(65536)
        if not data:
            break
        decoder.feed(data)
        while True:
            msg = decoder.next()
            if msg is None:
                break
            header, content = msg
            replies += 1
            if header["content-type"] == "text/json":
                body = appproto.decode_json_content(header, content)
                line = {"type": "text/json", "result": body.get("result"), "error": body.get("error")}
            else:
                line = {"type": header["content-type"], "binary": content.decode("latin-1")}
            print(json.dumps(line, ensure_ascii=False), flush=True)
    sock.close()
    if decoder.partial:
        print("server closed inside a reply", file=sys.stderr)
        return 1
    if replies != len(messages):
        print("got %d replies to %d requests" % (replies, len(messages)), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
