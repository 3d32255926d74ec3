// Architecture rules that must fail the build when broken.
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { expect, test } from "vitest";
import { VERSION } from "../../src/version.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    return e.isDirectory() ? tsFiles(p) : e.name.endsWith(".ts") ? [p] : [];
  });
}

/** Code without comments and string contents, so prose may mention Deno or Bun. */
function codeOnly(source: string): string {
  return source
    .replace(/\/\*[\s\S]*?\*\//g, "")
    .replace(/\/\/.*$/gm, "")
    .replace(/`(?:\\.|[^`\\])*`/g, "``")
    .replace(/"(?:\\.|[^"\\\n])*"/g, (s) => (s.startsWith('"node:') || s === '"bun"' ? s : '""'))
    .replace(/'(?:\\.|[^'\\\n])*'/g, (s) => (s.startsWith("'node:") || s === "'bun'" ? s : "''"));
}

test("src/ touches no runtime: no node:*, bun or npm: imports, no Deno/Bun/process/Buffer globals", () => {
  const offences: string[] = [];
  for (const file of tsFiles(join(ROOT, "src"))) {
    const code = codeOnly(readFileSync(file, "utf8"));
    const rules: [RegExp, string][] = [
      [/from\s+["'](node:|bun["']|npm:|jsr:)/, "imports a runtime module"],
      [/import\s*\(\s*["'](node:|bun["'])/, "imports a runtime module"],
      [/require\s*\(/, "uses require()"],
      [/\bDeno\s*\./, "uses Deno"],
      [/\bBun\s*\./, "uses Bun"],
      [/\bprocess\s*\./, "uses process"],
      [/\bBuffer\s*\./, "uses Buffer"],
      [/\bnew\s+Buffer\b/, "uses Buffer"],
    ];
    for (const [re, why] of rules) if (re.test(code)) offences.push(`${relative(ROOT, file)}: ${why}`);
  }
  expect(offences).toEqual([]);
});

test("relative imports in src/ and adapters/ carry .ts (Deno and Bun run the sources directly)", () => {
  const offences: string[] = [];
  for (const dir of ["src", "adapters"]) {
    for (const file of tsFiles(join(ROOT, dir))) {
      for (const m of readFileSync(file, "utf8").matchAll(/(?:from|import)\s*\(?\s*["'](\.[^"']*)["']/g)) {
        if (!m[1]!.endsWith(".ts")) offences.push(`${relative(ROOT, file)}: ${m[1]}`);
      }
    }
  }
  expect(offences).toEqual([]);
});

test("the rule checker itself catches a runtime import (it can fail)", () => {
  expect(codeOnly(`import x from "node:net";`)).toMatch(/from\s+["']node:/);
  expect(/\bDeno\s*\./.test(codeOnly(`const c = Deno.listen({port: 1});`))).toBe(true);
  expect(/\bDeno\s*\./.test(codeOnly(`// Deno.listen is not used here`))).toBe(false);
});

test("the version is the same in src/version.ts, package.json and deno.json", () => {
  const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string };
  const deno = JSON.parse(readFileSync(join(ROOT, "deno.json"), "utf8")) as { version: string };
  expect(pkg.version).toBe(VERSION);
  expect(deno.version).toBe(VERSION);
});

test("src/ and adapters/deno/ import only relative .ts files (deno run <url> and JSR need no node_modules or import map)", () => {
  const offences: string[] = [];
  for (const dir of ["src", "adapters/deno"]) {
    for (const file of tsFiles(join(ROOT, dir))) {
      const code = readFileSync(file, "utf8").replace(/\/\*[\s\S]*?\*\//g, "").replace(/\/\/.*$/gm, "");
      for (const m of code.matchAll(/(?:\bfrom|\bimport)\s*\(?\s*["']([^"']*)["']/g)) {
        if (!/^\.\.?\/.*\.ts$/.test(m[1]!)) offences.push(`${relative(ROOT, file)}: ${m[1]}`);
      }
    }
  }
  expect(offences).toEqual([]);
});
