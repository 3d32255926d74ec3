// Helpers for the distribution tests (npm package, deno run <url>): run a tool to
// completion, echo one message over TCP, and start a command in a given directory.
import { execFileSync } from "node:child_process";
import { cpSync, readFileSync, symlinkSync } from "node:fs";
import { createConnection } from "node:net";
import { join } from "node:path";
import { ROOT } from "./cli.ts";

export const BIN = `${ROOT}node_modules/.bin/`;

/** Run `cmd` to completion in `cwd`; throws with its output when it fails. */
export function run(
  cmd: string,
  args: string[],
  cwd: string,
  opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): string {
  try {
    return execFileSync(cmd, args, {
      cwd,
      env: opts.env ?? process.env,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
      timeout: opts.timeoutMs ?? 120_000,
    });
  } catch (err) {
    const e = err as { status?: number; stdout?: string; stderr?: string; message: string };
    throw new Error(
      `${cmd} ${args.join(" ")} failed (${e.status ?? e.message}):\n${e.stdout ?? ""}\n${e.stderr ?? ""}`,
    );
  }
}

/** Like `run`, but resolves with the exit code and output instead of throwing. */
export function tryRun(
  cmd: string,
  args: string[],
  cwd: string,
  opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): { code: number; output: string } {
  try {
    return { code: 0, output: run(cmd, args, cwd, opts) };
  } catch (err) {
    return { code: 1, output: (err as Error).message };
  }
}

/** Send `text` to 127.0.0.1:port, half-close, and resolve with everything sent back before the close. */
export function echoOnce(port: number, text: string, host = "127.0.0.1"): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = createConnection({ host, port }, () => s.end(text));
    let got = "";
    s.setEncoding("utf8");
    s.on("data", (d: string) => (got += d));
    s.on("error", reject);
    s.on("close", () => resolve(got));
    s.setTimeout(10_000, () => s.destroy(new Error(`no echo from ${host}:${port} within 10 s`)));
  });
}

/**
 * A `startServer` wrapper that runs the command in `cwd` with extra environment variables:
 * `env VAR=... sh -c 'cd DIR && exec "$@"' CMD ARGS` (exec: the server is the process stopped).
 */
export function inDir(cwd: string, env: Record<string, string> = {}): string[] {
  return ["env", ...Object.entries(env).map(([k, v]) => `${k}=${v}`), "sh", "-c", 'cd "$0" && exec "$@"', cwd];
}

/**
 * Remove npm's own `npm_*` variables from this test process (set when tests run under
 * `npm test`, e.g. npm_config_local_prefix): they would steer the npm and npx runs a test
 * starts in its temporary projects back to this repository.
 */
export function dropNpmEnv(): void {
  for (const k of Object.keys(process.env)) if (k.startsWith("npm_")) delete process.env[k];
}

/**
 * `npm pack` this package as a maintainer would publish it: in a clean copy of the sources
 * (`tmp`/checkout, no dist/: the prepack script must build one), into `tmp`.
 * Returns the checkout and the tarball's path.
 */
export function packPackage(tmp: string): { checkout: string; tarball: string } {
  const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { name: string; version: string };
  const checkout = join(tmp, "checkout");
  for (const f of ["package.json", "README.md", "tsconfig.json", "tsconfig.build.json", "docs", "src", "adapters"]) {
    cpSync(join(ROOT, f), join(checkout, f), { recursive: true });
  }
  symlinkSync(join(ROOT, "node_modules"), join(checkout, "node_modules")); // typescript for prepack
  run("npm", ["pack", "--pack-destination", tmp], checkout);
  return { checkout, tarball: join(tmp, `${pkg.name}-${pkg.version}.tgz`) };
}
