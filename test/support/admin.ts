// Reaching a running server's admin endpoint (serve --admin) from a driver test: its
// address from the start-up log, plain HTTP requests, and raw ones for malformed input.
import * as net from "node:net";
import { spawnSync } from "node:child_process";
import type { RunningServer } from "./cli.ts";
import { waitFor } from "./sockets.ts";

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
 * server closed the connection without a status line). Bounded by `timeoutMs`.
 */
export function rawStatus(addr: string, request: string, timeoutMs = 10_000): Promise<string> {
  const m = /^(.*):(\d+)$/.exec(addr)!;
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host: m[1]!, port: Number(m[2]) });
    let got = "";
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`no answer within ${timeoutMs} ms; got ${JSON.stringify(got)}`));
    }, timeoutMs);
    const done = () => {
      clearTimeout(timer);
      sock.destroy();
      resolve(/^HTTP\/1\.[01] \d{3}/.exec(got)?.[0] ?? "closed");
    };
    sock.on("data", (b) => {
      got += b.toString("latin1");
      if (got.includes("\r\n")) done();
    });
    sock.on("error", () => done()); // a reset while we still write: no status line
    sock.on("close", done);
    sock.write(request, () => sock.end());
  });
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
