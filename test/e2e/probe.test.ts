// `switchboard probe` (the Docker image's HEALTHCHECK) on each runtime, against real
// servers of every service on that runtime: by address, and by reading the server's own
// command line (--pid; in a container that is PID 1). Each probe must also fail when it
// meets another service, so a passing probe really means the protocol answered.
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { CLI_RUNTIMES, runCli, type RunningServer, startServer } from "../support/cli.ts";
import { freePort } from "../support/ports.ts";

const SERVICES = ["echo", "discard", "daytime", "chargen", "time", "app"] as const;

describe.each(CLI_RUNTIMES)("probe on %s", (runtime) => {
  const servers = new Map<string, RunningServer>();

  beforeAll(async () => {
    // Fixed ports (not 0): the command line is what `probe --pid` reads.
    await Promise.all(SERVICES.map(async (service) => {
      const port = await freePort("0.0.0.0");
      servers.set(service, await startServer(runtime, ["--service", service, "--listen", `127.0.0.1:${port}`]));
    }));
    const port = await freePort("0.0.0.0");
    servers.set(
      "framed",
      await startServer(runtime, [
        "--service",
        "echo",
        "--framing",
        "lp:u16",
        "--listen",
        `0.0.0.0:${port}`,
        "--listen",
        `[::1]:${port}`,
      ]),
    );
  }, 120_000);

  afterAll(async () => {
    await Promise.all([...servers.values()].map((s) => s.stop()));
  });

  test("each service answers its probe, by address and by the server's command line", async () => {
    await Promise.all(SERVICES.map(async (service) => {
      const s = servers.get(service)!;
      const addr = `127.0.0.1:${s.port}`;
      const byAddr = await runCli(runtime, ["probe", addr, "--service", service]);
      expect(byAddr.stderr, service).toBe("");
      expect(byAddr.code, service).toBe(0);
      expect(byAddr.stdout.toString(), service).toMatch(new RegExp(`^ok ${service} ${addr} \\(\\d+ ms\\)\\n$`));
      const byPid = await runCli(runtime, ["probe", "--pid", String(s.child.pid)]);
      expect(byPid.code, `${service}: ${byPid.stderr}`).toBe(0);
      expect(byPid.stdout.toString(), service).toMatch(new RegExp(`^ok ${service} ${addr} `));
    }));
  }, 120_000);

  test("a probe of another service's server fails, naming what it got", async () => {
    await Promise.all(SERVICES.map(async (service, i) => {
      const wrong = SERVICES[(i + 1) % SERVICES.length]!;
      const addr = `127.0.0.1:${servers.get(service)!.port}`;
      const r = await runCli(runtime, ["probe", addr, "--service", wrong]);
      expect(r.code, `${wrong} probe of the ${service} server`).toBe(1);
      expect(r.stdout.toString()).toBe("");
      expect(r.stderr).toContain(`switchboard: probe ${wrong} ${addr}: `);
    }));
  }, 120_000);

  test("framed echo: every listener of the command line, wildcard probed over loopback", async () => {
    const s = servers.get("framed")!;
    const r = await runCli(runtime, ["probe", "--pid", String(s.child.pid)]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.toString().split("\n")).toEqual([
      expect.stringMatching(new RegExp(`^ok echo \\(lp:u16\\) 127\\.0\\.0\\.1:${s.port} `)),
      expect.stringMatching(new RegExp(`^ok echo \\(lp:u16\\) \\[::1\\]:${s.port} `)),
      "",
    ]);
    // Without the framing, the raw token is not an lp:u16 frame: the server rejects it.
    const raw = await runCli(runtime, ["probe", `127.0.0.1:${s.port}`, "--service", "echo"]);
    expect(raw.code).toBe(1);
    const framed = await runCli(runtime, ["probe", `[::1]:${s.port}`, "--service", "echo", "--framing", "lp:u16"]);
    expect(framed.code, framed.stderr).toBe(0);
  }, 60_000);

  test("failures and misuse: clear message, exit 1 or 2", async () => {
    const closed = await freePort("0.0.0.0");
    const refused = await runCli(runtime, ["probe", `127.0.0.1:${closed}`, "--service", "echo"]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("cannot connect: ECONNREFUSED");
    // This test process is no switchboard server.
    const notServer = await runCli(runtime, ["probe", "--pid", String(process.pid)]);
    expect(notServer.code).toBe(1);
    expect(notServer.stderr).toContain(`process ${process.pid} is not a switchboard server`);
    const gone = await runCli(runtime, ["probe", "--pid", "2147483646"]);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain("cannot read the command line of process 2147483646");
    const usage = [
      [["probe", `127.0.0.1:${closed}`], "no service's default port"],
      [["probe", "127.0.0.1:7007", "--service", "nope"], 'unknown service "nope"'],
      [["probe", "127.0.0.1:7013", "--framing", "line"], '"--framing" does not apply to the daytime service'],
      [["probe", "--service", "echo"], "--service and --framing go with ADDR"],
      [["probe", "127.0.0.1:7007", "--framing", "lp:u3"], 'bad framing "lp:u3"'],
    ] as const;
    for (const [args, message] of usage) {
      const r = await runCli(runtime, [...args]);
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.stderr).toContain(message);
    }
  }, 60_000);
});
