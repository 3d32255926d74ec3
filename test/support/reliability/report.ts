// Measurements are printed, not asserted to the millisecond: a 2-core CI machine is
// noisy. Each line is tagged so the figures can be collected into docs/limits.md.

export function measure(runtime: string, scenario: string, figures: Record<string, string | number | boolean>): void {
  const parts = Object.entries(figures).map(([k, v]) => `${k}=${typeof v === "number" ? round(v) : String(v)}`);
  console.log(`[measure] ${runtime} ${scenario}: ${parts.join(" ")}`);
}

function round(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  return Math.abs(n) >= 100 ? n.toFixed(0) : n.toFixed(1);
}

export const MiB = 1024 * 1024;

/** Latency percentiles of a list of milliseconds. */
export function spread(ms: readonly number[]): { p50: number; p99: number; max: number } {
  const s = [...ms].sort((a, b) => a - b);
  const at = (p: number) => (s.length ? s[Math.min(s.length - 1, Math.floor(p * s.length))]! : NaN);
  return { p50: at(0.5), p99: at(0.99), max: s.at(-1) ?? NaN };
}
