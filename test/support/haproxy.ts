// A real HAProxy (Debian's haproxy package) started by a test: a generated config on
// loopback, in the foreground, with an admin stats socket the test polls for server
// states (no fixed sleeps).
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createConnection } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Fail clearly when haproxy is not installed. */
export function requireHaproxy(): string {
  const r = spawnSync("haproxy", ["-v"], { encoding: "utf8" });
  if (r.error || r.status !== 0) {
    throw new Error(
      "this test needs HAProxy: install Debian's haproxy package (`apt-get install haproxy`; .ci/system-tools lists it)",
    );
  }
  return r.stdout.split("\n")[0]!;
}

import { freePort } from "./ports.ts"; // HAProxy cannot tell us the port it got for port 0

export interface HaproxyBackend {
  name: string;
  port: number;
}

export interface HaproxyOptions {
  servers: HaproxyBackend[];
  /**
   * Health check: "echo" sends a line and expects it back (a server that refuses checks
   * fails it, see serve --drain-delay); "connect" is a plain TCP connect check.
   */
  check: "echo" | "connect" | { sendHex: string; expect: string };
}

export interface RunningHaproxy {
  /** The frontend's port. */
  port: number;
  config: string;
  /** Server name -> status (UP, DOWN, ...), from `show stat` on the stats socket. */
  status(): Promise<Map<string, string>>;
  waitStatus(server: string, status: string, timeoutMs?: number): Promise<void>;
  log(): string;
  /** Client port -> the server HAProxy gave that connection to (from its per-connection log lines). */
  servers(): Map<number, string>;
  stop(): Promise<void>;
}

/** The config the test runs; docs/deploy.md shows the same, with its own addresses. */
export function haproxyConfig(frontendPort: number, statsSocket: string, o: HaproxyOptions): string {
  const check = o.check === "echo"
    ? ["  option tcp-check", "  tcp-check send health\\n", "  tcp-check expect string health"]
    : o.check === "connect"
    ? []
    : [
      "  option tcp-check",
      `  tcp-check send-binary ${o.check.sendHex}`,
      `  tcp-check expect string ${o.check.expect}`,
    ];
  return [
    "global",
    `  stats socket ${statsSocket} mode 600 level admin`,
    "  maxconn 4000",
    // One line per connection on stdout: client address, the server that had it, how it ended.
    "  log stdout format raw local0 info",
    "defaults",
    "  mode tcp",
    "  log global",
    '  log-format "conn %ci:%cp %s %ts"',
    "  timeout connect 1s",
    "  timeout client 10s",
    "  timeout server 10s",
    "  timeout check 1s",
    // A connection refused by an instance that just died is retried on another one.
    "  retries 3",
    "  option redispatch 1",
    "frontend fe",
    `  bind 127.0.0.1:${frontendPort}`,
    "  default_backend be",
    "backend be",
    "  balance leastconn",
    ...check,
    ...o.servers.map((s) => `  server ${s.name} 127.0.0.1:${s.port} send-proxy-v2 check inter 200ms fall 2 rise 2`),
    "",
  ].join("\n");
}

function statsCommand(socket: string, command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const c = createConnection(socket);
    let out = "";
    c.setEncoding("utf8");
    c.on("data", (d: string) => (out += d));
    c.on("error", reject);
    c.on("close", () => resolve(out));
    c.setTimeout(5000, () => c.destroy(new Error(`no answer from HAProxy's stats socket to "${command}"`)));
    c.end(`${command}\n`);
  });
}

export async function startHaproxy(o: HaproxyOptions): Promise<RunningHaproxy> {
  requireHaproxy();
  const dir = mkdtempSync(join(tmpdir(), "sb-haproxy-"));
  const socket = join(dir, "stats.sock");
  const port = await freePort();
  const config = haproxyConfig(port, socket, o);
  writeFileSync(join(dir, "haproxy.cfg"), config);
  const child: ChildProcess = spawn("haproxy", ["-db", "-f", join(dir, "haproxy.cfg")], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let log = "";
  child.stdout!.on("data", (b: Buffer) => (log += b.toString()));
  child.stderr!.on("data", (b: Buffer) => (log += b.toString()));
  const exited = new Promise<void>((resolve) => child.on("close", () => resolve()));
  const status = async () => {
    const csv = await statsCommand(socket, "show stat");
    const [head, ...rows] = csv.replace(/^# /, "").trim().split("\n").map((l) => l.split(","));
    const sv = head!.indexOf("svname"), st = head!.indexOf("status");
    return new Map(rows.map((r) => [r[sv]!, r[st]!]));
  };
  const h: RunningHaproxy = {
    port,
    config,
    status,
    async waitStatus(server, want, timeoutMs = 10_000) {
      let last = "";
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        last = (await status().catch(() => new Map<string, string>())).get(server) ?? "?";
        if (last.split(" ")[0] === want) return;
        await new Promise((r) => setTimeout(r, 20));
      }
      throw new Error(`HAProxy did not report ${server} ${want} within ${timeoutMs} ms (last: ${last}); log:\n${log}`);
    },
    log: () => log,
    servers: () => new Map([...log.matchAll(/^conn [\d.]+:(\d+) (\S+) /gm)].map((m) => [Number(m[1]), m[2]!])),
    async stop() {
      child.kill("SIGTERM");
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      child.kill("SIGKILL");
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    for (const s of o.servers) await h.waitStatus(s.name, "UP");
  } catch (err) {
    await h.stop();
    throw err;
  }
  return h;
}
