// Server options (issue 9, defect 3): defaults merged field by field (an `undefined`
// never lifts a limit), every value validated with an error that names the option.
import { beforeAll, describe, expect, test } from "vitest";
import { Server } from "../../src/server/server.ts";
import { defaultOptions, OPTION_RANGES, resolveOptions, type ServerOptions } from "../../src/server/options.ts";
import { echoService } from "../../src/services/echo.ts";
import type { Transport } from "../../src/transport.ts";
import { loadRuntime } from "../support/runtime.ts";
import { LOOPBACK, waitFor } from "../support/sockets.ts";

let t: Transport;
beforeAll(async () => {
  t = (await loadRuntime()).transport;
});

const server = (options: Partial<ServerOptions>, openFileLimit?: number) =>
  new Server({ transport: t, service: echoService, options, openFileLimit });

const KEYS = Object.keys(OPTION_RANGES) as (keyof ServerOptions)[];

describe("undefined keeps the default", () => {
  test.each(KEYS)("%s: undefined", (key) => {
    const s = server({ [key]: undefined }, 5000);
    expect(s.options[key]).toBe(defaultOptions(5000)[key]);
  });

  test("{ maxConns: undefined } still caps connections (real sockets)", async () => {
    // openFileLimit 40 gives a default cap of max(1, 36 - 32) = 4.
    const s = server({ maxConns: undefined, idleMs: undefined }, 40);
    expect(s.options.maxConns).toBe(4);
    expect(s.options.idleMs).toBe(60_000);
    const l = await s.listen(LOOPBACK);
    const conns = [];
    for (let i = 0; i < 5; i++) {
      conns.push(await t.connect({ addr: l.addr }, { data() {}, close() {} }).catch(() => undefined));
    }
    await waitFor(() => s.counters.get("max-conns") === 1, "the fifth connection refused");
    expect(s.stats().connections).toBe(4);
    for (const c of conns) c?.close("abort");
    await s.shutdown();
  });
});

describe("bad values are refused, naming the option", () => {
  const BAD: unknown[] = [NaN, -1, 1.5, Infinity, 2 ** 53, "5", null];
  for (const key of KEYS) {
    test.each(BAD)(`${key}: %s`, (value) => {
      const want = new RegExp(`^${key} must be a whole number (>= \\d+|from \\d+ to \\d+), got `);
      expect(() => server({ [key]: value } as Partial<ServerOptions>)).toThrow(want);
    });
  }

  test("the message and error class for the common case", () => {
    expect(() => server({ maxConns: NaN })).toThrow(new RangeError("maxConns must be a whole number >= 1, got NaN"));
    expect(() => server({ maxConns: 0 })).toThrow(RangeError);
    expect(() => server({ writeBuffer: 0 })).toThrow(/^writeBuffer must be a whole number >= 1, got 0$/);
    expect(() => server({ idleMs: "5s" as never })).toThrow(TypeError);
    expect(() => server({ drainMs: 2 ** 31 })).toThrow(/^drainMs must be a whole number from 0 to 2147483647/);
  });

  test("an unknown option (a misspelt limit) is refused, not ignored", () => {
    expect(() => server({ maxconns: 10 } as never)).toThrow(/unknown server option "maxconns"/);
  });

  test("the edges of each range are accepted", () => {
    for (const key of KEYS) {
      const { min, max } = OPTION_RANGES[key];
      expect(resolveOptions({ [key]: min })[key]).toBe(min);
      expect(resolveOptions({ [key]: max })[key]).toBe(max);
    }
  });
});
