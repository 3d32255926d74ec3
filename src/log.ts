// Structured log lines, as text (key=value) or JSON, one line per event.

import type { Output } from "./host.ts";

/** Severity of a log line; a logger writes its level and above. */
export type LogLevel = "debug" | "info" | "warn" | "error";
/** `text`: `TIME LEVEL msg key=value ...`; `json`: one JSON object per line. */
export type LogFormat = "text" | "json";
/** The key=value fields of a log line; `undefined` ones are left out. */
export type LogFields = Record<string, string | number | boolean | undefined>;

const LEVELS: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** Where the core logs events; any object with these methods will do. */
export interface Logger {
  /** One line at `level`. */
  log(level: LogLevel, msg: string, fields?: LogFields): void;
  /** One line at debug (per-connection lines). */
  debug(msg: string, fields?: LogFields): void;
  /** One line at info (listening, shutting down). */
  info(msg: string, fields?: LogFields): void;
  /** One line at warn (limits acting, odd peers). */
  warn(msg: string, fields?: LogFields): void;
  /** One line at error (failures). */
  error(msg: string, fields?: LogFields): void;
  /**
   * Whether lines of `level` are written. Hot paths ask once, up front, so that a line
   * nobody will see costs nothing to build. A logger without it is taken to write all.
   */
  enabled?(level: LogLevel): boolean;
}

function textValue(v: string | number | boolean): string {
  const s = String(v);
  return /^[\w.:\/\[\]@+-]+$/.test(s) ? s : JSON.stringify(s);
}

/** Render one line (exported for tests and for anything that logs elsewhere). */
export function formatLine(
  format: LogFormat,
  time: Date,
  level: LogLevel,
  msg: string,
  fields: LogFields = {},
): string {
  if (format === "json") {
    return JSON.stringify({ time: time.toISOString(), level, msg, ...fields }) + "\n";
  }
  let line = `${time.toISOString()} ${level.toUpperCase().padEnd(5)} ${msg}`;
  for (const [k, v] of Object.entries(fields)) if (v !== undefined) line += ` ${k}=${textValue(v)}`;
  return line + "\n";
}

/** A logger writing `format` lines of `minLevel` and above to `out` (default: text, info). */
export function createLogger(out: Output, format: LogFormat = "text", minLevel: LogLevel = "info"): Logger {
  const min = LEVELS[minLevel];
  const log = (level: LogLevel, msg: string, fields?: LogFields) => {
    if (LEVELS[level] < min) return;
    void out.write(formatLine(format, new Date(), level, msg, fields));
  };
  return {
    log,
    debug: (m, f) => log("debug", m, f),
    info: (m, f) => log("info", m, f),
    warn: (m, f) => log("warn", m, f),
    error: (m, f) => log("error", m, f),
    enabled: (level) => LEVELS[level] >= min,
  };
}

/** A logger that drops everything (library use without logging). */
export const silentLogger: Logger = createLogger({ write: async () => {} }, "text", "error");
