// Reaching a running server's admin endpoint (serve --admin) from a driver test: its
// address from the start-up log, plain HTTP requests, and raw ones for malformed input.
import { spawnSync } from "node:child_process";
import type { RunningServer } from "./cli.ts";
import { exchange, waitFor, withTimeout } from "./sockets.ts";
import { nodeTransport } from "../../adapters/node/transport.ts";

/** The admin endpoint's host:port from the `admin endpoint ready admin=ADDR` log line. */
export async function adminAddr(server: RunningServer): Promise<string> {
  await waitFor(() => /admin=\S+/.test(server.log()), "the admin endpoint ready line");
  return /admin=(\S+)/.exec(server.log())![1]!;
}

export async function get(addr: string, path: string, init: RequestInit = {}): Promise<Response> {
  return await fetch(`http://${addr}${path}`, { ...init, signal: AbortSignal.timeout(10_000) });
}

/** GET a path and return the body text, failing on anything but 200. */
export async function getText(addr: string, path: string): Promise<string> {
  const r = await get(addr, path);
  const body = await r.text();
  if (r.status !== 200) throw new Error(`GET ${path}: ${r.status} ${body}`);
  return body;
}

/**
 * Send raw bytes and return the HTTP status line of the answer (or "closed" when the
 * server closed the connection without a status line). Bounded by `timeoutMs`. Sent
 * through the Node adapter, which still reads what the server said when a write of ours
 * fails on its reset (a plain net.Socket drops that): a server that answers a huge request
 * and closes with the rest unread must not read as one that never answered.
 */
export async function rawStatus(addr: string, request: string, timeoutMs = 10_000): Promise<string> {
  const m = /^(.*):(\d+)$/.exec(addr)!;
  const r = await withTimeout(
    exchange(nodeTransport, { transport: "tcp", hostname: m[1]!, port: Number(m[2]) }, Buffer.from(request, "latin1"), {
      writeSize: 64 * 1024,
    }),
    timeoutMs,
    `an answer to a raw request to ${addr}`,
  );
  const got = Buffer.from(r.received).toString("latin1");
  return /^HTTP\/1\.[01] \d{3}/.exec(got)?.[0] ?? "closed";
}

/** One metric sample's value from Prometheus text, e.g. sample(text, 'x_total{reason="a"}'). */
export function sample(text: string, series: string): number {
  for (const line of text.split("\n")) {
    if (line.startsWith(series + " ")) return Number(line.slice(series.length + 1));
  }
  throw new Error(`no sample ${series} in:\n${text}`);
}

/** Ask `probe` until `ok` holds of its answer (every 50 ms, up to `timeoutMs`); returns that answer. */
export async function pollUntil<T>(
  probe: () => Promise<T>,
  ok: (v: T) => boolean,
  what: string,
  timeoutMs = 10_000,
): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (ok(v)) return v;
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last: ${String(v)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** `promtool check metrics` (Debian's prometheus package) on the text: its exit status and what it said. */
export function promtool(text: string): { status: number | null; output: string } {
  const r = spawnSync("promtool", ["check", "metrics"], { input: text, encoding: "utf8", timeout: 30_000 });
  if (r.error) {
    throw new Error(
      `this test needs promtool (Debian package "prometheus"; .ci/system-tools installs it): ${r.error.message}`,
    );
  }
  return { status: r.status, output: r.stdout + r.stderr };
}
