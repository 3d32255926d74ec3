// One bench run: set up the mode, warm up (results thrown away), measure for the
// duration, stop sending, wait for the requests in flight (each bounded by waitMs), and
// hand back the counts. Runtime-free: a Transport and performance.now() only.

import type { Addr, TlsClientOptions, Transport } from "../transport.ts";
import { connectOptions } from "./connect-options.ts";
import { framingFactory } from "../codec/index.ts";
import { AppExchange, EchoExchange, type Exchange, FramedExchange } from "./exchange.ts";
import { RateSchedule } from "./rate-schedule.ts";
import { RequestLoop } from "./request-loop.ts";
import { BenchStats } from "./stats.ts";
import { HoldRun } from "./hold.ts";
import { StreamRun } from "./stream.ts";

export const BENCH_MODES = ["echo", "stream", "connect", "hold", "framed", "app"] as const;
export type BenchMode = (typeof BENCH_MODES)[number];

export interface BenchConfig {
  mode: BenchMode;
  addr: Addr;
  connections: number;
  durationMs: number;
  warmupMs: number;
  /** Payload bytes per request (stream: per write). */
  size: number;
  /** Requests per second across all connections (open loop); undefined = closed loop. */
  rate?: number;
  /** framed mode: the server's --framing. */
  framing?: string;
  /** app mode: a new connection for every request. */
  newConn: boolean;
  connectTimeoutMs: number;
  waitMs: number;
  /** Largest reply frame or app content accepted. */
  maxReply: number;
  /** Speak TLS on every connection (--tls and friends); connect() resolves after the handshake. */
  tls?: TlsClientOptions;
}

export interface BenchOutcome {
  stats: BenchStats;
  unsent: number;
  /** Open loop: requests that fell due in all (answered, failed or unsent). */
  scheduled?: number;
  held?: { opened: number; alive: number };
}

/** Timeline interval: 100 ms, wider for long runs so the timeline stays near 300 points. */
export function timelineInterval(durationMs: number): number {
  return Math.max(100, Math.ceil(durationMs / 300 / 100) * 100);
}

/** `copyBelow`: the transport's decoder hint (Transport.copyFramesBelow). */
function exchangeFactory(c: BenchConfig, copyBelow: number | undefined): () => Exchange {
  switch (c.mode) {
    case "framed": {
      const codecs = framingFactory(c.framing ?? "line", { maxFrame: Math.max(c.maxReply, c.size) });
      return () => new FramedExchange(codecs(), c.size, copyBelow);
    }
    case "app":
      return () => new AppExchange(c.size, c.maxReply, copyBelow);
    default:
      return () => new EchoExchange(c.size);
  }
}

interface Runner {
  start(): void;
  stop(): Promise<void>;
}

export async function runBench(
  transport: Transport,
  c: BenchConfig,
  hooks: {
    onStart?(stats: BenchStats): void;
    onMeasure?(): void;
    /** Resolves to end the run early (Ctrl-C): what was measured so far is kept. */
    stopEarly?: Promise<void>;
  } = {},
): Promise<BenchOutcome> {
  const stats = new BenchStats(timelineInterval(c.durationMs));
  let runner: Runner;
  let loop: RequestLoop | undefined;
  let hold: HoldRun | undefined;
  if (c.mode === "hold") {
    runner = hold = new HoldRun(transport, c, stats);
  } else if (c.mode === "stream") {
    runner = new StreamRun(transport, c, stats);
  } else {
    const perRequest = c.mode === "connect" || (c.mode === "app" && c.newConn);
    loop = new RequestLoop({
      transport,
      connect: connectOptions(c),
      connections: c.connections,
      connectTimeoutMs: c.connectTimeoutMs,
      waitMs: c.waitMs,
      perRequest,
      exchange: exchangeFactory(c, transport.copyFramesBelow),
      stats,
    });
    await loop.connectAll();
    runner = loop;
  }
  // the clock starts once the connections are up; the schedule and the measurement share it
  const t0 = performance.now();
  if (loop && c.rate !== undefined) loop.options.schedule = new RateSchedule(c.rate, t0);
  hooks.onStart?.(stats);
  if (c.warmupMs === 0) {
    stats.startMeasuring(t0);
    hooks.onMeasure?.();
  }
  runner.start();
  const stopEarly = hooks.stopEarly ?? new Promise<void>(() => {});
  let early = false;
  void stopEarly.then(() => (early = true));
  if (c.warmupMs > 0) {
    await sleep(c.warmupMs, stopEarly);
    stats.startMeasuring(performance.now());
    hooks.onMeasure?.();
  }
  if (!early) await sleep(c.durationMs, stopEarly);
  await runner.stop();
  stats.stopMeasuring(performance.now());
  return {
    stats,
    unsent: loop?.unsent ?? 0,
    scheduled: loop?.options.schedule?.issued,
    held: hold ? { opened: hold.opened, alive: hold.alive } : undefined,
  };
}

/** Wait `ms`, or less when `stop` resolves first (the timer is cleared then, not left running). */
function sleep(ms: number, stop: Promise<void>): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    void stop.then(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}
