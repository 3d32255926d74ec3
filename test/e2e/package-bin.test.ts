// The package's `bin.switchboard` is what `npx switchboard` and a global install run:
// it must name the compiled Node entry, start with a node shebang, and work.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expect, test } from "vitest";
import { ROOT, runCli } from "../support/cli.ts";

test("package.json bin.switchboard is the built Node CLI", async () => {
  const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as {
    version: string;
    bin: Record<string, string>;
  };
  const bin = pkg.bin.switchboard;
  expect(bin, "bin.switchboard").toBeDefined();
  const file = join(ROOT, bin!);
  expect(readFileSync(file, "utf8").split("\n")[0]).toBe("#!/usr/bin/env node");
  const r = await runCli("node", ["--version"], { command: [process.execPath, [file]] });
  expect(r.code).toBe(0);
  expect(r.stdout.toString()).toMatch(new RegExp(`^switchboard ${pkg.version.replace(/\./g, "\\.")} .*node`));
});
