// The result of a bench run, as the documented JSON object (docs/bench.md: field names
// and units are a stable interface that scripts consume) and as the human summary.

import { ERROR_KINDS, type ErrorKind } from "./stats.ts";
import type { BenchStats } from "./stats.ts";

export interface LatencyUs {
  min: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
  mean: number;
}

export interface BenchResult {
  mode: string;
  target: string;
  runtime: string;
  /** --tls: every connection spoke TLS (connect mode: a full handshake each). */
  tls: boolean;
  /** --proxy: the PROXY header version every connection started with; null without. */
  proxy: "v1" | "v2" | null;
  connections: number;
  size: number;
  duration_s: number;
  warmup_s: number;
  requests: number;
  bytes: number;
  bytes_out: number;
  bytes_in: number;
  throughput_rps: number;
  throughput_bytes_s: number;
  latency_us: LatencyUs;
  errors: Record<ErrorKind, number>;
  error_examples: string[];
  /** Requests per second asked for with --rate; null in closed loop. */
  intended_rate: number | null;
  /** Open loop: requests that were due but not yet sent when the run ended. */
  unsent: number;
  timeline: { interval_s: number; requests: number[]; errors: number[] };
  /** hold mode: connections still open at the end, of those opened. */
  connections_opened?: number;
  connections_alive?: number;
  /** --pid: the server's CPU time (user + system) during the run, and per request. */
  server_cpu_s?: number;
  server_cpu_s_per_request?: number | null;
  /**
   * bench's own CPU time while measuring (Linux), per request, and as a share of one core:
   * near 1 the generator, not the server, may be what limits the figures.
   */
  bench_cpu_s?: number;
  bench_cpu_s_per_request?: number | null;
  bench_cpu_share?: number;
}

/** From this share of one core on, bench may be what limits the run (the summary says so). */
export const BENCH_SATURATED_SHARE = 0.9;

const round = (n: number, digits: number) => Number(n.toFixed(digits));

export interface RunInfo {
  mode: string;
  target: string;
  runtime: string;
  tls: boolean;
  proxy?: "v1" | "v2";
  connections: number;
  size: number;
  warmupMs: number;
  rate?: number;
  unsent: number;
}

export function buildResult(info: RunInfo, stats: BenchStats): BenchResult {
  const seconds = Math.max(1e-9, (stats.endMs - stats.startMs) / 1000);
  const h = stats.latency;
  const us = (ns: number) => round(ns / 1000, 1);
  const bytes = stats.bytesOut + stats.bytesIn;
  return {
    mode: info.mode,
    target: info.target,
    runtime: info.runtime,
    tls: info.tls,
    proxy: info.proxy ?? null,
    connections: info.connections,
    size: info.size,
    duration_s: round(seconds, 3),
    warmup_s: round(info.warmupMs / 1000, 3),
    requests: stats.requests,
    bytes,
    bytes_out: stats.bytesOut,
    bytes_in: stats.bytesIn,
    throughput_rps: round(stats.requests / seconds, 1),
    throughput_bytes_s: Math.round(bytes / seconds),
    latency_us: {
      min: us(h.min),
      p50: us(h.percentile(50)),
      p90: us(h.percentile(90)),
      p99: us(h.percentile(99)),
      p999: us(h.percentile(99.9)),
      max: us(h.max),
      mean: us(h.mean),
    },
    errors: { ...stats.errors },
    error_examples: [...stats.examples],
    intended_rate: info.rate ?? null,
    unsent: info.unsent,
    timeline: {
      interval_s: stats.intervalMs / 1000,
      requests: padTo(stats.timelineRequests, stats.timelineErrors.length),
      errors: padTo(stats.timelineErrors, stats.timelineRequests.length),
    },
  };
}

function padTo(list: number[], length: number): number[] {
  const out = [...list];
  while (out.length < length) out.push(0);
  return out;
}

export function errorTotal(r: BenchResult): number {
  return ERROR_KINDS.reduce((n, k) => n + r.errors[k], 0);
}

/** Microseconds the way people read them: 850us, 1.25ms, 2.40s. */
export function formatUs(us: number): string {
  if (us < 1000) return `${us.toFixed(us < 10 ? 1 : 0)}us`;
  if (us < 1_000_000) return `${(us / 1000).toFixed(2)}ms`;
  return `${(us / 1_000_000).toFixed(2)}s`;
}

/** Bytes per second: 12.3 MB/s (decimal units, as network rates are quoted). */
export function formatRate(bytesPerS: number): string {
  const units = ["B/s", "KB/s", "MB/s", "GB/s"];
  let v = bytesPerS;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${v.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
}

/** The human summary printed on stdout without --json. */
export function formatResult(r: BenchResult): string {
  const l = r.latency_us;
  const lines = [
    `bench ${r.mode} ${r.target} (${
      [r.runtime, r.tls ? "tls" : "", r.proxy ? `proxy ${r.proxy}` : ""].filter(Boolean).join(", ")
    }): ` +
    `${r.connections} connections, ${r.duration_s}s` +
    (r.warmup_s > 0 ? ` after ${r.warmup_s}s warm-up` : "") +
    (r.intended_rate !== null
      ? `, open loop at ${r.intended_rate}/s`
      : r.mode === "stream" || r.mode === "hold"
      ? ""
      : ", closed loop"),
    `  requests    ${r.requests} (${r.throughput_rps}/s)`,
    `  bytes       ${r.bytes_out} out, ${r.bytes_in} in (${formatRate(r.throughput_bytes_s)})`,
    `  latency     p50 ${formatUs(l.p50)}  p90 ${formatUs(l.p90)}  p99 ${formatUs(l.p99)}  p99.9 ${
      formatUs(l.p999)
    }  max ${formatUs(l.max)}  mean ${formatUs(l.mean)}`,
    `  errors      ${errorTotal(r)} (${ERROR_KINDS.map((k) => `${k} ${r.errors[k]}`).join(", ")})`,
  ];
  if (r.intended_rate !== null && r.unsent > 0) {
    lines.push(`  unsent      ${r.unsent} requests were due but not sent when the run ended (server too slow)`);
  }
  if (r.connections_opened !== undefined) {
    lines.push(`  held        ${r.connections_alive} of ${r.connections_opened} connections still open at the end`);
  }
  if (r.server_cpu_s !== undefined) {
    const per = r.server_cpu_s_per_request;
    lines.push(
      `  server cpu  ${r.server_cpu_s.toFixed(2)}s` + (per != null ? ` (${formatUs(per * 1e6)} per request)` : ""),
    );
  }
  if (r.bench_cpu_s !== undefined) {
    const per = r.bench_cpu_s_per_request;
    lines.push(
      `  bench cpu   ${r.bench_cpu_s.toFixed(2)}s` + (per != null ? ` (${formatUs(per * 1e6)} per request, ` : " (") +
        `${Math.round((r.bench_cpu_share ?? 0) * 100)}% of one core)`,
    );
    if ((r.bench_cpu_share ?? 0) >= BENCH_SATURATED_SHARE) {
      lines.push("  note        bench kept a core busy: it may be the limit, not the server (docs/bench.md)");
    }
  }
  for (const e of r.error_examples) lines.push(`  e.g. ${e}`);
  return lines.join("\n") + "\n";
}
