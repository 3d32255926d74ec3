// The JSON object `switchboard bench --json` prints (docs/bench.md), parsed and checked
// against the documented shape, for the e2e tests that run bench as a child process.
import { expect } from "vitest";

export const ERROR_KINDS = ["connect", "reset", "timeout", "verify", "other"];

export interface BenchJson {
  mode: string;
  target: string;
  runtime: string;
  tls: boolean;
  proxy: "v1" | "v2" | null;
  connections: number;
  duration_s: number;
  requests: number;
  bytes: number;
  bytes_out: number;
  bytes_in: number;
  throughput_rps: number;
  throughput_bytes_s: number;
  latency_us: Record<"min" | "p50" | "p90" | "p99" | "p999" | "max" | "mean", number>;
  errors: Record<string, number>;
  error_examples: string[];
  timeline: { interval_s: number; requests: number[]; errors: number[] };
  connections_opened?: number;
  connections_alive?: number;
}

/** Parse --json output (one line, one object) and check the fields every run has. */
export function parseBenchJson(stdout: Buffer): BenchJson {
  const text = stdout.toString();
  expect(text.endsWith("}\n"), text).toBe(true);
  const r = JSON.parse(text) as BenchJson;
  for (const f of ["connections", "duration_s", "requests", "bytes", "throughput_rps", "throughput_bytes_s"] as const) {
    expect(typeof r[f], f).toBe("number");
  }
  expect(typeof r.tls).toBe("boolean");
  expect(Object.keys(r.errors).sort()).toEqual([...ERROR_KINDS].sort());
  expect(r.bytes).toBe(r.bytes_out + r.bytes_in);
  expect(r.timeline.requests.reduce((a, b) => a + b, 0)).toBe(r.requests);
  expect(r.timeline.errors.reduce((a, b) => a + b, 0)).toBe(ERROR_KINDS.reduce((n, k) => n + r.errors[k]!, 0));
  return r;
}

export const NO_ERRORS = { connect: 0, reset: 0, timeout: 0, verify: 0, other: 0 };
