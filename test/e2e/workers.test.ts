// `serve --workers N` with the real CLI on every runtime (issue 12): connections land on
// every worker, a worker killed with SIGKILL loses only its own connections and is
// replaced, SIGTERM to the supervisor drains what is in flight and exits 0, a crash loop
// is capped, and start-up stays all or nothing.
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import * as net from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
  CLI_RUNTIMES,
  type CliRuntime,
  descendants,
  ROOT,
  runCli,
  type RunningServer,
  startServer,
} from "../support/cli.ts";
import { waitFor, withTimeout } from "../support/sockets.ts";
import { clientsOnWorkers, records, roundTrip, workerPids } from "../support/workers.ts";
import { busyPortForSuite } from "../support/ports.ts";
import { serverHasRead } from "../support/reliability/procfs.ts";

const ARGS = ["--workers", "2", "--listen", "127.0.0.1:0", "--log-format", "json", "--log-level", "debug"];

const busyPort = busyPortForSuite();

/** Whether `pid` is alive and is `parent`'s descendant. */
function isChildOf(pid: number, parent: RunningServer): boolean {
  return descendants(parent.child.pid!).includes(pid);
}

/** Whether process `pid` still runs (Linux /proc; a zombie waiting to be reaped does not). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}

describe.each(CLI_RUNTIMES)("serve --workers on %s", (rt) => {
  test("connections land on both workers, each a process of its own under the supervisor", async () => {
    const server = await startServer(rt, ARGS);
    try {
      expect(records(server).find((r) => r.msg === "listening")).toMatchObject({ workers: 2, runtime: rt });
      const clients = await clientsOnWorkers(server, [1, 2], 2);
      for (const c of clients) await roundTrip(c, `hello ${c.socket.localPort}`);
      const [p1, p2] = [workerPids(server, 1).at(-1)!, workerPids(server, 2).at(-1)!];
      expect(p1).not.toBe(p2);
      expect(isChildOf(p1, server) && isChildOf(p2, server), "both workers are the supervisor's children").toBe(true);
      for (const c of clients) c.socket.destroy();
    } finally {
      expect((await server.stop()).code).toBe(0);
    }
    // Every line but the supervisor's own names the worker that wrote it.
    const own = new Set(["worker started", "listening", "shutting down", "stopped"]);
    const fromWorkers = records(server).filter((r) => !(own.has(r.msg as string) && r.worker === undefined));
    expect(fromWorkers.map((r) => r.msg)).toEqual(expect.arrayContaining(["conn-open", "conn-close", "stopped"]));
    expect(fromWorkers.filter((r) => r.worker !== 1 && r.worker !== 2)).toEqual([]);
  });

  test("SIGKILL of one worker closes only its connections, and a replacement takes new ones", async () => {
    const server = await startServer(rt, ARGS);
    try {
      const clients = await clientsOnWorkers(server, [1, 2], 2);
      const victim = workerPids(server, 1).at(-1)!;
      process.kill(victim, "SIGKILL");
      const [lost, kept] = [clients.filter((c) => c.worker === 1), clients.filter((c) => c.worker === 2)];
      await withTimeout(Promise.all(lost.map((c) => c.closed)), 10_000, "worker 1's connections to close");
      for (const c of kept) {
        expect(c.isClosed(), "a connection of worker 2").toBe(false);
        await roundTrip(c, "still here");
      }
      await waitFor(
        () => records(server).some((r) => r.msg === "worker replaced" && r.worker === 1),
        "worker replaced",
        30_000, // a new runtime process starting on a loaded machine
      );
      const replaced = records(server).find((r) => r.msg === "worker replaced")!;
      expect(replaced.pid).not.toBe(victim);
      expect(typeof replaced.restart_ms).toBe("number");
      expect(records(server).some((r) => r.msg === "worker exited" && r.pid === victim && r.signal === "SIGKILL"))
        .toBe(true);
      // Connections opened after the restart reach the new worker 1 too.
      const fresh = await clientsOnWorkers(server, [1, 2], 1);
      for (const c of fresh) await roundTrip(c, "new");
      for (const c of [...kept, ...fresh]) c.socket.destroy();
    } finally {
      expect((await server.stop()).code).toBe(0);
    }
  });

  test("SIGTERM drains the frames in flight on every worker, then the supervisor exits 0", async () => {
    const server = await startServer(rt, [...ARGS, "--framing", "lp:u32"]);
    const clients = await clientsOnWorkers(server, [1, 2], 1);
    const body = Buffer.from("in flight across a drain");
    const frame = Buffer.concat([Buffer.from([0, 0, 0, body.length]), body]);
    for (const c of clients) c.socket.write(frame.subarray(0, 10)); // a frame begun, not finished
    // Until a worker has read those bytes its connection is idle, and a drain closes idle
    // connections at once: wait until every server end has an empty receive queue.
    await waitFor(() => clients.every((c) => serverHasRead(server.port, c.socket)), "the workers to read the frames");
    server.child.kill("SIGTERM");
    await waitFor(
      () => [1, 2].every((id) => records(server).some((r) => r.msg === "shutting down" && r.worker === id)),
      "both workers shutting down",
    );
    for (const c of clients) c.socket.write(frame.subarray(10));
    await withTimeout(Promise.all(clients.map((c) => c.closed)), 10_000, "the drained connections to close");
    for (const c of clients) expect(c.received().equals(frame), "the whole reply before the close").toBe(true);
    const { code } = await withTimeout(server.exited, 15_000, "the supervisor to exit");
    expect(code).toBe(0);
    expect(records(server).at(-1)).toMatchObject({ msg: "stopped", workers: 2, exit_code: 0 });
  });

  test("a worker that keeps dying is a crash loop: capped, the others drained, exit 1", async () => {
    const server = await startServer(rt, ARGS);
    try {
      const killed: number[] = [];
      // The cap is 5 restarts within a minute: the 6th death is one too many. Bounded: 10 kills.
      while (!records(server).some((r) => r.msg === "worker crash loop: giving up")) {
        if (killed.length >= 10) throw new Error(`no crash loop reported after ${killed.length} kills`);
        await waitFor(
          () => {
            const pid = workerPids(server, 1).at(-1)!;
            return !killed.includes(pid) || records(server).some((r) => r.msg === "worker crash loop: giving up");
          },
          "the next worker 1",
          20_000,
        );
        const pid = workerPids(server, 1).at(-1)!;
        if (killed.includes(pid)) break;
        killed.push(pid);
        process.kill(pid, "SIGKILL");
        await waitFor(() => !alive(pid) || !isChildOf(pid, server), `worker ${pid} to die`);
        await waitFor(
          () =>
            records(server).some((r) => r.msg === "worker exited" && r.pid === pid) ||
            records(server).some((r) => r.msg === "worker crash loop: giving up"),
          `the supervisor to see ${pid} exit`,
        );
      }
      expect(killed.length).toBe(6);
      const { code } = await withTimeout(server.exited, 15_000, "the supervisor to exit");
      expect(code).toBe(1);
      expect(records(server).some((r) => r.msg === "stopped" && r.worker === 2), "worker 2 drained").toBe(true);
    } finally {
      await server.stop();
    }
  });

  test("text logs name the worker too; SIGINT to the supervisor reaches every worker and ends in exit 0", async () => {
    const server = await startServer(rt, ["--workers", "2", "--listen", "127.0.0.1:0"]);
    expect(server.log()).toMatch(/INFO {2}listening addr=127\.0\.0\.1:\d+ service=echo runtime=\w+ workers=2\n/);
    server.child.kill("SIGINT");
    const { code } = await withTimeout(server.exited, 15_000, "the supervisor to exit");
    expect(code, server.log()).toBe(0);
    for (const id of [1, 2]) {
      expect(server.log()).toMatch(new RegExp(`INFO  shutting down worker=${id} signal=SIGINT `));
      expect(server.log()).toMatch(new RegExp(`INFO  stopped worker=${id} accepted=0 refused=0\n`));
    }
    expect(server.log()).toMatch(/INFO {2}stopped workers=2 exit_code=0\n$/);
  });

  test("workers whose supervisor was SIGKILLed exit by themselves and free the port", async () => {
    const server = await startServer(rt, ARGS);
    const pids = [workerPids(server, 1).at(-1)!, workerPids(server, 2).at(-1)!];
    server.child.kill("SIGKILL");
    await server.terminated;
    await waitFor(() => pids.every((p) => !alive(p)), `workers ${pids.join(", ")} to exit`);
    const free = net.createServer();
    await new Promise<void>((resolve, reject) => {
      free.once("error", reject);
      free.listen(server.port, "127.0.0.1", resolve);
    });
    await new Promise((r) => free.close(r));
  });

  test("a worker that cannot bind fails the whole start with its error, once; nothing is left running", async () => {
    const r = await runCli(rt, ["serve", "--workers", "2", "--listen", `127.0.0.1:${busyPort()}`]);
    expect(r.code).toBe(1);
    const errors = r.stderr.split("\n").filter((l) => l.includes("address already in use"));
    expect(errors, r.stderr).toEqual([
      `switchboard: cannot listen on 127.0.0.1:${busyPort()}: address already in use (EADDRINUSE)`,
    ]);
  });

  test("bad --workers values and unix listeners are usage errors (exit 2)", async () => {
    for (
      const [args, msg] of [
        [["--workers", "0"], '--workers: expected "auto" or a whole number from 1 to 256, got "0"'],
        [["--workers", "many"], '--workers: expected "auto" or a whole number from 1 to 256, got "many"'],
        [
          ["--workers", "2", "--listen", "unix:/tmp/sb-workers.sock"],
          "--workers: unix sockets cannot be shared by workers (unix:/tmp/sb-workers.sock)",
        ],
      ] as const
    ) {
      const r = await runCli(rt, ["serve", ...args]);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toContain(msg);
    }
  });

  test("--workers 1 is the plain single process (no supervisor); auto starts one per core", async () => {
    const one = await startServer(rt, ["--workers", "1", "--listen", "127.0.0.1:0", "--log-format", "json"]);
    expect(records(one).some((r) => r.msg === "worker started")).toBe(false);
    expect(descendants(one.child.pid!)).toEqual([]);
    expect((await one.stop()).code).toBe(0);
    const auto = await startServer(rt, ["--workers", "auto", "--listen", "127.0.0.1:0", "--log-format", "json"]);
    const listening = records(auto).find((r) => r.msg === "listening")!;
    expect(listening.workers).toBeGreaterThanOrEqual(1);
    expect(records(auto).filter((r) => r.msg === "worker started").length).toBe(listening.workers);
    expect((await auto.stop()).code).toBe(0);
  });
});

describe("serve --workers from a self-contained executable, and on Deno with only the permissions it needs", () => {
  let dir: string;
  beforeAll(() => {
    mkdirSync(join(ROOT, "build"), { recursive: true });
    dir = mkdtempSync(join(ROOT, "build", "workers-exe-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** Start `command serve --workers 2`, see both workers serve, and stop it with SIGTERM (exit 0). */
  async function bothWorkersServe(rt: CliRuntime, command: [string, string[]]): Promise<void> {
    const server = await startServer(rt, ARGS, { command });
    try {
      const clients = await clientsOnWorkers(server, [1, 2], 1);
      for (const c of clients) await roundTrip(c, "from an executable");
      for (const c of clients) c.socket.destroy();
    } finally {
      expect((await server.stop()).code).toBe(0);
    }
  }

  test("a `bun build --compile` binary starts its workers as itself", async () => {
    const exe = join(dir, "switchboard-bun");
    const b = spawnSync(`${ROOT}node_modules/.bin/bun`, [
      "build",
      "--compile",
      "adapters/bun/main.ts",
      "--outfile",
      exe,
    ], {
      cwd: ROOT,
      encoding: "utf8",
    });
    expect(b.status, b.stderr).toBe(0);
    await bothWorkersServe("bun", [exe, []]);
  }, 180_000); // a compile, then a start

  test("a Node single executable (SEA) starts its workers as itself", async () => {
    const exe = join(dir, "switchboard-node");
    const b = spawnSync(process.execPath, ["adapters/node/build-sea.mjs", exe], { cwd: ROOT, encoding: "utf8" });
    expect(b.status, b.stderr).toBe(0);
    await bothWorkersServe("node", [exe, []]);
  }, 180_000); // a build, then a start

  test("deno run --allow-net --allow-run is enough (the workers get those flags and --unstable-net)", async () => {
    const deno = `${ROOT}node_modules/.bin/deno`;
    await bothWorkersServe("deno", [deno, ["run", "--allow-net", "--allow-run", `${ROOT}adapters/deno/main.ts`]]);
  });

  test("deno run without --allow-run: one line saying what Deno refused, exit 1", async () => {
    const deno = `${ROOT}node_modules/.bin/deno`;
    const r = await runCli("deno", ["serve", "--workers", "2", "--listen", "127.0.0.1:0"], {
      command: [deno, ["run", "--allow-net", `${ROOT}adapters/deno/main.ts`]],
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^switchboard: cannot start worker processes: Requires run access to .*--allow-run/);
  });
});
