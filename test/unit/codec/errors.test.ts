import { describe, expect, test } from "vitest";
import { CodecError, FrameTooLarge, MalformedFrame, UnexpectedEof } from "../../../src/codec/errors.ts";

describe("codec errors", () => {
  test("FrameTooLarge carries size and limit and says so plainly", () => {
    const e = new FrameTooLarge(2147483648, 1048576);
    expect(e).toBeInstanceOf(CodecError);
    expect(e).toBeInstanceOf(Error);
    expect(e.code).toBe("FRAME_TOO_LARGE");
    expect(e.name).toBe("FrameTooLarge");
    expect([e.size, e.limit, e.atLeast]).toEqual([2147483648, 1048576, false]);
    expect(e.message).toBe("frame of 2147483648 bytes exceeds the 1048576-byte limit");
  });

  test("FrameTooLarge prints huge sizes as integers, and lower bounds as such", () => {
    expect(new FrameTooLarge(2 ** 60, 10).message).toBe("frame of 1152921504606846976 bytes exceeds the 10-byte limit");
    expect(new FrameTooLarge(11, 10, { atLeast: true }).message).toBe(
      "frame of at least 11 bytes exceeds the 10-byte limit",
    );
  });

  test("MalformedFrame and UnexpectedEof", () => {
    const m = new MalformedFrame("unknown message type 0x07");
    expect(m).toBeInstanceOf(CodecError);
    expect([m.code, m.name, m.message]).toEqual(["MALFORMED_FRAME", "MalformedFrame", "unknown message type 0x07"]);
    const u = new UnexpectedEof(3);
    expect(u).toBeInstanceOf(CodecError);
    expect([u.code, u.name, u.bytesLeft]).toEqual(["UNEXPECTED_EOF", "UnexpectedEof", 3]);
    expect(u.message).toBe("stream ended inside a frame: 3 bytes of an unfinished frame left");
    expect(new UnexpectedEof(1).message).toContain("1 byte of");
  });
});
