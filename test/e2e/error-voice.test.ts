// The same failure reads the same on every runtime: the real CLI on Node, Deno and Bun
// must print byte-identical stderr and exit with the same code for each failure a script
// may meet (refused, port 0, unknown host, reset, busy port, unix socket in a missing
// directory, a file that cannot be read).
import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import * as net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { CLI_RUNTIMES, cliCommand, runCli } from "../support/cli.ts";

/** Listen on 127.0.0.1:0 with node:net; the caller closes it (or keeps it busy). */
async function nodeListener(
  onConn: (s: net.Socket) => void = (s) => s.destroy(),
): Promise<{ server: net.Server; port: number }> {
  const server = net.createServer(onConn);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  return { server, port: (server.address() as net.AddressInfo).port };
}

function close(server: net.Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

/** Runs `args` on every runtime at once; expects the same stderr and exit code on all, and returns them. */
async function sameOnEveryRuntime(args: string[]): Promise<{ stderr: string; code: number | null }> {
  const runs = await Promise.all(CLI_RUNTIMES.map((rt) => runCli(rt, args, { timeoutMs: 20_000 })));
  const byRuntime = Object.fromEntries(
    CLI_RUNTIMES.map((rt, i) => [rt, { code: runs[i]!.code, stderr: runs[i]!.stderr }]),
  );
  for (const r of runs) {
    expect({ code: r.code, stderr: r.stderr }, JSON.stringify(byRuntime, null, 1)).toEqual({
      code: runs[0]!.code,
      stderr: runs[0]!.stderr,
    });
  }
  return { stderr: runs[0]!.stderr, code: runs[0]!.code };
}

describe("errors read the same on node, deno and bun", () => {
  let closedPort: number;
  let busy: { server: net.Server; port: number };
  let missingDir: string;
  beforeAll(async () => {
    const gone = await nodeListener();
    closedPort = gone.port;
    await close(gone.server); // a port that was just closed: connecting is refused
    busy = await nodeListener();
    missingDir = mkdtempSync(join(tmpdir(), "sb-voice-"));
    rmSync(missingDir, { recursive: true });
  });
  afterAll(async () => {
    await close(busy.server);
  });

  test("send to a closed port: connection refused (ECONNREFUSED)", async () => {
    const r = await sameOnEveryRuntime(["send", `127.0.0.1:${closedPort}`, "x"]);
    expect(r.stderr).toBe(
      `switchboard: cannot connect to 127.0.0.1:${closedPort}: connection refused (ECONNREFUSED)\n`,
    );
    expect(r.code).toBe(1);
  });

  test("send to port 0: connection refused (ECONNREFUSED), also on Deno", async () => {
    const r = await sameOnEveryRuntime(["send", "127.0.0.1:0", "x"]);
    expect(r.stderr).toBe("switchboard: cannot connect to 127.0.0.1:0: connection refused (ECONNREFUSED)\n");
    expect(r.code).toBe(1);
  });

  test("request to a closed port: the same sentence as send", async () => {
    const r = await sameOnEveryRuntime(["request", `127.0.0.1:${closedPort}`, "search", "x"]);
    expect(r.stderr).toBe(
      `switchboard: cannot connect to 127.0.0.1:${closedPort}: connection refused (ECONNREFUSED)\n`,
    );
    expect(r.code).toBe(1);
  });

  test("send to an unknown host (.invalid): host not found (ENOTFOUND)", async () => {
    const r = await sameOnEveryRuntime(["send", "switchboard-test.invalid:7", "x"]);
    expect(r.stderr).toBe("switchboard: cannot connect to switchboard-test.invalid:7: host not found (ENOTFOUND)\n");
    expect(r.code).toBe(1);
  });

  test("send when the DNS server does not answer: temporary failure in name resolution (EAI_AGAIN)", async () => {
    // Each CLI runs in its own mount namespace whose /etc/resolv.conf names a loopback
    // address where no DNS server listens. Deno used to call this an unknown host (ENOTFOUND).
    const resolv = join(tmpdir(), `sb-voice-resolv-${process.pid}.conf`);
    writeFileSync(resolv, "nameserver 127.77.77.77\noptions timeout:1 attempts:1\n");
    const which = spawnSync("unshare", ["-m", "true"]);
    expect(which.error === undefined && which.status === 0, "this test needs unshare (util-linux) and root").toBe(true);
    try {
      const inNamespace = (rt: (typeof CLI_RUNTIMES)[number]): [string, string[]] => {
        const [cmd, pre] = cliCommand(rt);
        return ["unshare", ["-m", "sh", "-c", 'mount --bind "$0" /etc/resolv.conf && exec "$@"', resolv, cmd, ...pre]];
      };
      const args = ["send", "switchboard-test.invalid:7", "x"];
      const runs = await Promise.all(
        CLI_RUNTIMES.map((rt) => runCli(rt, args, { command: inNamespace(rt), timeoutMs: 20_000 })),
      );
      const seen = CLI_RUNTIMES.map((rt, i) => `${rt}: exit ${runs[i]!.code} ${runs[i]!.stderr}`).join("");
      for (const r of runs) {
        expect({ code: r.code, stderr: r.stderr }, seen).toEqual({
          code: 1,
          stderr:
            "switchboard: cannot connect to switchboard-test.invalid:7: temporary failure in name resolution (EAI_AGAIN)\n",
        });
      }
    } finally {
      rmSync(resolv, { force: true });
    }
  });

  test("send to a server that resets or closes mid-request: connection reset by peer (ECONNRESET)", async () => {
    // Natively "read ECONNRESET" or "write EPIPE" on Node, "Connection reset by peer (os
    // error 104)" or "Broken pipe (os error 32)" on Deno, "... (EPIPE)" on Bun, whichever
    // the client meets first. The server says nothing, so the error is all there is to print.
    const big = new Uint8Array(4 * 1024 * 1024).fill(0x61);
    const servers = {
      "resets (RST)": (s: net.Socket) => s.once("data", () => s.resetAndDestroy()),
      "closes with the request unread": (s: net.Socket) => s.once("data", () => s.destroy()),
    };
    for (const [how, onConn] of Object.entries(servers)) {
      const { server, port } = await nodeListener(onConn);
      try {
        const runs = await Promise.all(
          CLI_RUNTIMES.map((rt) => runCli(rt, ["send", `127.0.0.1:${port}`], { stdin: big })),
        );
        const seen = CLI_RUNTIMES.map((rt, i) => `${rt}: exit ${runs[i]!.code} ${runs[i]!.stderr}`).join("");
        for (const r of runs) {
          expect(r.code, `server that ${how}:\n${seen}`).toBe(1);
          expect(r.stderr, `server that ${how}:\n${seen}`).toBe(runs[0]!.stderr);
        }
        expect(runs[0]!.stderr).toContain(`127.0.0.1:${port}`);
        expect(runs[0]!.stderr).toMatch(/: connection reset by peer \(ECONNRESET\)\n$/);
      } finally {
        await close(server);
      }
    }
  });

  test("a file that cannot be read: the same sentence and code (request --file, serve --data)", async () => {
    // Natively "ENOENT: no such file or directory, open '...'" (Node, Bun) and "No such file
    // or directory (os error 2): readfile '...'" (Deno); a directory is "Directories cannot
    // be read like files" on Bun.
    const missing = join(missingDir, "x.json");
    for (
      const [args, want] of [
        [["request", "127.0.0.1:1", "--binary", "--file", missing], "no such file or directory (ENOENT)"],
        [["request", "127.0.0.1:1", "--binary", "--file", tmpdir()], "is a directory (EISDIR)"],
        [
          ["serve", "--service", "app", "--listen", "127.0.0.1:0", "--data", missing],
          "no such file or directory (ENOENT)",
        ],
      ] as const
    ) {
      const r = await sameOnEveryRuntime([...args]);
      // request names the file in the contract's form; serve names the option that gave it.
      expect(r.stderr).toMatch(
        args[0] === "serve" ? /^switchboard: --data "[^"]+": cannot read: / : /^switchboard: cannot read /,
      );
      expect(r.stderr.endsWith(`: ${want}\n`), r.stderr).toBe(true);
      expect(r.code).toBe(1);
    }
  });

  test("serve on a busy port: address already in use (EADDRINUSE)", async () => {
    const r = await sameOnEveryRuntime(["serve", "--listen", `127.0.0.1:${busy.port}`]);
    expect(r.stderr).toBe(
      `switchboard: cannot listen on 127.0.0.1:${busy.port}: address already in use (EADDRINUSE)\n`,
    );
    expect(r.code).toBe(1);
  });

  test("serve where it may not, as an unprivileged user: permission denied (EACCES)", async () => {
    // A privileged port, and a unix socket in a directory it may not enter (a real EACCES:
    // Node's correction of libuv's EACCES-for-ENOENT must leave this one alone).
    const start = Number(readFileSync("/proc/sys/net/ipv4/ip_unprivileged_port_start", "utf8"));
    expect(start > 1, `needs privileged ports (ip_unprivileged_port_start is ${start})`).toBe(true);
    const which = spawnSync("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", "true"]);
    expect(which.error === undefined && which.status === 0, "this test needs setpriv (util-linux) and root").toBe(true);
    const home = mkdtempSync(join(tmpdir(), "sb-voice-home-"));
    chmodSync(home, 0o777); // the unprivileged user's HOME and DENO_DIR
    const closedDir = mkdtempSync(join(tmpdir(), "sb-voice-closed-")); // 0700, root's
    try {
      const asNobody = (rt: (typeof CLI_RUNTIMES)[number]): [string, string[]] => {
        const [cmd, pre] = cliCommand(rt);
        const env = ["env", `HOME=${home}`, `DENO_DIR=${home}/deno`];
        return ["setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", ...env, cmd, ...pre]];
      };
      for (
        const [listen, want] of [
          ["127.0.0.1:1", "switchboard: cannot listen on 127.0.0.1:1: permission denied (EACCES)\n"],
          [
            `unix:${closedDir}/s.sock`,
            `switchboard: cannot listen on unix:${closedDir}/s.sock: permission denied (EACCES)\n`,
          ],
        ]
      ) {
        const runs = await Promise.all(
          CLI_RUNTIMES.map((rt) =>
            runCli(rt, ["serve", "--listen", listen!], { command: asNobody(rt), timeoutMs: 20_000 })
          ),
        );
        const seen = CLI_RUNTIMES.map((rt, i) => `${rt}: exit ${runs[i]!.code} ${runs[i]!.stderr}`).join("");
        for (const r of runs) expect({ code: r.code, stderr: r.stderr }, seen).toEqual({ code: 1, stderr: want });
      }
    } finally {
      rmSync(home, { recursive: true, force: true });
      rmSync(closedDir, { recursive: true, force: true });
    }
  });

  test("serve on a unix socket in a missing directory: no such file or directory (ENOENT), also on Node", async () => {
    const path = join(missingDir, "s.sock");
    const r = await sameOnEveryRuntime(["serve", "--listen", `unix:${path}`]);
    expect(r.stderr).toBe(`switchboard: cannot listen on unix:${path}: no such file or directory (ENOENT)\n`);
    expect(r.code).toBe(1);
  });
});
