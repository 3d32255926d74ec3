// Shared limit defaults and option validation for the codecs.

/** Default maximum frame (payload) size: 1 MiB, the documented server default. */
export const DEFAULT_MAX_FRAME = 1024 * 1024;

/** Validates a byte-count option: a non-negative safe integer (at least `min`). */
export function checkCount(name: string, value: number, min = 0): number {
  if (!Number.isSafeInteger(value) || value < min) {
    throw new RangeError(`${name} must be an integer >= ${min}, got ${String(value)}`);
  }
  return value;
}
