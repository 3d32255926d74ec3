import { describe, expect, test } from "vitest";
import {
  ByteQueue,
  decodeAll,
  decodeEofAll,
  FrameTooLarge,
  MalformedFrame,
  textLines,
} from "../../../src/codec/index.ts";
import { ascii, bytes, encodeAll, text } from "./helpers.ts";

describe("textLines", () => {
  test("decodes UTF-8 lines split anywhere, \\r\\n or \\n, and a last line at EOF", () => {
    const codec = textLines();
    const wire = ascii("héllo\r\nwörld\nlast");
    const q = new ByteQueue();
    const got: string[] = [];
    for (const b of wire) {
      q.push(bytes(b)); // one byte at a time: a UTF-8 sequence split across reads
      got.push(...decodeAll(codec, q));
    }
    got.push(...decodeEofAll(codec, q));
    expect(got).toEqual(["héllo", "wörld", "last"]);
  });

  test("invalid UTF-8 is a MalformedFrame, not a replacement character", () => {
    const q = new ByteQueue();
    q.push(bytes(0x61, 0xff, 0x0a));
    expect(() => decodeAll(textLines(), q)).toThrow(MalformedFrame);
  });

  test("maxLength counts bytes; encode appends \\n and refuses a line that holds one", () => {
    const q = new ByteQueue();
    q.push(ascii("ééé\n")); // 6 bytes
    expect(() => decodeAll(textLines({ maxLength: 5 }), q)).toThrow(FrameTooLarge);
    expect(text(encodeAll(textLines(), ["a", "é"]))).toBe("a\né\n");
    expect(() => encodeAll(textLines(), ["two\nlines"])).toThrow(MalformedFrame);
  });
});
