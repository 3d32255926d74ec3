// Host.readFile failures read the same on every runtime (this run's real Host): Node says
// "ENOENT: no such file or directory, open '/x'", Deno "No such file or directory (os error
// 2): readfile '/x'", Bun "Directories cannot be read like files" for a directory.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import type { Host } from "../../src/host.ts";
import { loadRuntime } from "../support/runtime.ts";

let host: Host;
let dir: string;
beforeAll(async () => {
  host = (await loadRuntime()).host;
  dir = mkdtempSync(join(tmpdir(), "sb-host-errors-"));
  writeFileSync(join(dir, "file"), "x");
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const failure = (path: string) =>
  host.readFile(path).then(
    () => "read",
    (e: { name?: string; code?: string; message?: string; path?: string }) => [e.name, e.code, e.message, e.path],
  );

test("a missing file, a directory and a path through a file: FileError with the contract's code and sentence", async () => {
  const missing = join(dir, "missing");
  expect(await failure(missing)).toEqual(["FileError", "ENOENT", "no such file or directory (ENOENT)", missing]);
  expect(await failure(dir)).toEqual(["FileError", "EISDIR", "is a directory (EISDIR)", dir]);
  const through = join(dir, "file", "x");
  expect(await failure(through)).toEqual(["FileError", "ENOTDIR", "not a directory (ENOTDIR)", through]);
});
