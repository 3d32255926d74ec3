// The JSR package (deno.json): `deno publish --dry-run` builds it, type-checks it and applies
// JSR's rules (no slow types, a license) without uploading. It needs no network here.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, test } from "vitest";
import { ROOT, runCli } from "../support/cli.ts";
import { BIN, inDir } from "../support/package.ts";

test("deno publish --dry-run passes; the package holds src/, adapters/deno/ and the docs only", async () => {
  const denoDir = mkdtempSync(join(tmpdir(), "sb-jsr-"));
  try {
    const [cmd, ...pre] = inDir(ROOT, { DENO_DIR: denoDir, NO_COLOR: "1" });
    // --allow-dirty: a working tree with uncommitted changes may be checked too.
    const r = await runCli("deno", [], {
      command: [cmd!, [...pre, `${BIN}deno`, "publish", "--dry-run", "--allow-dirty"]],
      timeoutMs: 120_000,
    });
    const out = r.stdout.toString() + r.stderr;
    expect(r.code, out).toBe(0);
    expect(out).toContain("Dry run complete");
    const files = [...out.matchAll(/file:\/\/\S+/g)].map((m) => m[0].slice(`file://${ROOT}`.length));
    for (const f of ["src/index.ts", "adapters/deno/index.ts", "adapters/deno/main.ts", "README.md"]) {
      expect(files).toContain(f);
    }
    expect(files.filter((f) => !/^(src\/|adapters\/deno\/|docs\/|README\.md$|deno\.json$)/.test(f))).toEqual([]);
    // The examples import the npm package by name: they are for copying, not for JSR.
    expect(files.filter((f) => f.startsWith("docs/examples/"))).toEqual([]);
  } finally {
    rmSync(denoDir, { recursive: true, force: true });
  }
});

test("every type a public signature mentions is exported from its entry (deno doc --lint: no private-type-ref)", async () => {
  const denoDir = mkdtempSync(join(tmpdir(), "sb-doc-"));
  try {
    const entries = ["src/index.ts", "src/cli/index.ts", "adapters/node/index.ts", "adapters/bun/index.ts"];
    const [cmd, ...pre] = inDir(ROOT, { DENO_DIR: denoDir, NO_COLOR: "1" });
    const r = await runCli("deno", [], {
      command: [cmd!, [...pre, `${BIN}deno`, "doc", "--lint", ...entries, "adapters/deno/index.ts"]],
      timeoutMs: 120_000,
    });
    const out = r.stdout.toString() + r.stderr;
    expect(out).toMatch(/missing-jsdoc|Checked/); // it ran and linted (missing JSDoc is not checked here)
    const privateRefs = out.split("\n").filter((l) =>
      l.includes("private-type-ref") || l.includes("references private")
    );
    expect(privateRefs).toEqual([]);
  } finally {
    rmSync(denoDir, { recursive: true, force: true });
  }
});
