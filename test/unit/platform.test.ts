// `switchboard --version` names the platform the way release file names do
// (linux-x64, darwin-arm64, windows-x64), whichever runtime's spelling the host started from.
import { expect, test } from "vitest";
import { archName, platformName } from "../../src/platform.ts";
import { runCli } from "../../src/cli/main.ts";
import { VERSION } from "../../src/version.ts";
import type { Host } from "../../src/host.ts";
import { loadRuntime } from "../support/runtime.ts";

test("runtime spellings map to release names", () => {
  expect(["linux", "darwin", "win32", "windows", "freebsd"].map(platformName)).toEqual(
    ["linux", "darwin", "windows", "windows", "freebsd"],
  );
  expect(["x64", "x86_64", "arm64", "aarch64", "riscv64"].map(archName)).toEqual(
    ["x64", "x64", "arm64", "arm64", "riscv64"],
  );
});

test("this runtime's host reports the platform the process runs on", async () => {
  const { host } = await loadRuntime();
  // process.platform/arch exist on all three runtimes (Deno's Node compatibility); Deno's
  // host reads Deno.build instead, so this checks its mapping too.
  expect(`${host.platform}-${host.arch}`).toBe(`${platformName(process.platform)}-${archName(process.arch)}`);
});

test("--version prints version, runtime and platform on one line", async () => {
  const rt = await loadRuntime();
  let out = "";
  const host: Host = {
    ...rt.host,
    args: ["--version"],
    stdout: {
      write: (d) => Promise.resolve(void (out += typeof d === "string" ? d : new TextDecoder().decode(d))),
      isTerminal: () => false,
    },
  };
  expect(await runCli({ transport: rt.transport, host })).toBe(0);
  expect(out).toBe(`switchboard ${VERSION} (${rt.host.runtimeVersion}, ${rt.host.platform}-${rt.host.arch})\n`);
  expect(out).toMatch(/^switchboard \d+\.\d+\.\d+ \((node|deno|bun) \d+\.\d+\.\d+, [a-z0-9]+-[a-z0-9]+\)\n$/);
});
