// A small, strict command-line parser: declared flags only, clear errors, exit code 2
// on misuse. Supports --flag value, --flag=value, -x value, bundled short options
// (-nc 2, -c2), repeatable flags and booleans. Kept runtime-free (docs/decisions.md):
// Node's util parseArgs would have to come through the Host.

import { AddrError, parseAddr } from "../addr.ts";
import { DurationError, parseDuration } from "../duration.ts";
import { formatSize, MAX_BUFFER_SIZE, parseSize as parseSizeText, SizeError } from "../size.ts";
import type { Addr } from "../transport.ts";

export class UsageError extends Error {
  override name = "UsageError";
}

export interface FlagSpec {
  /** Long name without dashes, e.g. "listen". */
  name: string;
  short?: string;
  /** "boolean" flags take no value. */
  kind: "string" | "boolean";
  repeatable?: boolean;
  /** Placeholder for help text, e.g. "ADDR". */
  value?: string;
  help: string;
  default?: string;
}

export interface Parsed {
  flags: Map<string, string[]>;
  positionals: string[];
}

export function parseArgs(argv: readonly string[], specs: readonly FlagSpec[]): Parsed {
  const byLong = new Map(specs.map((s) => [s.name, s]));
  const byShort = new Map(specs.filter((s) => s.short).map((s) => [s.short!, s]));
  const flags = new Map<string, string[]>();
  const positionals: string[] = [];
  const add = (spec: FlagSpec, value: string) => {
    const list = flags.get(spec.name) ?? [];
    if (list.length > 0 && !spec.repeatable) throw new UsageError(`option "--${spec.name}" given more than once`);
    list.push(value);
    flags.set(spec.name, list);
  };
  const needValue = (spec: FlagSpec, i: number): string => {
    if (i >= argv.length) throw new UsageError(`option "--${spec.name}" needs a value (${spec.value ?? "VALUE"})`);
    return argv[i]!;
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (arg.startsWith("--")) {
      const eq = arg.indexOf("=");
      const name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
      const spec = byLong.get(name);
      if (!spec) throw new UsageError(`unknown option "--${name}"`);
      if (spec.kind === "boolean") {
        if (eq >= 0) throw new UsageError(`option "--${spec.name}" takes no value`);
        add(spec, "true");
      } else {
        add(spec, eq >= 0 ? arg.slice(eq + 1) : needValue(spec, ++i));
      }
    } else if (arg.startsWith("-") && arg.length > 1 && !/^-\d/.test(arg)) {
      // Short options bundle as in getopt: -nc 2 is -n -c 2, and -c2 is -c 2.
      for (let j = 1; j < arg.length; j++) {
        const spec = byShort.get(arg[j]!);
        if (!spec) throw new UsageError(`unknown option "-${arg[j]}"${arg.length > 2 ? ` in "${arg}"` : ""}`);
        if (spec.kind === "boolean") {
          add(spec, "true");
          continue;
        }
        add(spec, j + 1 < arg.length ? arg.slice(j + 1) : needValue(spec, ++i));
        break;
      }
    } else {
      positionals.push(arg);
    }
  }
  for (const s of specs) if (s.default !== undefined && !flags.has(s.name)) flags.set(s.name, [s.default]);
  return { flags, positionals };
}

/** Help text for a command's flags, aligned. */
export function formatFlags(specs: readonly FlagSpec[]): string {
  const rows = specs.map((s) => {
    const names = `${s.short ? `-${s.short}, ` : "    "}--${s.name}${
      s.kind === "string" ? ` ${s.value ?? "VALUE"}` : ""
    }`;
    const extra = s.default !== undefined ? ` (default ${s.default})` : "";
    return [names, s.help + extra] as const;
  });
  const width = Math.max(...rows.map(([n]) => n.length));
  return rows.map(([n, h]) => `  ${n.padEnd(width)}  ${h}`).join("\n");
}

/** Read a flag given at most once. */
export function one(p: Parsed, name: string): string | undefined {
  return p.flags.get(name)?.[0];
}

export function has(p: Parsed, name: string): boolean {
  return p.flags.has(name);
}

/** Parse a whole number flag within [min, max]. */
export function intFlag(p: Parsed, name: string, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
  const v = one(p, name);
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max) {
    throw new UsageError(`--${name}: expected a whole number from ${min} to ${max}, not "${v}"`);
  }
  return Number(v);
}

/** A byte size with a default (a lone `parseSize` for text that is not a flag's). */
export function parseSize(text: string): number {
  try {
    return parseSizeText(text);
  } catch (err) {
    if (err instanceof SizeError) throw new UsageError(err.message);
    throw err;
  }
}

/**
 * Parse a size flag that has a default and check it against the option's own range
 * (every size flag of every command goes through here, so errors read the same):
 * `--max-frame: bad size "1TB" (expected e.g. ...)`, `--max-frame: at most 4GiB ..., not "..."`.
 */
export function sizeFlag(p: Parsed, name: string, range: { min: number; max: number }): number {
  const text = one(p, name)!;
  let n: number;
  try {
    n = parseSizeText(text);
  } catch (err) {
    if (err instanceof SizeError) throw new UsageError(`--${name}: ${err.message}`);
    throw err;
  }
  if (n < range.min) {
    throw new UsageError(`--${name}: must be at least ${range.min} byte${range.min === 1 ? "" : "s"}, not "${text}"`);
  }
  if (n > range.max) {
    throw new UsageError(`--${name}: must be at most ${formatSize(range.max)} (${range.max} bytes), not "${text}"`);
  }
  return n;
}

/** The usual range of a size flag: at least one byte, at most what a buffer can hold. */
export const BUFFER_RANGE = { min: 1, max: MAX_BUFFER_SIZE } as const;

/** Parse a duration flag (that has a default); a bad value is a usage error. */
export function durationFlag(p: Parsed, name: string): number {
  try {
    return parseDuration(one(p, name)!);
  } catch (err) {
    if (err instanceof DurationError) throw new UsageError(`--${name}: ${err.message}`);
    throw err;
  }
}

/** A flag (that has a default) whose value is one of `allowed`. */
export function enumFlag<T extends string>(p: Parsed, name: string, allowed: readonly T[]): T {
  const v = one(p, name)!;
  if (!(allowed as readonly string[]).includes(v)) {
    throw new UsageError(`--${name}: expected one of ${allowed.join(", ")}, not "${v}"`);
  }
  return v as T;
}

/** Parse an address argument (host 127.0.0.1 when omitted); a bad one is a usage error. */
export function addrArg(text: string): Addr {
  try {
    return parseAddr(text, "127.0.0.1");
  } catch (err) {
    if (err instanceof AddrError) throw new UsageError(err.message);
    throw err;
  }
}
