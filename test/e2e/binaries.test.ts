// The single executables, built the way a release is built and used like a user would:
// start the binary, echo through it over TCP, stop it with SIGTERM.
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { ROOT, runCli, startServer } from "../support/cli.ts";

const BUILD = join(ROOT, "build", "test");

const binaries: [string, () => string][] = [
  ["bun build --compile", () => {
    const out = join(BUILD, "switchboard-bun");
    execFileSync(
      join(ROOT, "node_modules/.bin/bun"),
      ["build", "--compile", "adapters/bun/main.ts", "--outfile", out],
      { cwd: ROOT, stdio: "pipe" },
    );
    return out;
  }],
  ["Node single-executable application", () => {
    const out = join(BUILD, "switchboard-node");
    execFileSync(process.execPath, [join(ROOT, "adapters/node/build-sea.mjs"), out], { cwd: ROOT, stdio: "pipe" });
    return out;
  }],
];

describe.each(binaries)("single binary from %s", (_name, build) => {
  test("builds, serves echo, talks to itself as a client, and stops cleanly", async () => {
    mkdirSync(BUILD, { recursive: true });
    const exe = build();
    expect(existsSync(exe)).toBe(true);
    const command: [string, string[]] = [exe, []];

    const version = await runCli("node", ["--version"], { command });
    expect(version.code).toBe(0);
    expect(version.stdout.toString()).toMatch(/^switchboard \d+\.\d+\.\d+/);

    const server = await startServer("node", ["--listen", "127.0.0.1:0"], { command });
    try {
      const payload = randomBytes(512 * 1024);
      const r = await runCli("node", ["send", server.addrs[0]!], { stdin: payload, command });
      expect(r.code).toBe(0);
      expect(Buffer.compare(r.stdout, payload)).toBe(0);
    } finally {
      expect((await server.stop()).code).toBe(0);
    }
  }, 120_000);
});
