#!/usr/bin/env python3
# The reference for the app protocol: a selectors server in the style of the classic
# Python socket tutorial (libserver.py), kept alive across requests (the tutorial's closes
# after one reply; switchboard's does not, so the comparison is keep-alive on both).
# Same wire format: u16 big-endian header length, JSON header (byteorder, content-type,
# content-encoding, content-length), content. Actions: search (the tutorial's dictionary), echo.
#   python3 app-server.py   (prints "listening addr=127.0.0.1:PORT" on stderr)
import json
import selectors
import signal
import socket
import struct
import sys

REQUEST_SEARCH = {
    "morpheus": "Follow the white rabbit. \U0001f430",
    "ring": "In the caves beneath the Misty Mountains. \U0001f48d",
    "\U0001f436": "\U0001f43e Playing ball! \U0001f3d0",
}


def json_encode(obj, encoding):
    return json.dumps(obj, ensure_ascii=False).encode(encoding)


def json_decode(json_bytes, encoding):
    return json.loads(json_bytes.decode(encoding))


def answer(request):
    action = request.get("action")
    if action == "search":
        query = request.get("value")
        return {"result": REQUEST_SEARCH.get(query) or f'No match for "{query}".'}
    if action == "echo":
        return {"result": request.get("value")}
    return {"result": f'Error: invalid action "{action}".'}


class Message:
    def __init__(self, selector, sock):
        self.selector = selector
        self.sock = sock
        self._recv_buffer = b""
        self._send_buffer = b""
        self._want_write = False

    def process_events(self, mask):
        if mask & selectors.EVENT_READ:
            self.read()
        if mask & selectors.EVENT_WRITE and self._send_buffer:
            self.write()

    def read(self):
        try:
            data = self.sock.recv(4096)
        except BlockingIOError:
            return
        except ConnectionError:
            return self.close()
        if not data:
            return self.close()
        self._recv_buffer += data
        while self.process_one():
            pass
        if self._send_buffer:
            self.write()

    def process_one(self):
        buf = self._recv_buffer
        if len(buf) < 2:
            return False
        hdrlen = struct.unpack(">H", buf[:2])[0]
        if len(buf) < 2 + hdrlen:
            return False
        header = json_decode(buf[2:2 + hdrlen], "utf-8")
        for reqhdr in ("byteorder", "content-length", "content-type", "content-encoding"):
            if reqhdr not in header:
                raise ValueError(f"Missing required header '{reqhdr}'.")
        end = 2 + hdrlen + header["content-length"]
        if len(buf) < end:
            return False
        data = buf[2 + hdrlen:end]
        self._recv_buffer = buf[end:]
        encoding = header["content-encoding"]
        request = json_decode(data, encoding)
        content = json_encode(answer(request), "utf-8")
        jsonheader = {
            "byteorder": sys.byteorder,
            "content-type": "text/json",
            "content-encoding": "utf-8",
            "content-length": len(content),
        }
        jsonheader_bytes = json_encode(jsonheader, "utf-8")
        self._send_buffer += struct.pack(">H", len(jsonheader_bytes)) + jsonheader_bytes + content
        return True

    def write(self):
        try:
            sent = self.sock.send(self._send_buffer)
        except BlockingIOError:
            sent = 0
        except ConnectionError:
            return self.close()
        self._send_buffer = self._send_buffer[sent:]
        want = bool(self._send_buffer)
        if want != self._want_write:  # only a change of interest costs a syscall
            self._want_write = want
            events = selectors.EVENT_READ | (selectors.EVENT_WRITE if want else 0)
            self.selector.modify(self.sock, events, data=self)

    def close(self):
        try:
            self.selector.unregister(self.sock)
        except (KeyError, ValueError):
            pass
        self.sock.close()


def main():
    sel = selectors.DefaultSelector()
    lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(4096)
    lsock.setblocking(False)
    sel.register(lsock, selectors.EVENT_READ, data=None)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(f"listening addr=127.0.0.1:{lsock.getsockname()[1]}", file=sys.stderr, flush=True)
    while True:
        for key, mask in sel.select(timeout=None):
            if key.data is None:
                conn, _ = key.fileobj.accept()
                conn.setblocking(False)
                sel.register(conn, selectors.EVENT_READ, data=Message(sel, conn))
            else:
                try:
                    key.data.process_events(mask)
                except Exception:
                    key.data.close()


if __name__ == "__main__":
    main()
