// The README's start commands, run the way a user types them in a terminal: `npm start`
// and `deno task start` with no arguments, in a copy of the project (so the build that
// `npm start` runs cannot disturb the dist/ other tests use). The server must listen on
// the documented default address, echo, and on Ctrl-C (SIGINT to the whole foreground
// process group, wrapper included) drain and stop gracefully.
import { type ChildProcess, spawn } from "node:child_process";
import { cpSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import * as net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { ROOT } from "../support/cli.ts";
import { waitFor } from "../support/sockets.ts";

/** The README's default: echo on 127.0.0.1:7007. */
const DEFAULT_PORT = 7007;

let copy: string;

beforeAll(() => {
  copy = mkdtempSync(join(tmpdir(), "sb-quick-start-"));
  for (const f of ["package.json", "tsconfig.json", "tsconfig.build.json", "deno.json", "src", "adapters"]) {
    cpSync(join(ROOT, f), join(copy, f), { recursive: true });
  }
  symlinkSync(join(ROOT, "node_modules"), join(copy, "node_modules"));
});
afterAll(() => rmSync(copy, { recursive: true, force: true }));

interface Started {
  child: ChildProcess;
  log(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Start `cmd` as the leader of its own process group, as a shell does for a foreground job. */
function startJob(cmd: string, args: string[]): Started {
  const child = spawn(cmd, args, { cwd: copy, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  let log = "";
  child.stdout!.on("data", (b: Buffer) => (log += b.toString()));
  child.stderr!.on("data", (b: Buffer) => (log += b.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on("close", (code, signal) => resolve({ code, signal }))
  );
  return { child, log: () => log, exited };
}

function signalGroup(job: Started, signal: NodeJS.Signals): void {
  try {
    process.kill(-job.child.pid!, signal);
  } catch {
    // the group is gone
  }
}

function echoOnce(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: "127.0.0.1", port });
    let got = "";
    socket.setEncoding("utf8");
    socket.on("data", (d: string) => (got += d));
    socket.on("error", reject);
    socket.on("close", () => resolve(got));
    socket.end(text);
  });
}

const jobs: [string, string, string[]][] = [
  ["npm start", "npm", ["start"]],
  ["deno task start", join(ROOT, "node_modules/.bin/deno"), ["task", "start"]],
];

/** The default port must be free: say so plainly instead of failing on someone else's server. */
function assertDefaultPortFree(): Promise<void> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once("error", (err: NodeJS.ErrnoException) =>
      reject(
        new Error(
          `127.0.0.1:${DEFAULT_PORT} is in use (${err.code}): stop whatever listens there (a quick-start ` +
            "server still running?) — this test starts the README's commands on the default port",
        ),
      ));
    probe.listen(DEFAULT_PORT, "127.0.0.1", () => probe.close(() => resolve()));
  });
}

describe.each(jobs)("quick start: %s", (_name, cmd, args) => {
  test("listens on the default address, echoes, and Ctrl-C drains and stops it", async () => {
    await assertDefaultPortFree();
    const job = startJob(cmd, args);
    try {
      await waitFor(
        () => job.log().includes(`listening addr=127.0.0.1:${DEFAULT_PORT}`) || job.child.exitCode !== null,
        "the listening line",
        60_000,
      );
      expect(job.log(), "listening on the documented default").toContain(`listening addr=127.0.0.1:${DEFAULT_PORT}`);
      expect(await echoOnce(DEFAULT_PORT, "hello from the quick start\n")).toBe("hello from the quick start\n");

      signalGroup(job, "SIGINT"); // what the terminal does on Ctrl-C
      const exit = await Promise.race([
        job.exited,
        new Promise<undefined>((r) => setTimeout(() => r(undefined), 15_000)),
      ]);
      expect(exit, "stopped after Ctrl-C").toBeDefined();
      const log = job.log();
      expect(log).toMatch(/shutting down signal=SIGINT/);
      expect(log, "a graceful drain, not the second-signal hard stop").not.toMatch(/second signal/);
      expect(log).toMatch(/stopped accepted=1 /);
    } finally {
      signalGroup(job, "SIGKILL");
    }
  }, 90_000);
});
