// switchboard behind a real HAProxy (Debian's haproxy): mode tcp, balance leastconn, three
// instances (one per runtime) with send-proxy-v2 and health checks every 200 ms, under
// steady load of verified echoes. SIGKILL one instance: only clients whose connection was
// on it fail. SIGTERM another (with --drain-delay): it fails its health checks first, HAProxy
// takes it out, it drains, and no client sees an error. Start it again: it rejoins.
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type CliRuntime, type RunningServer, startServer } from "../support/cli.ts";
import { type Load, startLoad } from "../support/echo-load.ts";
import { type RunningHaproxy, startHaproxy } from "../support/haproxy.ts";
import { waitFor } from "../support/sockets.ts";

const WORKERS = 4;
/** Successful echoes to see after each event before the phase ends. */
const AFTER = 300;

interface Instance {
  name: string;
  runtime: CliRuntime;
  port: number;
  server: RunningServer;
}

const serveArgs = (port: number) => [
  "--service",
  "echo",
  "--framing",
  "line",
  "--proxy-protocol",
  "--proxy-trusted",
  "127.0.0.1",
  "--drain-delay",
  "1s",
  "--log-level",
  "debug",
  "--listen",
  `127.0.0.1:${port}`,
];

/** Client ports an instance saw in PROXY v2 headers (from its log), and whether any header line was rate-limited away. */
function proxiedPorts(log: string): { ports: Set<number>; complete: boolean } {
  const ports = new Set<number>();
  for (
    const m of log.matchAll(/proxy header peer=127\.0\.0\.1:(\d+) via=127\.0\.0\.1:(\d+) version=2 command=proxy/g)
  ) {
    if (m[1] !== m[2]) ports.add(Number(m[1])); // the client's port, not the balancer's own socket
  }
  return { ports, complete: !log.includes("proxy header lines not logged") };
}

const instances: Instance[] = [];
let haproxy: RunningHaproxy;
let load: Load | undefined;

beforeAll(async () => {
  for (const [i, runtime] of (["node", "deno", "bun"] as const).entries()) {
    const server = await startServer(runtime, serveArgs(0));
    instances.push({ name: `s${i + 1}`, runtime, port: server.port, server });
  }
  haproxy = await startHaproxy({ servers: instances.map((s) => ({ name: s.name, port: s.port })), check: "echo" });
}, 60_000);

afterAll(async () => {
  await load?.stop();
  await haproxy?.stop();
  await Promise.all(instances.map((s) => s.server.stop(2000)));
});

describe("behind a real HAProxy (send-proxy-v2, leastconn, checks every 200 ms)", () => {
  test("every instance serves, and logs the real client addresses from PROXY v2", async () => {
    load = startLoad(haproxy.port, WORKERS);
    await waitFor(
      () => instances.every((s) => proxiedPorts(s.server.log()).ports.size >= 50),
      "every instance to serve 50 clients through HAProxy",
      30_000,
    );
    await load.stop();
    expect(load.failed()).toEqual([]);
    const clientPorts = new Set(load.outcomes.map((o) => o.port));
    for (const s of instances) {
      // Each port an instance logged is a port one of our clients connected from.
      for (const p of proxiedPorts(s.server.log()).ports) {
        expect(clientPorts.has(p), `${s.name} logged ${p}`).toBe(true);
      }
    }
    // Health checks arrive as LOCAL headers: the balancer speaking for itself.
    expect(instances[0]!.server.log()).toMatch(/proxy header .*version=2 command=local/);
  }, 120_000);

  test("SIGKILL one instance: only the clients whose connection was on it fail", async () => {
    const victim = instances[0]!;
    load = startLoad(haproxy.port, WORKERS);
    const before = load.ok();
    await waitFor(() => load!.ok() >= before + AFTER, "load running before the kill", 30_000);
    const killAt = Date.now();
    victim.server.child.kill("SIGKILL");
    await victim.server.exited;
    await haproxy.waitStatus(victim.name, "DOWN");
    const downAt = Date.now();
    await waitFor(
      () => load!.outcomes.filter((o) => o.ok && o.at > downAt).length >= AFTER,
      "echoes after DOWN",
      30_000,
    );
    await load.stop();
    const failed = load.failed();
    // Which instance had each failed connection: HAProxy's own per-connection log says.
    const servers = haproxy.servers();
    await waitFor(
      () => failed.every((f) => f.port !== undefined && haproxy.servers().has(f.port)),
      "HAProxy's log lines",
    );
    const unexplained = failed.filter((f) => haproxy.servers().get(f.port!) !== victim.name);
    expect(unexplained, "failures of connections that were not on the killed instance").toEqual([]);
    // And the instance itself had read the PROXY header of most of them before it died.
    const seen = proxiedPorts(victim.server.log()).ports;
    const onVictim = load.outcomes.filter((o) => servers.get(o.port!) === victim.name).length;
    expect(failed.filter((f) => f.at < killAt), "failures before the kill").toEqual([]);
    console.log(
      `[haproxy kill] ${failed.length} of ${load.outcomes.length} client connections failed, all of them on ` +
        `the killed ${victim.runtime} instance (${onVictim} connections went there in this phase; ` +
        `${failed.filter((f) => seen.has(f.port!)).length} of the failed ones are in its own log)`,
    );
  }, 120_000);

  test("SIGTERM another instance: health checks fail first, it drains, no client sees an error", async () => {
    const victim = instances[1]!;
    load = startLoad(haproxy.port, WORKERS);
    const mark = victim.server.log().length;
    await waitFor(
      () => proxiedPorts(victim.server.log().slice(mark)).ports.size >= 50,
      "the instance to serve under load",
      30_000,
    );
    const termAt = Date.now();
    victim.server.child.kill("SIGTERM");
    await haproxy.waitStatus(victim.name, "DOWN");
    const r = await victim.server.exited;
    const drainMs = Date.now() - termAt;
    expect(r.code, victim.server.log()).toBe(0);
    const exitAt = Date.now();
    await waitFor(
      () => load!.outcomes.filter((o) => o.ok && o.at > exitAt).length >= AFTER,
      "echoes after exit",
      30_000,
    );
    await load.stop();
    expect(load.failed()).toEqual([]);
    expect(victim.server.log()).toContain("failing health checks before draining");
    expect(victim.server.log()).toMatch(/health check refused: draining/);
    console.log(`[haproxy drain] ${load.outcomes.length} connections, 0 failed; SIGTERM to exit ${drainMs} ms`);
  }, 120_000);

  test("start it again: it rejoins and serves", async () => {
    const back = instances[1]!;
    back.server = await startServer(back.runtime, serveArgs(back.port));
    await haproxy.waitStatus(back.name, "UP");
    load = startLoad(haproxy.port, WORKERS);
    await waitFor(() => proxiedPorts(back.server.log()).ports.size >= 50, "the restarted instance to serve", 30_000);
    await load.stop();
    expect(load.failed()).toEqual([]);
  }, 120_000);
});
