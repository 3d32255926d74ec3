// The npm package as a user gets it. `npm pack` runs in a clean copy of the sources (no
// dist/: its prepack script must build one); the tarball is installed offline, with an
// empty npm cache, into an empty project, globally with --prefix, and run through npx. Its
// `switchboard` bin serves echo over TCP on Node, Bun and Deno; a consumer file importing
// the library (the core, each runtime's entry with its serve(), and switchboard/cli)
// type-checks with tsc --strict (nodenext) and serves echo on all three.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type CliRuntime, descendants, ROOT, startServer } from "../support/cli.ts";
import { BIN, dropNpmEnv, echoOnce, inDir, packPackage, run, tryRun } from "../support/package.ts";
import { waitFor } from "../support/sockets.ts";
import { CONSUMER, CONSUMER_WITH_TYPE_ERRORS } from "./package-consumer.ts";

dropNpmEnv();
const PKG = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { name: string; version: string };
const NAME = PKG.name;

let tmp = "";
let tarball = "";
let project = ""; // an empty project with the tarball installed
let npmCache = ""; // empty at first: with --offline, nothing can come from the registry
let checkout = ""; // a clean copy of the sources the package is built from

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), "sb-package-"));
  ({ checkout, tarball } = packPackage(tmp));
  npmCache = join(tmp, "npm-cache");
  project = join(tmp, "project");
  mkdirSync(project);
  writeFileSync(join(project, "package.json"), JSON.stringify({ name: "consumer", private: true, type: "module" }));
  run("npm", ["install", "--offline", "--cache", npmCache, "--no-audit", "--no-fund", tarball], project);
}, 180_000);

afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

/** Start `switchboard serve` through `command` (in `cwd`), echo through it, stop it: exit 0. */
async function serveAndEcho(
  runtime: CliRuntime,
  command: [string, string[]],
  cwd: string,
  env: Record<string, string> = {},
): Promise<void> {
  const server = await startServer(runtime, ["--listen", "127.0.0.1:0"], {
    command,
    wrap: inDir(cwd, env),
    startTimeoutMs: 60_000,
  });
  try {
    expect(server.log()).toContain(`runtime=${runtime}`);
    expect(await echoOnce(server.port, `hello through the package on ${runtime}\n`)).toBe(
      `hello through the package on ${runtime}\n`,
    );
  } finally {
    expect((await server.stop()).code).toBe(0);
  }
}

test("the tarball is publishable: built JS, declarations and the bin; no sources or tests", () => {
  const files = run("tar", ["-tzf", tarball], tmp).split("\n").filter(Boolean);
  for (
    const f of [
      "dist/adapters/bin.js",
      "dist/src/index.js",
      "dist/src/index.d.ts",
      "dist/src/cli/index.js",
      "dist/src/cli/index.d.ts",
      "README.md",
      "package.json",
    ]
  ) {
    expect(files).toContain(`package/${f}`);
  }
  for (const rt of ["node", "bun", "deno"]) {
    expect(files).toContain(`package/dist/adapters/${rt}/index.js`);
    expect(files).toContain(`package/dist/adapters/${rt}/index.d.ts`);
  }
  expect(files.filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts"))).toEqual([]);
  expect(files.filter((f) => f.startsWith("package/test/") || f.startsWith("package/docs/examples/"))).toEqual([]);
  const installed = JSON.parse(readFileSync(join(project, "node_modules", NAME, "package.json"), "utf8"));
  expect(installed.private).toBeUndefined();
  expect(installed.dependencies ?? {}).toEqual({}); // why an offline install can work
  expect(readFileSync(join(project, "node_modules", NAME, installed.bin.switchboard), "utf8")).toMatch(
    /^#!\/usr\/bin\/env node\n/,
  );
});

test("npm publish --dry-run accepts the package (offline; `private` is checked with the tarball above)", () => {
  const out = run("npm", ["publish", "--dry-run", "--offline", "--ignore-scripts"], checkout);
  expect(out).toContain(`+ ${NAME}@${PKG.version}`);
});

describe("the installed bin serves echo over TCP", () => {
  test("node: node_modules/.bin/switchboard serve", async () => {
    await serveAndEcho("node", [join(project, "node_modules/.bin/switchboard"), []], project);
  });
  test("bun: bun x --bun switchboard serve", async () => {
    await serveAndEcho("bun", [`${BIN}bun`, ["x", "--bun", "switchboard"]], project);
  });
  test(`deno: deno run --allow-net npm:${NAME} serve (from the project's node_modules)`, async () => {
    await serveAndEcho("deno", [`${BIN}deno`, ["run", "--allow-net", `npm:${NAME}`]], project, {
      DENO_DIR: join(tmp, "deno-dir"),
    });
  });
});

test("npx --package <tarball> switchboard serve, from an empty directory, offline; Ctrl-C stops it", async () => {
  const empty = join(tmp, "empty");
  mkdirSync(empty, { recursive: true });
  const server = await startServer("node", ["--listen", "127.0.0.1:0"], {
    command: ["npx", ["--yes", "--offline", "--cache", npmCache, "--package", tarball, "switchboard"]],
    wrap: inDir(empty),
    startTimeoutMs: 90_000, // npx unpacks and installs the tarball first (about 10 s here)
  });
  const npm = server.child.pid!;
  try {
    expect(server.log()).toContain("runtime=node");
    expect(await echoOnce(server.port, "hello through npx\n")).toBe("hello through npx\n");
  } finally {
    // What Ctrl-C in a terminal does: SIGINT to npm and everything it started. (npm exec
    // does not pass a SIGTERM sent to npm alone on to the server: see the README.)
    for (const pid of [...descendants(npm), npm]) {
      try {
        process.kill(pid, "SIGINT");
      } catch {
        // already gone
      }
    }
    await server.exited;
  }
  expect(server.log()).toMatch(/shutting down signal=SIGINT[\s\S]*stopped accepted=1/);
}, 120_000);

test("npm i -g --prefix DIR <tarball> gives a `switchboard` command on PATH", async () => {
  const prefix = join(tmp, "global");
  run("npm", [
    "install",
    "-g",
    "--offline",
    "--cache",
    npmCache,
    "--no-audit",
    "--no-fund",
    "--prefix",
    prefix,
    tarball,
  ], tmp);
  expect(existsSync(join(prefix, "bin", "switchboard"))).toBe(true);
  await serveAndEcho("node", ["switchboard", []], tmp, { PATH: `${join(prefix, "bin")}:${process.env.PATH}` });
});

describe("a consumer file importing the library", () => {
  const tsc = `${ROOT}node_modules/typescript/bin/tsc`;
  const flags = ["--strict", "--module", "nodenext", "--moduleResolution", "nodenext", "--target", "es2022"];

  test(`type-checks with tsc --strict against ${NAME}, ${NAME}/node, /bun, /deno and /cli (and a wrong use fails)`, () => {
    writeFileSync(join(project, "consumer.ts"), CONSUMER);
    writeFileSync(join(project, "wrong.ts"), CONSUMER_WITH_TYPE_ERRORS);
    // No @types/node: the package's declarations must stand on their own.
    run(process.execPath, [tsc, ...flags, "--lib", "es2022", "--types", "", "--outDir", "out", "consumer.ts"], project);
    const wrong = tryRun(process.execPath, [tsc, ...flags, "--types", "", "--noEmit", "wrong.ts"], project);
    expect(wrong.code).toBe(1);
    expect(wrong.output).toContain("TS2322"); // a Transport is not a number: the types are real, not any
    expect(wrong.output).toContain("TS2305"); // no such export
    expect(wrong.output).toMatch(/has no exported member '?runCli/); // the core entry has no CLI
  });

  const runs: [CliRuntime, () => [string, string[]]][] = [
    ["node", () => [process.execPath, [join(project, "out/consumer.js")]]],
    ["bun", () => [`${BIN}bun`, [join(project, "consumer.ts")]]],
    ["deno", () => [`${BIN}deno`, ["run", "--allow-net", join(project, "consumer.ts")]]],
  ];
  test.each(runs)(
    "serves echo on %s with that runtime's adapter, by Server and by serve()",
    async (runtime, command) => {
      expect(existsSync(join(project, "out/consumer.js")), "needs the type-check test's output").toBe(true);
      const server = await startServer(runtime, [], {
        command: command(),
        wrap: inDir(project, { DENO_DIR: join(tmp, "deno-dir") }),
        startTimeoutMs: 60_000,
      });
      try {
        expect(server.log()).toContain(`runtime=${runtime}`);
        await waitFor(() => server.addrs.length === 2, "the listening line of serve()");
        for (const addr of server.addrs) {
          const port = Number(addr.slice(addr.lastIndexOf(":") + 1));
          expect(await echoOnce(port, "hello, library\n")).toBe("hello, library\n");
        }
      } finally {
        server.child.stdin!.end(); // the consumer stops at EOF on stdin
        expect((await server.exited).code).toBe(0);
      }
    },
  );
});
