// The probe: a well-behaved client that, every ~250 ms, opens a fresh connection from
// its own source address (127.0.0.1; hostile clients use 127.0.0.2 and up), sends one
// line and expects it echoed. While hostile clients attack, every probe must still
// succeed; its latencies are the user-visible cost.
import * as net from "node:net";
import { Worker } from "node:worker_threads";
import { defer } from "./cleanup.ts";

export interface ProbeResult {
  ok: boolean;
  ms: number;
  error?: string;
}

/** One probe exchange: connect from `source`, send a line, wait for the same line back. */
export function probeOnce(
  host: string,
  port: number,
  source = "127.0.0.1",
  timeoutMs = 5000,
  seq = 0,
): Promise<ProbeResult> {
  const line = Buffer.from(`probe ${seq} ${Math.random().toString(36).slice(2)}\n`);
  const t0 = performance.now();
  return new Promise((resolve) => {
    let got = Buffer.alloc(0);
    let settled = false;
    const settle = (ok: boolean, error?: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ ok, ms: performance.now() - t0, error });
      socket.destroy();
    };
    const socket = net.connect({ host, port, localAddress: source });
    const timer = setTimeout(
      () => settle(false, `no echo within ${timeoutMs} ms (got ${got.length} bytes)`),
      timeoutMs,
    );
    socket.on("connect", () => socket.write(line));
    socket.on("data", (b: Buffer) => {
      got = Buffer.concat([got, b]);
      if (got.length >= line.length) {
        settle(got.subarray(0, line.length).equals(line), got.equals(line) ? undefined : "wrong echo");
      }
    });
    socket.on("error", (err: Error & { code?: string }) => settle(false, err.code ?? err.message));
    socket.on("close", () => settle(false, `closed after ${got.length} bytes`));
  });
}

export interface ProbeReport {
  attempts: number;
  ok: number;
  failed: number;
  failures: string[];
  p50: number;
  p99: number;
  max: number;
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/**
 * The periodic probe runs in a worker thread with its own event loop: the test's main
 * thread drives thousands of hostile sockets, and its event-loop delay (hundreds of ms
 * in a storm) would otherwise be measured as the server's latency.
 */
const WORKER = `
const net = require("node:net");
const { parentPort, workerData } = require("node:worker_threads");
const { host, port, source, intervalMs, timeoutMs, framing } = workerData;
const results = [];
let seq = 0;
function probe() {
  const text = Buffer.from("probe " + seq++ + " " + Math.random().toString(36).slice(2) + "\\n");
  // An echo re-encodes each frame the same way, so the bytes that come back are the bytes sent.
  let line = text;
  if (framing === "lp:u32") {
    line = Buffer.alloc(4 + text.length);
    line.writeUInt32BE(text.length, 0);
    text.copy(line, 4);
  }
  const t0 = performance.now();
  return new Promise((resolve) => {
    let got = Buffer.alloc(0);
    let done = false;
    const settle = (ok, error) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ ok, ms: performance.now() - t0, error });
    };
    const socket = net.connect({ host, port, localAddress: source });
    const timer = setTimeout(() => settle(false, "no echo within " + timeoutMs + " ms (got " + got.length + " bytes)"), timeoutMs);
    socket.on("connect", () => socket.write(line));
    socket.on("data", (b) => {
      got = Buffer.concat([got, b]);
      if (got.length >= line.length) settle(got.equals(line), got.equals(line) ? undefined : "wrong echo");
    });
    socket.on("error", (e) => settle(false, e.code || e.message));
    socket.on("close", () => settle(false, "closed after " + got.length + " bytes"));
  });
}
const pending = [];
const fire = () => pending.push(probe().then((r) => results.push(r)));
fire();
const timer = setInterval(fire, intervalMs);
parentPort.on("message", async () => {
  clearInterval(timer);
  await Promise.all(pending);
  parentPort.postMessage(results);
});
`;

/** Probes every `intervalMs` until stop(). */
export class Probe {
  #worker: Worker | undefined;
  #forget: (() => void) | undefined;

  constructor(
    private readonly host: string,
    private readonly port: number,
    private readonly opts: {
      source?: string;
      intervalMs?: number;
      timeoutMs?: number;
      /** The server's framing: a text line (the default), or one lp:u32 frame. */
      framing?: "line" | "lp:u32";
    } = {},
  ) {}

  start(): this {
    this.#worker = new Worker(WORKER, {
      eval: true,
      workerData: {
        host: this.host,
        port: this.port,
        source: this.opts.source ?? "127.0.0.1",
        intervalMs: this.opts.intervalMs ?? 250,
        timeoutMs: this.opts.timeoutMs ?? 5000,
        framing: this.opts.framing ?? "line",
      },
    });
    const worker = this.#worker;
    // A test that fails before stop() must not leave the worker probing.
    this.#forget = defer(() => worker.terminate());
    return this;
  }

  /** Stop probing, wait for the probes in flight, and summarise. */
  async stop(): Promise<ProbeReport> {
    const worker = this.#worker!;
    const results = await new Promise<ProbeResult[]>((resolve, reject) => {
      worker.once("message", resolve);
      worker.once("error", reject);
      worker.postMessage("stop");
    });
    this.#forget?.();
    await worker.terminate();
    const ms = results.filter((r) => r.ok).map((r) => r.ms).sort((a, b) => a - b);
    return {
      attempts: results.length,
      ok: ms.length,
      failed: results.length - ms.length,
      failures: results.filter((r) => !r.ok).map((r) => r.error ?? "?").slice(0, 5),
      p50: percentile(ms, 50),
      p99: percentile(ms, 99),
      max: ms.at(-1) ?? NaN,
    };
  }
}

export function formatProbe(r: ProbeReport): string {
  const f = (n: number) => (Number.isNaN(n) ? "-" : `${n.toFixed(1)}ms`);
  return `probe ${r.ok}/${r.attempts} ok, p50 ${f(r.p50)} p99 ${f(r.p99)} max ${f(r.max)}` +
    (r.failed ? ` failures: ${r.failures.join("; ")}` : "");
}
