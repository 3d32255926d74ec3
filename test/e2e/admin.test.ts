// `serve --admin` (issue 13), on every runtime with the real CLI: the endpoint answers
// through the runtime's own HTTP server, refuses bad requests with proper HTTP errors,
// binds loopback unless told otherwise and never a service port, and /readyz turns 503
// on the first stop signal while the listeners still accept, and at --max-conns.
import * as net from "node:net";
import { describe, expect, test } from "vitest";
import { CLI_RUNTIMES, type CliRuntime, runCli, startServer } from "../support/cli.ts";
import { adminAddr, get, pollUntil, rawStatus } from "../support/admin.ts";
import { withTimeout } from "../support/sockets.ts";
import { busyPortForSuite } from "../support/ports.ts";

const busyPort = busyPortForSuite();

function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: "127.0.0.1", port }, () => resolve(s));
    s.on("error", reject);
  });
}

describe.each(CLI_RUNTIMES)("admin endpoint on %s", (runtime: CliRuntime) => {
  test("health, readiness, the pages, and HTTP errors for unknown paths, wrong methods and huge headers", async () => {
    const server = await startServer(runtime, ["--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0"]);
    try {
      const addr = await adminAddr(server);
      const health = await get(addr, "/healthz");
      expect([health.status, await health.text()]).toEqual([200, "ok\n"]);
      expect((await get(addr, "/readyz")).status).toBe(200);
      const metrics = await get(addr, "/metrics");
      expect(metrics.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
      const page = await get(addr, "/");
      expect(page.headers.get("content-type")).toMatch(/^text\/html/);
      expect(await page.text()).toContain('id="open-count"');
      const status = await (await get(addr, "/status.json")).json() as { runtime: string; listeners: string[] };
      expect(status.runtime).toBe(runtime);
      expect(status.listeners).toEqual([`127.0.0.1:${server.port}`]);
      const head = await get(addr, "/metrics", { method: "HEAD" });
      expect([head.status, await head.text()]).toEqual([200, ""]);

      const missing = await get(addr, "/nope");
      expect(missing.status).toBe(404);
      expect(await missing.text()).toContain("/metrics");
      for (const method of ["POST", "PUT", "DELETE"]) {
        const r = await get(addr, "/metrics", { method, body: method === "DELETE" ? undefined : "x" });
        expect(r.status, method).toBe(405);
        expect(r.headers.get("allow")).toBe("GET, HEAD");
      }
      // 12 KiB is over our 8 KiB bound; 1 MiB is over every runtime's own parser limit too,
      // where Deno's parser (hyper) answers 400 rather than 431 (docs/admin.md).
      for (const size of [12 * 1024, 1024 * 1024]) {
        const req = `GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(size)}\r\n\r\n`;
        const want = size > 64 * 1024 && runtime === "deno" ? "HTTP/1.1 400" : "HTTP/1.1 431";
        expect(await rawStatus(addr, req), `${size}-byte header`).toBe(want);
      }
      expect(await rawStatus(addr, "NONSENSE\r\n\r\n")).toMatch(/^HTTP\/1\.1 (400|405)$/);
      // The server survived all of it.
      expect((await get(addr, "/healthz")).status).toBe(200);
    } finally {
      await server.stop();
    }
  });

  test("/readyz turns 503 on SIGTERM while the listener still accepts; a second signal drains", async () => {
    const server = await startServer(runtime, [
      "--listen",
      "127.0.0.1:0",
      "--admin",
      "127.0.0.1:0",
      "--unready-delay",
      "60s",
    ]);
    try {
      const addr = await adminAddr(server);
      expect((await get(addr, "/readyz")).status).toBe(200);
      server.child.kill("SIGTERM");
      await pollUntil(async () => (await get(addr, "/readyz")).status, (s) => s === 503, "/readyz 503 after SIGTERM");
      const r = await get(addr, "/readyz");
      expect(await r.text()).toBe("not ready: draining\n");
      const metrics = await (await get(addr, "/metrics")).text();
      expect(metrics).toMatch(/^switchboard_draining 1$/m);
      // Not ready, yet still accepting: load balancers get the delay to stop sending.
      const sock = await withTimeout(connect(server.port), 10_000, "connect during the unready delay");
      sock.destroy();
      // A second signal ends the delay; one within 0.5 s of the first counts as the same
      // delivery (stop-signals.ts), so signal until the process is gone.
      let exited = false;
      void server.terminated.then(() => (exited = true));
      await pollUntil(
        () => {
          if (!exited) server.child.kill("SIGTERM");
          return Promise.resolve(exited);
        },
        (e) => e,
        "exit after a second signal",
        20_000,
      );
      expect((await server.exited).code).toBe(0);
      await expect(connect(server.port)).rejects.toThrow(/ECONNREFUSED/);
    } finally {
      await server.stop();
    }
  });

  test("/readyz is 503 while --max-conns is reached, and 200 again below it", async () => {
    const server = await startServer(runtime, [
      "--listen",
      "127.0.0.1:0",
      "--admin",
      "127.0.0.1:0",
      "--max-conns",
      "2",
    ]);
    const socks: net.Socket[] = [];
    try {
      const addr = await adminAddr(server);
      for (let i = 0; i < 2; i++) socks.push(await connect(server.port));
      const readyz = async () => (await get(addr, "/readyz")).status;
      await pollUntil(readyz, (s) => s === 503, "/readyz 503 at max-conns");
      expect(await (await get(addr, "/readyz")).text()).toBe("not ready: max-conns\n");
      socks.pop()!.destroy();
      await pollUntil(readyz, (s) => s === 200, "/readyz 200 below max-conns");
    } finally {
      for (const s of socks) s.destroy();
      await server.stop();
    }
  });

  test("non-loopback only with --admin-public; never a service port; a busy port fails start-up", async () => {
    const pub = await runCli(runtime, ["serve", "--listen", "127.0.0.1:0", "--admin", "0.0.0.0:0"]);
    expect(pub.code).toBe(2);
    expect(pub.stderr).toContain("--admin 0.0.0.0:0 is not a loopback address; add --admin-public");

    const clash = await runCli(runtime, ["serve", "--listen", "127.0.0.1:7070", "--admin", ":7070"]);
    expect(clash.code).toBe(2);
    expect(clash.stderr).toContain("cannot share a port with the service on 127.0.0.1:7070");
    const wild = await runCli(runtime, ["serve", "--listen", "0.0.0.0:7071", "--admin", "127.0.0.1:7071"]);
    expect(wild.code).toBe(2);

    const lone = await runCli(runtime, ["serve", "--listen", "127.0.0.1:0", "--admin-public"]);
    expect(lone.code).toBe(2);
    expect(lone.stderr).toContain("--admin-public needs --admin");
    const delay = await runCli(runtime, ["serve", "--listen", "127.0.0.1:0", "--unready-delay", "5s"]);
    expect(delay.code).toBe(2);
    expect(delay.stderr).toContain("--unready-delay needs --admin");
    // Without --admin there is no endpoint at all (and nothing else changes).
    const plain = await startServer(runtime, ["--listen", "127.0.0.1:0"]);
    expect(plain.log()).not.toContain("admin");
    await plain.stop();

    const taken = await runCli(runtime, ["serve", "--listen", "127.0.0.1:0", "--admin", `127.0.0.1:${busyPort()}`]);
    expect(taken.code).toBe(1);
    expect(taken.stderr).toContain(`cannot listen on 127.0.0.1:${busyPort()}: address already in use (EADDRINUSE)`);

    const server = await startServer(runtime, [
      "--listen",
      "127.0.0.1:0",
      "--admin",
      "0.0.0.0:0",
      "--admin-public",
    ]);
    try {
      const port = /admin=0\.0\.0\.0:(\d+)/.exec(server.log())?.[1];
      expect(port, server.log()).toBeDefined();
      expect((await get(`127.0.0.1:${port}`, "/healthz")).status).toBe(200);
    } finally {
      await server.stop();
    }
  });
});
