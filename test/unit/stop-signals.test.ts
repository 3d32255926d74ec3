import { describe, expect, test } from "vitest";
import { REPEAT_WINDOW_MS, StopSignals } from "../../src/server/stop-signals.ts";

describe("stop signals", () => {
  test("first drains; a repeat within the window is the same request; a later one aborts", () => {
    const s = new StopSignals();
    expect(s.receive(1000)).toBe("drain");
    expect(s.receive(1000 + 5)).toBe("repeat"); // e.g. `deno task` forwarding the same Ctrl-C
    expect(s.receive(1000 + REPEAT_WINDOW_MS - 1)).toBe("repeat");
    expect(s.receive(1000 + REPEAT_WINDOW_MS)).toBe("abort");
    expect(s.receive(1000 + 10 * REPEAT_WINDOW_MS)).toBe("abort");
  });
});
