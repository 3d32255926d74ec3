// `switchboard probe --tls` on each runtime against `serve --tls-cert` on that runtime:
// by address and by the server's command line (--pid), the certificate verified; an
// untrusted certificate, a plaintext probe of a TLS port and a TLS server probed without
// --tls are all unhealthy, each saying why.
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { CLI_RUNTIMES, runCli, type RunningServer, startServer } from "../support/cli.ts";
import { type CertFiles, makeCerts, removeCerts } from "../support/certs.ts";
import { freePort } from "../support/ports.ts";

let certs: CertFiles;
afterAll(() => removeCerts(certs));
beforeAll(() => {
  certs = makeCerts();
});

describe.each(CLI_RUNTIMES)("probe --tls on %s", (rt) => {
  const servers = new Map<"echo" | "app", RunningServer>();
  const trust = () => ["--tls", "--tls-ca", certs.ca];

  beforeAll(async () => {
    for (const service of ["echo", "app"] as const) {
      const port = await freePort();
      servers.set(
        service,
        await startServer(rt, [
          "--service",
          service,
          "--listen",
          `127.0.0.1:${port}`,
          "--tls-cert",
          certs.serverChain,
          "--tls-key",
          certs.serverKey,
        ]),
      );
    }
  }, 60_000);

  afterAll(async () => {
    await Promise.all([...servers.values()].map((s) => s.stop()));
  });

  test("echo and app answer over TLS, by address and by the server's command line", async () => {
    for (const [service, s] of servers) {
      const addr = `127.0.0.1:${s.port}`;
      const ok = new RegExp(`^ok ${service} ${addr} over TLS \\(\\d+ ms\\)\\n$`);
      const byAddr = await runCli(rt, ["probe", addr, "--service", service, ...trust()]);
      expect({ service, err: byAddr.stderr, code: byAddr.code }).toEqual({ service, err: "", code: 0 });
      expect(byAddr.stdout.toString()).toMatch(ok);
      const byPid = await runCli(rt, ["probe", "--pid", String(s.child.pid), ...trust()]);
      expect({ service, err: byPid.stderr, code: byPid.code }).toEqual({ service, err: "", code: 0 });
      expect(byPid.stdout.toString()).toMatch(ok);
    }
  });

  test("a certificate we do not trust is unhealthy, and says so", async () => {
    const s = servers.get("echo")!;
    const r = await runCli(rt, ["probe", `127.0.0.1:${s.port}`, "--service", "echo", "--tls"]);
    expect(r.code).toBe(1);
    expect(r.stdout.toString()).toBe("");
    expect(r.stderr).toBe(
      `switchboard: probe echo 127.0.0.1:${s.port} over TLS: cannot connect: ` +
        "tls: certificate for 127.0.0.1 is not trusted: unknown CA (ECERTUNTRUSTED)\n",
    );
  });

  test("a TLS server probed without --tls is unhealthy: by address it fails, by --pid it says why", async () => {
    const s = servers.get("echo")!;
    const plain = await runCli(rt, ["probe", `127.0.0.1:${s.port}`, "--service", "echo"]);
    expect(plain.code).toBe(1);
    expect(plain.stderr).toMatch(new RegExp(`^switchboard: probe echo 127\\.0\\.0\\.1:${s.port}: .+\\n$`));
    const byPid = await runCli(rt, ["probe", "--pid", String(s.child.pid)]);
    expect(byPid.code).toBe(1);
    expect(byPid.stderr).toBe(
      `switchboard: probe echo 127.0.0.1:${s.port}: the server serves TLS (--tls-cert): ` +
        "probe it with --tls (and --tls-ca FILE or --insecure)\n",
    );
  });

  test("TLS flags are checked like send's: usage errors exit 2", async () => {
    for (
      const [args, why] of [
        [["probe", "127.0.0.1:7", "--service", "echo", "--tls-ca", certs.ca], "--tls-ca needs --tls"],
        [["probe", "unix:/tmp/sb-none.sock", "--service", "echo", "--tls"], "TLS is served on TCP only"],
      ] as const
    ) {
      const r = await runCli(rt, [...args]);
      expect({ code: r.code, why }).toEqual({ code: 2, why });
      expect(r.stderr).toContain(why);
    }
  });
});
