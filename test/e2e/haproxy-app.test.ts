// The app protocol behind a real HAProxy, with switchboard's own client (`request`, run on
// every runtime) on the front side: three app instances (one per runtime) behind
// send-proxy-v2 and an app-protocol health check. A SIGKILL fails at most the requests
// that were on the killed instance; a SIGTERM (with --drain-delay) fails none.
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
  CLI_RUNTIMES,
  type CliResult,
  type CliRuntime,
  runCli,
  type RunningServer,
  startServer,
} from "../support/cli.ts";
import { appMessage } from "../support/misbehaving-peers.ts";
import { type RunningHaproxy, startHaproxy } from "../support/haproxy.ts";
import { waitFor } from "../support/sockets.ts";

const serveArgs = (port: number) => [
  "--service",
  "app",
  "--proxy-protocol",
  "--drain-delay",
  "1s",
  "--log-level",
  "debug",
  "--listen",
  `127.0.0.1:${port}`,
];

interface Done {
  r: CliResult;
  at: number;
}

/** One `request` loop per runtime, until stopped (and at most `max` requests each). */
function requestLoops(port: number, max = 500) {
  const done: Done[] = [];
  let stopping = false;
  const loop = async (rt: CliRuntime) => {
    for (let i = 0; i < max && !stopping; i++) {
      const r = await runCli(rt, ["request", `127.0.0.1:${port}`, "search", "ring", "-w", "5s"]);
      done.push({ r, at: Date.now() });
    }
  };
  const all = Promise.all(CLI_RUNTIMES.map(loop));
  return {
    done,
    okAfter: (t: number) => done.filter((d) => d.r.code === 0 && d.at > t).length,
    failed: () => done.filter((d) => d.r.code !== 0),
    async stop() {
      stopping = true;
      await all;
    },
  };
}

const clientLines = (log: string) =>
  [...log.matchAll(/proxy header peer=127\.0\.0\.1:(\d+) via=127\.0\.0\.1:(\d+) version=2 command=proxy/g)].filter((
    m,
  ) => m[1] !== m[2]).length;

const servers: { name: string; runtime: CliRuntime; server: RunningServer }[] = [];
let haproxy: RunningHaproxy;

beforeAll(async () => {
  for (const [i, runtime] of CLI_RUNTIMES.entries()) {
    servers.push({ name: `a${i + 1}`, runtime, server: await startServer(runtime, serveArgs(0)) });
  }
  const probe = appMessage(JSON.stringify({ action: "search", value: "ring" })).toString("hex");
  haproxy = await startHaproxy({
    servers: servers.map((s) => ({ name: s.name, port: s.server.port })),
    check: { sendHex: probe, expect: "result" },
  });
}, 60_000);

afterAll(async () => {
  await haproxy?.stop();
  await Promise.all(servers.map((s) => s.server.stop(2000)));
});

describe("app protocol behind a real HAProxy, switchboard request on the front side", () => {
  test("requests from every runtime's client reach every instance, logged under the client's address", async () => {
    const loops = requestLoops(haproxy.port);
    await waitFor(
      () => servers.every((s) => clientLines(s.server.log()) >= 3),
      "every instance to answer requests",
      60_000,
    );
    await loops.stop();
    expect(loops.failed().map((d) => d.r.stderr)).toEqual([]);
    for (const d of loops.done) expect(d.r.stdout.toString()).toContain("Misty Mountains");
  }, 120_000);

  test("SIGKILL one instance: requests fail only if HAProxy had them on it; SIGTERM another: none fail", async () => {
    const loops = requestLoops(haproxy.port);
    const [killed, drained] = [servers[0]!, servers[1]!];
    await waitFor(() => loops.okAfter(0) >= 6, "requests flowing", 60_000);
    const killAt = Date.now();
    killed.server.child.kill("SIGKILL");
    await haproxy.waitStatus(killed.name, "DOWN");
    await waitFor(
      () => loops.okAfter(killAt) >= 6,
      "requests after the kill",
      60_000,
    );
    const afterKill = loops.failed().length;
    // HAProxy's log names the server of every connection; a request can only have failed
    // on a connection it gave to the killed instance.
    const onKilled = [...haproxy.servers().values()].filter((s) => s === killed.name).length;
    expect(afterKill).toBeLessThanOrEqual(onKilled);
    for (const f of loops.failed()) {
      expect(f.r.stderr).toMatch(/^switchboard: /); // a clear failure line, exit 1
      expect(f.at).toBeGreaterThanOrEqual(killAt);
    }

    const termAt = Date.now();
    drained.server.child.kill("SIGTERM");
    await haproxy.waitStatus(drained.name, "DOWN");
    expect((await drained.server.exited).code).toBe(0);
    await waitFor(
      () => loops.okAfter(termAt) >= 6,
      "requests after the drain",
      60_000,
    );
    await loops.stop();
    expect(loops.failed().length, "no request fails because of the drain").toBe(afterKill);
    console.log(`[haproxy app] ${loops.done.length} requests; ${afterKill} failed at the SIGKILL, 0 at the SIGTERM`);
  }, 120_000);
});
