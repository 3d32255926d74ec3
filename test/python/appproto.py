"""The app protocol, written from its description (docs/protocols.md), standard library only.

A message is: a 2-byte big-endian header length, a UTF-8 JSON header object with
"byteorder", "content-type", "content-encoding" and "content-length", then
content-length bytes of content.
"""

import json
import struct
import sys

REQUIRED = ("byteorder", "content-type", "content-encoding", "content-length")
MAX_HEADER = 64 * 1024
MAX_CONTENT = 1024 * 1024


class ProtocolError(Exception):
    pass


def encode(content_type, content_encoding, content):
    header = {
        "byteorder": sys.byteorder,
        "content-type": content_type,
        "content-encoding": content_encoding,
        "content-length": len(content),
    }
    header_bytes = json.dumps(header, ensure_ascii=False).encode("utf-8")
    return struct.pack(">H", len(header_bytes)) + header_bytes + content


def encode_json(obj, encoding="utf-8"):
    return encode("text/json", encoding, json.dumps(obj, ensure_ascii=False).encode(encoding))


def encode_binary(content, content_type="binary/custom-client-binary-type"):
    return encode(content_type, "binary", content)


def decode_json_content(header, content):
    try:
        return json.loads(content.decode(header["content-encoding"]))
    except (LookupError, UnicodeDecodeError, ValueError) as e:
        raise ProtocolError("content is not JSON in %s: %s" % (header["content-encoding"], e))


class Decoder:
    """Incremental: feed() bytes as they arrive, then pop complete messages with next()."""

    def __init__(self, max_header=MAX_HEADER, max_content=MAX_CONTENT):
        self.buf = bytearray()
        self.header = None
        self.max_header = max_header
        self.max_content = max_content

    def feed(self, data):
        self.buf += data

    @property
    def partial(self):
        return self.header is not None or len(self.buf) > 0

    def next(self):
        """Returns (header, content) or None when more bytes are needed; raises ProtocolError."""
        if self.header is None:
            if len(self.buf) < 2:
                return None
            (hlen,) = struct.unpack(">H", self.buf[:2])
            if hlen > self.max_header:
                raise ProtocolError("header length %d is over %d" % (hlen, self.max_header))
            if len(self.buf) < 2 + hlen:
                return None
            raw = bytes(self.buf[2:2 + hlen])
            del self.buf[:2 + hlen]
            try:
                header = json.loads(raw.decode("utf-8"))
            except (UnicodeDecodeError, ValueError):
                raise ProtocolError("header is not UTF-8 JSON")
            if not isinstance(header, dict):
                raise ProtocolError("header is not a JSON object")
            missing = [f for f in REQUIRED if f not in header]
            if missing:
                raise ProtocolError("missing header fields: %s" % ", ".join(missing))
            length = header["content-length"]
            if not isinstance(length, int) or isinstance(length, bool) or length < 0:
                raise ProtocolError("bad content-length %r" % (length,))
            if length > self.max_content:
                raise ProtocolError("content-length %d is over %d" % (length, self.max_content))
            self.header = header
        length = self.header["content-length"]
        if len(self.buf) < length:
            return None
        content = bytes(self.buf[:length])
        del self.buf[:length]
        header, self.header = self.header, None
        return header, content
