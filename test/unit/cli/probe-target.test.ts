// How `probe` reads a server's command line (/proc/PID/cmdline: NUL-separated argv).
import { describe, expect, test } from "vitest";
import { ProbeTargetError, reachable, targetsFromCmdline } from "../../../src/cli/probe-target.ts";

const cmdline = (...argv: string[]) => new TextEncoder().encode(argv.join("\0") + "\0");

describe("probe targets from a command line", () => {
  test("the service's default address when there is no --listen", () => {
    expect(targetsFromCmdline(cmdline("/usr/local/bin/switchboard", "serve", "--service", "daytime"), 1)).toEqual([
      { service: "daytime", addr: { transport: "tcp", hostname: "127.0.0.1", port: 7013 }, framing: undefined },
    ]);
    expect(targetsFromCmdline(cmdline("switchboard", "serve"), 1)[0]).toMatchObject({ service: "echo" });
  });

  test("a worker of serve --workers: the addresses its role names (port 0 resolved); the supervisor: its --listen", () => {
    const role = JSON.stringify({ id: 2, listen: ["127.0.0.1:41234"], reusePort: true });
    const worker = cmdline(
      "bun",
      "main.ts",
      "serve",
      "--sb-worker",
      role,
      "-l",
      ":0",
      "--workers",
      "2",
      "-s",
      "daytime",
    );
    expect(targetsFromCmdline(worker, 7)).toEqual([
      { service: "daytime", framing: undefined, addr: { transport: "tcp", hostname: "127.0.0.1", port: 41234 } },
    ]);
    const supervisor = cmdline("switchboard", "serve", "--workers", "auto", "-l", "0.0.0.0:9000");
    expect(targetsFromCmdline(supervisor, 1)[0]!.addr).toEqual({ transport: "tcp", hostname: "127.0.0.1", port: 9000 });
    const broken = cmdline("switchboard", "serve", "--sb-worker", "{not json");
    expect(() => targetsFromCmdline(broken, 9)).toThrow(ProbeTargetError);
  });

  test("a server with --tls-cert is marked as serving TLS (probe then needs --tls)", () => {
    const tls = cmdline("switchboard", "serve", "-l", "0.0.0.0:7443", "--tls-cert", "c.pem", "--tls-key", "k.pem");
    expect(targetsFromCmdline(tls, 1)).toEqual([
      {
        service: "echo",
        framing: undefined,
        serverTls: true,
        addr: { transport: "tcp", hostname: "127.0.0.1", port: 7443 },
      },
    ]);
    expect(targetsFromCmdline(cmdline("switchboard", "serve", "-l", ":7007"), 1)[0]!.serverTls).toBeUndefined();
  });

  test("every --listen, wildcards over loopback, framing kept, whatever runs the CLI", () => {
    const argv = cmdline(
      "deno",
      "run",
      "-A",
      "adapters/deno/main.ts",
      "serve",
      "-l",
      "0.0.0.0:9000",
      "--listen=[::]:9001",
      "--listen",
      "unix:/run/sb.sock",
      "--listen",
      ":9002",
      "--framing",
      "lp:u16",
      "--drain-timeout",
      "2s",
    );
    expect(targetsFromCmdline(argv, 42)).toEqual([
      { service: "echo", framing: "lp:u16", addr: { transport: "tcp", hostname: "127.0.0.1", port: 9000 } },
      { service: "echo", framing: "lp:u16", addr: { transport: "tcp", hostname: "::1", port: 9001 } },
      { service: "echo", framing: "lp:u16", addr: { transport: "unix", path: "/run/sb.sock" } },
      { service: "echo", framing: "lp:u16", addr: { transport: "tcp", hostname: "127.0.0.1", port: 9002 } },
    ]);
  });

  test("what cannot be probed is named", () => {
    const bad: [Uint8Array, string][] = [
      [cmdline("/sbin/init"), 'process 7 is not a switchboard server (no "serve"'],
      [cmdline("switchboard", "serve", "--listen", "127.0.0.1:0"), "listens on port 0"],
      [
        cmdline("switchboard", "serve", "--no-such-flag"),
        'cannot read the command line of process 7: unknown option "--no-such-flag"',
      ],
      [cmdline("switchboard", "serve", "--service", "gopher"), 'unknown service "gopher"'],
      [cmdline("switchboard", "serve", "--listen", "nonsense"), "process 7: bad address"],
    ];
    for (const [argv, message] of bad) {
      expect(() => targetsFromCmdline(argv, 7)).toThrow(ProbeTargetError);
      expect(() => targetsFromCmdline(argv, 7)).toThrow(message);
    }
  });

  test("reachable: only wildcards change", () => {
    expect(reachable({ transport: "tcp", hostname: "0.0.0.0", port: 1 })).toMatchObject({ hostname: "127.0.0.1" });
    expect(reachable({ transport: "tcp", hostname: "::", port: 1 })).toMatchObject({ hostname: "::1" });
    expect(reachable({ transport: "tcp", hostname: "0:0:0:0:0:0:0:0", port: 1 })).toMatchObject({ hostname: "::1" });
    expect(reachable({ transport: "tcp", hostname: "10.0.0.5", port: 1 })).toMatchObject({ hostname: "10.0.0.5" });
    expect(reachable({ transport: "tcp", hostname: "::1", port: 1 })).toMatchObject({ hostname: "::1" });
  });
});
