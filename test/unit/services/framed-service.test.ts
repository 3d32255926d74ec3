// The framed-service helper as a library user meets it (issue 9, "the library surface"):
// a codec and a frame handler make a whole service. framed echo and the app service are
// built on it, so their suites cover it too; this file covers what they do not show.
import { describe, expect, test } from "vitest";
import { delimited } from "../../../src/codec/index.ts";
import { framedService } from "../../../src/services/framed.ts";
import { sleep, waitFor } from "../../support/sockets.ts";
import { serve, str, talk, text, trickle } from "./support.ts";

/** The uppercase line server: the whole service. */
const upper = framedService<Uint8Array, Uint8Array>({
  name: "upper",
  decoder: (ctx) => delimited({ maxLength: ctx.options.maxFrame }),
  handle: (line) => text(str(line).toUpperCase()),
});

describe("framedService", () => {
  test("a dozen lines make a line service: pipelined, trickled, ended after the half-close", async () => {
    const s = await serve(upper);
    try {
      const r = await talk(s.addr, [text("one\ntwo\nthr"), text("ee\nlast without newline")]);
      expect(str(r.received)).toBe("ONE\nTWO\nTHREE\nLAST WITHOUT NEWLINE\n");
      expect(r.gotEnd).toBe(true);
      const t = await trickle(s, text("slow\nly\n"));
      expect(str(t.received)).toBe("SLOW\nLY\n");
    } finally {
      await s.stop();
    }
  });

  test("onClose runs once per connection, whichever way it ended, with that connection's context", async () => {
    const closed: number[] = [];
    const opened: number[] = [];
    const s = await serve(framedService<Uint8Array, Uint8Array>({
      name: "tracked",
      decoder: (ctx) => {
        opened.push(ctx.id);
        return delimited({ maxLength: 8 });
      },
      handle: (line) => line,
      onClose: (ctx) => void closed.push(ctx.id),
    }));
    try {
      await talk(s.addr, [text("fine\n")]); // ends after the half-close
      await talk(s.addr, [text("far too long for it\n")]); // a codec error closes it
      await waitFor(() => closed.length === 2, "both closes");
      expect(closed.sort()).toEqual(opened.sort());
    } finally {
      await s.stop();
    }
  });

  test("an async handler's replies come back in frame order whatever their delays", async () => {
    const s = await serve(framedService<Uint8Array, Uint8Array>({
      name: "slow-upper",
      decoder: () => delimited(),
      handle: async (line) => {
        await sleep(Math.floor(Math.random() * 20));
        return text(str(line).toUpperCase());
      },
    }));
    try {
      const lines = Array.from({ length: 50 }, (_, i) => `line ${i}`);
      const r = await talk(s.addr, [text(lines.join("\n") + "\n")]);
      expect(str(r.received)).toBe(lines.map((l) => l.toUpperCase() + "\n").join(""));
    } finally {
      await s.stop();
    }
  });

  test("a codec error: the replies before it, the configured error reply, then a logged close", async () => {
    const s = await serve(
      framedService<Uint8Array, Uint8Array>({
        name: "upper",
        decoder: (ctx) => delimited({ maxLength: ctx.options.maxFrame }),
        handle: (line) => text(str(line).toUpperCase()),
        onDecodeError: (err) => text(err.code === "FRAME_TOO_LARGE" ? "TOO BIG" : "BAD"), // replies obey maxFrame too
      }),
      { maxFrame: 8 },
    );
    try {
      const before = s.server.counters.get("protocol-error");
      const r = await talk(s.addr, [text("ok\nmuch too long\nnever\n")], { halfClose: false });
      expect(str(r.received)).toBe("OK\nTOO BIG\n");
      expect(r.gotEnd).toBe(true);
      expect(s.server.counters.get("protocol-error")).toBe(before + 1);
    } finally {
      await s.stop();
    }
  });

  test("a handler that throws: the fallback reply, the cause logged, only that connection closed", async () => {
    const s = await serve(framedService<Uint8Array, Uint8Array>({
      name: "picky",
      decoder: () => delimited(),
      handle: (line) => {
        if (str(line) === "boom") throw new Error("cannot handle boom");
        return line;
      },
      onInternalError: () => text("ERR internal"),
    }));
    try {
      const r = await talk(s.addr, [text("a\nboom\nb\n")], { halfClose: false });
      expect(str(r.received)).toBe("a\nERR internal\n");
      expect(s.logs.join("")).toMatch(/picky request handler failed.*cannot handle boom/);
      const again = await talk(s.addr, [text("c\n")]);
      expect(str(again.received)).toBe("c\n");
    } finally {
      await s.stop();
    }
  });

  test("replies to the frames of one read go out in one write, past the in-flight bound", async () => {
    const s = await serve(upper, { maxInFlight: 4 });
    try {
      const r = await talk(s.addr, [text("x\n".repeat(500))]);
      expect(str(r.received)).toBe("X\n".repeat(500));
      expect(s.readState[0]!.writes, `${s.reads()} reads`).toBeLessThanOrEqual(s.reads());
    } finally {
      await s.stop();
    }
  });

  test("bad maxInFlight is refused when the service is made", () => {
    expect(() => framedService({ name: "x", decoder: () => delimited(), handle: (f) => f, maxInFlight: 0 })).toThrow(
      /maxInFlight/,
    );
  });
});
