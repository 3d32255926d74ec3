// Byte sizes as users write them on the command line: 65536, 64KiB, 1MiB, 1MB.
// KB/MB/GB are decimal (10^3, 10^6, 10^9) and KiB/MiB/GiB binary (2^10, 2^20, 2^30),
// as in IEC 80000-13 and dd; units are case-insensitive; no other units are accepted.

export class SizeError extends Error {
  override name = "SizeError";
}

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;

const UNITS: Record<string, number> = {
  "": 1,
  b: 1,
  kb: 1000,
  mb: 1000_000,
  gb: 1000_000_000,
  kib: KiB,
  mib: MiB,
  gib: GiB,
};

/** What a size error message shows as examples. */
export const SIZE_EXAMPLES = "65536, 64KiB, 1MiB, 1MB";

/**
 * Parse a byte size. Digits too many for a safe integer give a number above every
 * limit (callers range-check), never a rounded one that passes.
 */
export function parseSize(text: string): number {
  const m = /^(\d+)\s*([a-z]*)$/i.exec(text.trim());
  const unit = m ? UNITS[m[2]!.toLowerCase()] : undefined;
  if (!m || unit === undefined) throw new SizeError(`bad size "${text}" (expected e.g. ${SIZE_EXAMPLES})`);
  const n = Number(m[1]) * unit;
  return Number.isSafeInteger(n) ? n : Infinity;
}

/** A size the way parseSize reads it back: the largest binary unit that divides it exactly. */
export function formatSize(bytes: number): string {
  for (const [unit, size] of [["GiB", GiB], ["MiB", MiB], ["KiB", KiB]] as const) {
    if (bytes >= size && bytes % size === 0) return `${bytes / size}${unit}`;
  }
  return String(bytes);
}

/**
 * The largest frame, app content or reply any switchboard size flag accepts: 4 GiB, the
 * longest Uint8Array Node and Bun can allocate (buffer.constants.MAX_LENGTH = 2^32; Deno's
 * V8 is the same), which also covers every length an lp:u32 prefix can carry.
 */
export const MAX_BUFFER_SIZE = 4 * GiB;
