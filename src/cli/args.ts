// A small, strict command-line parser: declared flags only, clear errors, exit code 2
// on misuse. Supports --flag value, --flag=value, -x value, repeatable flags and booleans.

import { AddrError, parseAddr } from "../addr.ts";
import { DurationError, parseDuration } from "../duration.ts";
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
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    let spec: FlagSpec | undefined;
    let inline: string | undefined;
    if (arg.startsWith("--")) {
      const eq = arg.indexOf("=");
      const name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
      if (eq >= 0) inline = arg.slice(eq + 1);
      spec = byLong.get(name);
      if (!spec) throw new UsageError(`unknown option "--${name}"`);
    } else if (arg.startsWith("-") && arg.length > 1 && !/^-\d/.test(arg)) {
      spec = byShort.get(arg.slice(1));
      if (!spec) throw new UsageError(`unknown option "${arg}"`);
    } else {
      positionals.push(arg);
      continue;
    }
    let value: string;
    if (spec.kind === "boolean") {
      if (inline !== undefined) throw new UsageError(`option "--${spec.name}" takes no value`);
      value = "true";
    } else if (inline !== undefined) {
      value = inline;
    } else {
      if (i + 1 >= argv.length) {
        throw new UsageError(`option "--${spec.name}" needs a value (${spec.value ?? "VALUE"})`);
      }
      value = argv[++i]!;
    }
    const list = flags.get(spec.name) ?? [];
    if (list.length > 0 && !spec.repeatable) throw new UsageError(`option "--${spec.name}" given more than once`);
    list.push(value);
    flags.set(spec.name, list);
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
    throw new UsageError(`option "--${name}" must be a whole number from ${min} to ${max}, not "${v}"`);
  }
  return Number(v);
}

const SIZE_UNITS: Record<string, number> = {
  "": 1,
  b: 1,
  k: 1024,
  kb: 1024,
  kib: 1024,
  m: 1 << 20,
  mb: 1 << 20,
  mib: 1 << 20,
  g: 1 << 30,
  gb: 1 << 30,
  gib: 1 << 30,
};

/** Parse a byte size like 65536, 64k, 64KiB, 1m, 1MiB. */
export function parseSize(text: string): number {
  const m = /^(\d+)\s*([a-z]*)$/i.exec(text.trim());
  const unit = m ? SIZE_UNITS[m[2]!.toLowerCase()] : undefined;
  if (!m || unit === undefined) throw new UsageError(`bad size "${text}": expected e.g. 65536, 64KiB or 1MiB`);
  return Number(m[1]) * unit;
}

/** Parse a duration flag (that has a default); a bad value is a usage error. */
export function durationFlag(p: Parsed, name: string): number {
  try {
    return parseDuration(one(p, name)!);
  } catch (err) {
    if (err instanceof DurationError) throw new UsageError(`option "--${name}": ${err.message}`);
    throw err;
  }
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
