"""A one-shot client in the style of the classic tutorial's libclient: a non-blocking
socket driven by selectors sends ONE request (no half-close), reads exactly one reply,
prints it, and closes. Proves that a switchboard app server still serves such clients.

Usage: oneshot_client.py HOST PORT ACTION VALUE
  ACTION "search" is sent as text/json (like the tutorial); any other action is sent as
  binary content ACTION+VALUE with content-type binary/custom-client-binary-type.
Prints "result: ..." for text/json replies, "binary: <repr>" otherwise.
"""

import json
import selectors
import socket
import struct
import sys


def make_request(action, value):
    if action == "search":
        body = json.dumps({"action": action, "value": value}, ensure_ascii=False).encode("utf-8")
        ctype, enc = "text/json", "utf-8"
    else:
        body = (action + value).encode("utf-8")
        ctype, enc = "binary/custom-client-binary-type", "binary"
    header = {"byteorder": sys.byteorder, "content-type": ctype, "content-encoding": enc, "content-length": len(body)}
    hbytes = json.dumps(header, ensure_ascii=False).encode("utf-8")
    return struct.pack(">H", len(hbytes)) + hbytes + body


def main():
    host, port, action, value = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    sel = selectors.DefaultSelector()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setblocking(False)
    sock.connect_ex((host, port))
    sel.register(sock, selectors.EVENT_READ | selectors.EVENT_WRITE)
    outgoing = make_request(action, value)
    incoming = b""
    hlen = header = None
    deadline_ticks = 100  # 100 x 0.1 s
    while deadline_ticks > 0:
        events = sel.select(timeout=0.1)
        if not events:
            deadline_ticks -= 1
            continue
        for _, mask in events:
            if mask & selectors.EVENT_WRITE and outgoing:
                sent = sock.send(outgoing)
                outgoing = outgoing[sent:]
                if not outgoing:
                    sel.modify(sock, selectors.EVENT_READ)  # request sent: only read now
            if mask & selectors.EVENT_READ:
                data = sock.recv(4096)
                if not data:
                    print("server closed before the reply was complete", file=sys.stderr)
                    return 1
                incoming += data
                if hlen is None and len(incoming) >= 2:
                    hlen = struct.unpack(">H", incoming[:2])[0]
                    incoming = incoming[2:]
                if hlen is not None and header is None and len(incoming) >= hlen:
                    header = json.loads(incoming[:hlen].decode("utf-8"))
                    incoming = incoming[hlen:]
                if header is not None and len(incoming) >= header["content-length"]:
                    content = incoming[:header["content-length"]]
                    if header["content-type"] == "text/json":
                        print("result: %s" % json.loads(content.decode(header["content-encoding"]))["result"])
                    else:
                        print("binary: %r" % content)
                    sel.unregister(sock)
                    sock.close()  # like the tutorial: close right after the one reply
                    return 0
    print("timed out", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
