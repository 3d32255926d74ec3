// `serve --workers 2 --admin` with the real CLI on every runtime: the supervisor's one
// admin endpoint adds up what both workers counted (checked against the connections this
// test made, and by promtool), lists every worker, keeps the counts of a worker killed
// with SIGKILL (totals never go backwards), and turns /readyz 503 on the first stop signal.
import * as net from "node:net";
import { describe, expect, test } from "vitest";
import { CLI_RUNTIMES, type CliRuntime, runCli, type RunningServer, startServer } from "../support/cli.ts";
import { adminAddr, get, getText, pollUntil, promtool, sample } from "../support/admin.ts";
import { withTimeout } from "../support/sockets.ts";

const ARGS = ["--workers", "2", "--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0"];
const PAYLOAD = "hello workers\n";

/** Echo PAYLOAD over one connection: send, half-close, read to the server's close. */
function echo(port: number): Promise<string> {
  return withTimeout(
    new Promise((resolve, reject) => {
      const s = net.connect({ host: "127.0.0.1", port }, () => s.end(PAYLOAD));
      let got = "";
      s.on("data", (b) => (got += b.toString()));
      s.on("error", reject);
      s.on("close", () => resolve(got));
    }),
    10_000,
    "an echo exchange",
  );
}

function hold(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: "127.0.0.1", port }, () => resolve(s));
    s.on("error", reject);
  });
}

interface WorkerEntry {
  id: number;
  pid: number | null;
  state: string;
  uptimeSeconds: number | null;
  restarts: number;
  connections: { open: number; accepted: number; closed: number };
}

async function status(
  addr: string,
): Promise<{ connections: { accepted: number; open: number }; workers: WorkerEntry[] }> {
  return JSON.parse(await getText(addr, "/status.json"));
}

/**
 * Make echo exchanges, 4 at a time, until the reports show both workers served some (the
 * kernel or the cluster primary picks the worker). Returns how many were made (at most 80).
 */
async function spreadOverWorkers(server: RunningServer, addr: string): Promise<number> {
  let made = 0;
  for (;;) {
    for (let i = 0; i < 4; i++) expect(await echo(server.port)).toBe(PAYLOAD);
    made += 4;
    // Reports come every second: wait until they account for every exchange made so far.
    const s = await pollUntil(() => status(addr), (s) => s.connections.accepted === made, `${made} accepted`);
    if (s.workers.every((w) => w.connections.accepted > 0)) return made;
    if (made >= 80) throw new Error(`after ${made} connections: ${JSON.stringify(s.workers)}`);
  }
}

/** The pid of the last "worker started" line for worker `id` (text log). */
function startedPid(server: RunningServer, id: number): number {
  const all = [...server.log().matchAll(new RegExp(`worker started worker=${id} pid=(\\d+)`, "g"))];
  return Number(all.at(-1)![1]);
}

describe.each(CLI_RUNTIMES)("admin endpoint with --workers on %s", (rt: CliRuntime) => {
  test("/metrics adds up both workers: totals equal the connections made, per-worker series, promtool passes", async () => {
    const server = await startServer(rt, ARGS);
    try {
      const addr = await adminAddr(server);
      const made = await spreadOverWorkers(server, addr);
      const text = await pollUntil(
        () => getText(addr, "/metrics"),
        (t) => sample(t, 'switchboard_connections_closed_total{reason="peer-closed"}') === made,
        `${made} peer-closed`,
      );
      const check = promtool(text);
      expect(check.status, check.output).toBe(0);
      expect(sample(text, "switchboard_connections_accepted_total")).toBe(made);
      expect(sample(text, "switchboard_connections_open")).toBe(0);
      expect(sample(text, "switchboard_connection_duration_seconds_count")).toBe(made);
      expect(sample(text, "switchboard_received_bytes_total")).toBe(made * PAYLOAD.length);
      expect(sample(text, "switchboard_sent_bytes_total")).toBe(made * PAYLOAD.length);
      expect(sample(text, 'switchboard_connections_closed_total{reason="worker-exit"}')).toBe(0);
      expect(sample(text, "switchboard_workers_listening")).toBe(2);
      const perWorker = [1, 2].map((id) =>
        sample(text, `switchboard_worker_connections_accepted_total{worker="${id}"}`)
      );
      expect(perWorker.every((n) => n > 0), `per-worker accepted ${perWorker}`).toBe(true);
      expect(perWorker[0]! + perWorker[1]!).toBe(made);
      for (const id of [1, 2]) {
        expect(sample(text, `switchboard_worker_up{worker="${id}"}`)).toBe(1);
        expect(sample(text, `switchboard_worker_restarts_total{worker="${id}"}`)).toBe(0);
        expect(sample(text, `switchboard_worker_connections_open{worker="${id}"}`)).toBe(0);
        expect(sample(text, `switchboard_worker_resident_memory_bytes{worker="${id}"}`)).toBeGreaterThan(0);
      }

      const s = await status(addr);
      expect(s.workers.map((w) => [w.id, w.pid, w.state, w.restarts])).toEqual([
        [1, startedPid(server, 1), "listening", 0],
        [2, startedPid(server, 2), "listening", 0],
      ]);
      for (const w of s.workers) expect(w.uptimeSeconds).toBeGreaterThan(0);
      expect((await get(addr, "/healthz")).status).toBe(200);
      expect((await get(addr, "/readyz")).status).toBe(200);
      const page = await getText(addr, "/status.js");
      expect(page).toContain("workers-section");
    } finally {
      expect((await server.stop()).code).toBe(0);
    }
  });

  test("a worker killed with SIGKILL is replaced and the totals do not go backwards", async () => {
    const server = await startServer(rt, ARGS);
    const held: net.Socket[] = [];
    try {
      const addr = await adminAddr(server);
      const made = await spreadOverWorkers(server, addr);
      // Hold connections open until each worker has some (bounded): the victim's die with it.
      let before = await status(addr);
      while (!before.workers.every((w) => w.connections.open > 0)) {
        if (held.length >= 20) throw new Error(`after 20 held connections: ${JSON.stringify(before.workers)}`);
        held.push(await hold(server.port));
        const n = held.length;
        before = await pollUntil(() => status(addr), (s) => s.connections.open === n, `${n} open connections`);
      }
      const victim = before.workers.find((w) => w.id === 1)!;
      const victimOpen = victim.connections.open;
      const H = held.length;
      const metricsBefore = await getText(addr, "/metrics");
      expect(sample(metricsBefore, "switchboard_connections_accepted_total")).toBe(made + H);

      process.kill(victim.pid!, "SIGKILL");
      const after = await pollUntil(
        () => status(addr),
        (s) => s.workers[0]!.state === "listening" && s.workers[0]!.pid !== victim.pid,
        "worker 1 replaced",
        20_000,
      );
      expect(after.workers[0]!.restarts).toBe(1);
      expect(after.workers[0]!.pid).toBe(startedPid(server, 1));
      const text = await getText(addr, "/metrics");
      // Nothing the dead worker counted is lost: its connections still count as accepted,
      // and the ones it had open count as closed by its exit.
      expect(sample(text, "switchboard_connections_accepted_total")).toBe(made + H);
      expect(sample(text, 'switchboard_connections_closed_total{reason="worker-exit"}')).toBe(victimOpen);
      expect(sample(text, "switchboard_connections_open")).toBe(H - victimOpen);
      expect(sample(text, "switchboard_received_bytes_total")).toBe(made * PAYLOAD.length);
      expect(sample(text, 'switchboard_worker_restarts_total{worker="1"}')).toBe(1);
      expect(sample(text, 'switchboard_worker_connections_accepted_total{worker="1"}')).toBe(0);
      expect(promtool(text).status).toBe(0);

      // New connections add to the kept totals.
      for (let i = 0; i < 4; i++) expect(await echo(server.port)).toBe(PAYLOAD);
      await pollUntil(
        async () => sample(await getText(addr, "/metrics"), "switchboard_connections_accepted_total"),
        (n) => n === made + H + 4,
        "the new connections counted on top",
      );
    } finally {
      for (const s of held) s.destroy();
      expect((await server.stop()).code).toBe(0);
    }
  });

  test("the admin flags are checked and bound before any worker starts: exit 2 or 1, no worker", async () => {
    const usage = await runCli(rt, ["serve", "--workers", "2", "--listen", "127.0.0.1:0", "--admin", "0.0.0.0:0"]);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/is not a loopback address; add --admin-public/);
    const busy = net.createServer();
    await new Promise<void>((r) => busy.listen(0, "127.0.0.1", r));
    try {
      const port = (busy.address() as net.AddressInfo).port;
      const r = await runCli(rt, ["serve", ...ARGS.slice(0, 4), "--admin", `127.0.0.1:${port}`]);
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toContain(`cannot listen on 127.0.0.1:${port}: address already in use (EADDRINUSE)`);
      expect(r.stderr).not.toMatch(/worker started/);
    } finally {
      await new Promise((r) => busy.close(r));
    }
  });

  test.each([["a single process", []], ["--workers 2", ["--workers", "2"]]])(
    "with %s, admin connections that sent no complete request do not hold the exit",
    async (_what, extra) => {
      const server = await startServer(rt, ["--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0", ...extra]);
      const addr = await adminAddr(server);
      const [host, port] = [addr.slice(0, addr.lastIndexOf(":")), Number(addr.slice(addr.lastIndexOf(":") + 1))];
      // What a browser's preconnect and a stalled client leave open.
      const silent = await hold(port);
      const partial = await hold(port);
      partial.write("GET /metrics HTTP/1.1\r\n");
      silent.on("error", () => {});
      partial.on("error", () => {});
      try {
        expect(host).toBe("127.0.0.1");
        server.child.kill("SIGTERM");
        // node:http's header timeout is 60 s: well past this bound.
        const done = await withTimeout(server.exited, 20_000, "the server to exit with the admin connections open");
        expect(done.code, server.log()).toBe(0);
      } finally {
        silent.destroy();
        partial.destroy();
        await server.stop();
      }
    },
  );

  test("/readyz turns 503 on the first SIGTERM while the workers still serve (--unready-delay), then all exit 0", async () => {
    // Long enough for the checks below while not ready (each a request to a loaded machine).
    const server = await startServer(rt, [...ARGS, "--unready-delay", "8s"]);
    const addr = await adminAddr(server);
    await pollUntil(async () => (await get(addr, "/readyz")).status, (s) => s === 200, "ready");
    server.child.kill("SIGTERM");
    const r = await pollUntil(() => get(addr, "/readyz"), (r) => r.status === 503, "/readyz 503");
    expect(await r.text()).toBe("not ready: draining\n");
    expect(JSON.parse(await getText(addr, "/status.json"))).toMatchObject({ ready: false, draining: true });
    // Behind a balancer that has not noticed yet, connections are still served.
    expect(await echo(server.port)).toBe(PAYLOAD);
    const done = await withTimeout(server.exited, 25_000, "the supervisor to exit");
    expect(done.code).toBe(0);
    expect(server.log()).toMatch(/not ready; draining after the unready delay delay=8s/);
  });
});
