// Durations as users write them on the command line: 500ms, 5s, 2m, 1h, or 0 (off).

export class DurationError extends Error {
  override name = "DurationError";
}

/** The longest delay setTimeout honours on Node, Deno and Bun (2^31-1 ms, about 24.8 days). */
export const MAX_DURATION_MS = 2 ** 31 - 1;

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Parse a duration into milliseconds. "0" (any unit) means disabled and returns 0. */
export function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!m) throw new DurationError(`bad duration "${text}": expected e.g. 500ms, 5s, 2m, 1h or 0`);
  const value = Number(m[1]);
  if (value !== 0 && m[2] === undefined) {
    throw new DurationError(`bad duration "${text}": give a unit (ms, s, m or h)`);
  }
  const ms = Math.round(value * UNIT_MS[m[2] ?? "ms"]!);
  // 0 means "disabled": a non-zero duration must not round to it.
  if (value !== 0 && ms === 0) throw new DurationError(`bad duration "${text}": shorter than 1ms (use 0 to disable)`);
  // Timers take at most 2^31-1 ms; longer ones fire at once on every runtime.
  if (ms > MAX_DURATION_MS) throw new DurationError(`bad duration "${text}": longer than the 24-day maximum`);
  return ms;
}

/** Print milliseconds the way parseDuration reads them. */
export function formatDuration(ms: number): string {
  if (ms === 0) return "0";
  for (const [unit, size] of [["h", 3_600_000], ["m", 60_000], ["s", 1000]] as const) {
    if (ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}
