// Parsers for what users type: addresses, durations, sizes, flags.
import { describe, expect, test } from "vitest";
import { acceptedLocal, AddrError, formatAddr, parseAddr, tcpEndpoint } from "../../src/addr.ts";
import { formatDuration, parseDuration } from "../../src/duration.ts";
import { parseArgs, parseSize, UsageError } from "../../src/cli/args.ts";
import { defaultMaxConns } from "../../src/server/options.ts";
import { parseOpenFileLimit } from "../../src/adapter-kit/fd-limit.ts";

describe("addresses", () => {
  test.each([
    ["127.0.0.1:7007", { transport: "tcp", hostname: "127.0.0.1", port: 7007 }],
    ["localhost:0", { transport: "tcp", hostname: "localhost", port: 0 }],
    [":9000", { transport: "tcp", hostname: "127.0.0.1", port: 9000 }],
    ["9000", { transport: "tcp", hostname: "127.0.0.1", port: 9000 }],
    ["[::1]:80", { transport: "tcp", hostname: "::1", port: 80 }],
    ["[::]:65535", { transport: "tcp", hostname: "::", port: 65535 }],
    ["0.0.0.0:1", { transport: "tcp", hostname: "0.0.0.0", port: 1 }],
    ["unix:/tmp/x.sock", { transport: "unix", path: "/tmp/x.sock" }],
  ])("%s", (text, want) => {
    expect(parseAddr(text)).toEqual(want);
    expect(parseAddr(formatAddr(parseAddr(text)))).toEqual(want);
  });

  test("an endpoint the runtime could not tell (a peer that reset before accept) prints as unknown", () => {
    expect(tcpEndpoint(undefined, undefined)).toEqual({ transport: "tcp", hostname: "", port: 0 });
    expect(tcpEndpoint("", 0)).toEqual({ transport: "tcp", hostname: "", port: 0 });
    expect(formatAddr(tcpEndpoint(undefined, 5))).toBe("unknown");
    expect(formatAddr(tcpEndpoint("::1", 80))).toBe("[::1]:80");
    expect(() => parseAddr("unknown")).toThrow(AddrError); // never mistaken for an address
  });

  test("a one-address listener's connections share its local address; a wildcard's do not", () => {
    const one = { transport: "tcp", hostname: "127.0.0.3", port: 7 } as const;
    expect(acceptedLocal(one)).toBe(one);
    expect(acceptedLocal({ transport: "tcp", hostname: "::1", port: 7 })).toEqual({
      transport: "tcp",
      hostname: "::1",
      port: 7,
    });
    for (const hostname of ["0.0.0.0", "::", ""]) {
      expect(acceptedLocal({ transport: "tcp", hostname, port: 7 })).toBe(undefined);
    }
    expect(acceptedLocal({ transport: "unix", path: "/tmp/s" })).toBe(undefined);
  });

  test.each(["", "host", "host:", "host:x", "1.2.3.4:65536", "::1:80", "[::1]", "[::1]80", "unix:", " :80"])(
    "rejects %j with a clear message",
    (text) => {
      expect(() => parseAddr(text)).toThrow(AddrError);
      expect(() => parseAddr(text)).toThrow(/bad address/);
    },
  );
});

describe("durations", () => {
  test.each([["0", 0], ["500ms", 500], ["5s", 5000], ["2m", 120_000], ["1h", 3_600_000], ["1.5s", 1500], ["0s", 0]])(
    "%s = %d ms",
    (text, ms) => expect(parseDuration(text)).toBe(ms),
  );
  test.each(["5", "-1s", "5 parsecs", "s", "", "0.4ms", "600h", "25d"])("rejects %j", (text) => {
    expect(() => parseDuration(text)).toThrow(/bad duration/);
  });
  test("the longest accepted duration is the longest a timer honours", () => {
    expect(parseDuration("596h")).toBe(596 * 3_600_000);
    expect(() => parseDuration("597h")).toThrow(/24-day maximum/);
  });
  test("formats back", () => {
    for (const ms of [0, 250, 1000, 60_000, 90_000, 3_600_000]) expect(parseDuration(formatDuration(ms))).toBe(ms);
  });
});

describe("sizes and flags", () => {
  test("sizes", () => {
    expect(parseSize("65536")).toBe(65536);
    expect(parseSize("64KiB")).toBe(65536);
    expect(parseSize("1MiB")).toBe(1 << 20);
    expect(() => parseSize("1 parsec")).toThrow(UsageError);
  });

  const specs = [
    { name: "listen", short: "l", kind: "string", repeatable: true, help: "" },
    { name: "quiet", short: "q", kind: "boolean", help: "" },
    { name: "mode", kind: "string", help: "", default: "a" },
  ] as const;
  test("parses long, short, inline, repeatable and boolean flags", () => {
    const p = parseArgs(["-l", "a:1", "--listen=b:2", "pos", "-q", "--", "--not-a-flag"], specs);
    expect(p.flags.get("listen")).toEqual(["a:1", "b:2"]);
    expect(p.flags.get("quiet")).toEqual(["true"]);
    expect(p.flags.get("mode")).toEqual(["a"]);
    expect(p.positionals).toEqual(["pos", "--not-a-flag"]);
  });
  test.each([
    [["--nope"], /unknown option "--nope"/],
    [["-x"], /unknown option "-x"/],
    [["--listen"], /needs a value/],
    [["--mode", "a", "--mode", "b"], /more than once/],
    [["--quiet=yes"], /takes no value/],
  ])("rejects %j", (argv, message) => {
    expect(() => parseArgs(argv, specs)).toThrow(message);
  });
});

describe("max connections default", () => {
  test("derives from the open-file limit with headroom", () => {
    expect(defaultMaxConns(1024)).toBe(889);
    expect(defaultMaxConns(64)).toBe(25);
    expect(defaultMaxConns(undefined)).toBe(4096);
    expect(defaultMaxConns(10)).toBe(1);
  });
  test("reads the soft limit from /proc/self/limits text", () => {
    const text =
      "Limit                     Soft Limit           Hard Limit           Units\nMax open files            1024                 524288               files\n";
    expect(parseOpenFileLimit(text)).toBe(1024);
    expect(parseOpenFileLimit("Max open files            unlimited            unlimited            files\n"))
      .toBeUndefined();
    expect(parseOpenFileLimit("")).toBeUndefined();
  });
});
