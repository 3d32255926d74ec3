// The command-line conventions every command shares: bundled short options, --opt=value,
// and one size parser with one error form and a range per option (issue 8).
import { describe, expect, test } from "vitest";
import { BUFFER_RANGE, type FlagSpec, parseArgs, sizeFlag, UsageError } from "../../src/cli/args.ts";
import { describeFailure, oneLine } from "../../src/cli/failure.ts";
import { formatSize, MAX_BUFFER_SIZE, parseSize, SizeError } from "../../src/size.ts";

const specs: FlagSpec[] = [
  { name: "no-newline", short: "n", kind: "boolean", help: "" },
  { name: "verbose", short: "v", kind: "boolean", help: "" },
  { name: "connections", short: "c", kind: "string", help: "" },
  { name: "max-frame", kind: "string", help: "", default: "1MiB" },
];

describe("short options bundle", () => {
  test.each([
    [["-nc", "2", "x"], { n: true, v: false, c: "2" }],
    [["-nvc2", "x"], { n: true, v: true, c: "2" }],
    [["-c2", "x"], { n: false, v: false, c: "2" }],
    [["-vn", "-c", "2", "x"], { n: true, v: true, c: "2" }],
    [["--connections=2", "x"], { n: false, v: false, c: "2" }],
  ])("%j", (argv, want) => {
    const p = parseArgs(argv, specs);
    expect(p.flags.has("no-newline")).toBe(want.n);
    expect(p.flags.has("verbose")).toBe(want.v);
    expect(p.flags.get("connections")).toEqual([want.c]);
    expect(p.positionals).toEqual(["x"]);
  });

  test.each([
    [["-nx"], /unknown option "-x" in "-nx"/],
    [["-nc"], /option "--connections" needs a value/],
    [["-nn"], /option "--no-newline" given more than once/],
    [["--no-newline=1"], /takes no value/],
  ])("rejects %j", (argv, message) => {
    expect(() => parseArgs(argv, specs)).toThrow(UsageError);
    expect(() => parseArgs(argv, specs)).toThrow(message);
  });

  test("a negative number and a lone dash stay positional", () => {
    expect(parseArgs(["-5", "-"], specs).positionals).toEqual(["-5", "-"]);
  });
});

describe("sizes", () => {
  test.each([
    ["65536", 65536],
    ["0", 0],
    ["64KiB", 65536],
    ["64kib", 65536],
    ["1MiB", 2 ** 20],
    ["1GiB", 2 ** 30],
    ["4GiB", 2 ** 32],
    ["64KB", 64_000],
    ["1MB", 1_000_000],
    ["1mb", 1_000_000],
    ["1GB", 1_000_000_000],
    ["10B", 10],
    ["2 MiB", 2 * 2 ** 20],
  ])("%s = %d bytes", (text, bytes) => expect(parseSize(text)).toBe(bytes));

  test.each(["1TB", "1m", "64k", "1.5MiB", "-1", "", "MiB", "1 parsec", "0x10"])("rejects %j", (text) => {
    expect(() => parseSize(text)).toThrow(SizeError);
    expect(() => parseSize(text)).toThrow(`bad size "${text}" (expected e.g. 65536, 64KiB, 1MiB, 1MB)`);
  });

  test("digits beyond a safe integer are above every limit, never rounded into range", () => {
    expect(parseSize("99999999999999999999")).toBe(Infinity);
    expect(parseSize("9007199254740993")).toBe(Infinity);
  });

  test("formats back", () => {
    for (const n of [1, 1000, 1024, 65536, 2 ** 20, 1_000_000, 2 ** 32]) expect(parseSize(formatSize(n))).toBe(n);
    expect(formatSize(MAX_BUFFER_SIZE)).toBe("4GiB");
  });

  const flag = (value: string) => sizeFlag(parseArgs(["--max-frame", value], specs), "max-frame", BUFFER_RANGE);
  test("sizeFlag names the option and the limit", () => {
    expect(flag("4GiB")).toBe(2 ** 32);
    expect(() => flag("1TB")).toThrow('--max-frame: bad size "1TB" (expected e.g. 65536, 64KiB, 1MiB, 1MB)');
    expect(() => flag("0")).toThrow('--max-frame: must be at least 1 byte, not "0"');
    expect(() => flag("99999999999999999999")).toThrow(
      '--max-frame: must be at most 4GiB (4294967296 bytes), not "99999999999999999999"',
    );
    expect(() => flag("4294967297")).toThrow(/at most 4GiB/);
    expect(() => flag("5GB")).toThrow(UsageError);
  });
});

describe("failure lines", () => {
  test("a usage error points at the command's help; anything else is exit 1; always one line", () => {
    expect(describeFailure(new UsageError('unknown option "--frob"'), "serve")).toEqual({
      code: 2,
      message: `unknown option "--frob" (see 'switchboard serve --help')`,
    });
    expect(describeFailure(new UsageError("x"))).toEqual({ code: 2, message: "x (see 'switchboard --help')" });
    expect(describeFailure(new Error("cannot\nlisten\r\n"), "serve")).toEqual({ code: 1, message: "cannot listen" });
    expect(oneLine('a "{\n  x\n}"\u0007')).toBe('a "{ x }"');
  });
});
