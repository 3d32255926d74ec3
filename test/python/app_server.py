"""A multi-connection app-protocol server (selectors, non-blocking sockets).

Answers every request on a connection in order; closes once the peer has half-closed
(or closed) and every reply is sent. A message it cannot read gets a JSON error reply,
then the connection closes. With --one-shot it closes after the first reply, as the
classic tutorial's server does.

Prints "listening on HOST:PORT" (flushed) once it accepts connections.
"""

import argparse
import hashlib
import json
import selectors
import socket
import sys

import appproto

DEFAULT_DICTIONARY = {
    "morpheus": "Follow the white rabbit. \U0001f430",
    "ring": "In the caves beneath the Misty Mountains. \U0001f48d",
    "\U0001f436": "\U0001f43e Playing ball! \U0001f3d0",
}


def reply_for(header, content, dictionary):
    """Returns (reply bytes, fatal) for one request."""
    if header["content-type"] != "text/json":
        summary = "length=%d sha256=%s" % (len(content), hashlib.sha256(content).hexdigest())
        return appproto.encode_binary(summary.encode("ascii"), "binary/custom-server-binary-type"), False
    try:
        request = appproto.decode_json_content(header, content)
    except appproto.ProtocolError as e:
        return appproto.encode_json({"result": "Error: %s." % e, "error": "bad-content"}), True
    if not isinstance(request, dict):
        return appproto.encode_json({"result": "Error: request is not a JSON object.", "error": "bad-content"}), True
    action, value = request.get("action"), request.get("value")
    if action == "search":
        if isinstance(value, str) and value in dictionary:
            result = {"result": dictionary[value]}
        else:
            result = {"result": 'No match for "%s".' % value}
    elif action == "echo":
        result = {"result": value}
    else:
        result = {"result": 'Error: invalid action "%s".' % action, "error": "invalid-action"}
    return appproto.encode_json(result), False


class Connection:
    def __init__(self, sock, server):
        self.sock = sock
        self.server = server
        self.decoder = appproto.Decoder()
        self.out = bytearray()
        self.reading = True
        self.peer_closed = False
        self.closing = False  # no more replies: close once `out` is sent
        self.replies = 0

    def on_readable(self):
        try:
            data = self.sock.recv(65536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            return self.close()
        if not data:
            self.peer_closed = True
            self.reading = False
            if self.decoder.partial and not self.closing:
                self.fail("stream ended inside a message")
            self.closing = True
        else:
            self.decoder.feed(data)
            self.process()
        self.update()

    def process(self):
        while self.reading:
            try:
                msg = self.decoder.next()
            except appproto.ProtocolError as e:
                return self.fail(str(e))
            if msg is None:
                return
            reply, fatal = reply_for(msg[0], msg[1], self.server.dictionary)
            self.out += reply
            self.replies += 1
            if fatal or self.server.one_shot:
                self.reading = False
                self.closing = True

    def fail(self, why):
        print("protocol error from %s: %s" % (self.sock.getpeername(), why), file=sys.stderr, flush=True)
        self.out += appproto.encode_json({"result": "Error: %s." % why, "error": "protocol"})
        self.reading = False
        self.closing = True

    def on_writable(self):
        try:
            sent = self.sock.send(self.out)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            return self.close()
        del self.out[:sent]
        self.update()

    def update(self):
        if self.sock.fileno() < 0:
            return
        if self.closing and not self.out:
            return self.close()
        events = (selectors.EVENT_READ if self.reading else 0) | (selectors.EVENT_WRITE if self.out else 0)
        self.server.sel.modify(self.sock, events or selectors.EVENT_READ, self)

    def close(self):
        if self.sock.fileno() < 0:
            return
        self.server.sel.unregister(self.sock)
        if not self.peer_closed:
            try:
                self.sock.shutdown(socket.SHUT_WR)
            except OSError:
                pass
        self.sock.close()


class Server:
    def __init__(self, host, port, dictionary, one_shot):
        self.sel = selectors.DefaultSelector()
        self.dictionary = dictionary
        self.one_shot = one_shot
        self.lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.lsock.bind((host, port))
        self.lsock.listen(128)
        self.lsock.setblocking(False)
        self.sel.register(self.lsock, selectors.EVENT_READ, None)

    def serve(self):
        host, port = self.lsock.getsockname()[:2]
        print("listening on %s:%d" % (host, port), flush=True)
        while True:
            for key, mask in self.sel.select():
                if key.data is None:
                    try:
                        sock, _ = self.lsock.accept()
                    except (BlockingIOError, InterruptedError):
                        continue
                    sock.setblocking(False)
                    self.sel.register(sock, selectors.EVENT_READ, Connection(sock, self))
                    continue
                conn = key.data
                if mask & selectors.EVENT_READ and conn.reading:
                    conn.on_readable()
                if mask & selectors.EVENT_WRITE and conn.sock.fileno() >= 0:
                    conn.on_writable()


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--data", help="JSON object file: the search dictionary")
    ap.add_argument("--one-shot", action="store_true", help="close after the first reply (like the tutorial)")
    args = ap.parse_args()
    dictionary = DEFAULT_DICTIONARY
    if args.data:
        with open(args.data, encoding="utf-8") as f:
            dictionary = json.load(f)
    try:
        Server(args.host, args.port, dictionary, args.one_shot).serve()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
