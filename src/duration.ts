// Durations as users write them on the command line: 500ms, 5s, 2m, 1h, or 0 (off).

export class DurationError extends Error {
  override name = "DurationError";
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Parse a duration into milliseconds. "0" (any unit) means disabled and returns 0. */
export function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!m) throw new DurationError(`bad duration "${text}": expected e.g. 500ms, 5s, 2m, 1h or 0`);
  const value = Number(m[1]);
  if (value !== 0 && m[2] === undefined) {
    throw new DurationError(`bad duration "${text}": give a unit (ms, s, m or h)`);
  }
  return Math.round(value * UNIT_MS[m[2] ?? "ms"]!);
}

/** Print milliseconds the way parseDuration reads them. */
export function formatDuration(ms: number): string {
  if (ms === 0) return "0";
  for (const [unit, size] of [["h", 3_600_000], ["m", 60_000], ["s", 1000]] as const) {
    if (ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}
