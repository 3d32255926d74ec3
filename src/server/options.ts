// Server limits and deadlines, with the secure defaults of the design notes (§5).
// Every deadline is in milliseconds; 0 disables it.

import { MAX_DURATION_MS } from "../duration.ts";

/** Per-connection deadlines, in milliseconds; 0 disables one. */
export interface Deadlines {
  /** No bytes in either direction for this long: close. Default 60 000 (1 min); 0 disables. */
  idleMs: number;
  /**
   * A frame that has started must be complete within this; trickled bytes do not reset it.
   * Default 10 000 (10 s); 0 disables.
   */
  frameMs: number;
  /** A byte queued for the peer has waited this long: close (progress does not reset it). Default 30 000; 0 disables. */
  writeMs: number;
  /** After our FIN, how long we wait for the peer's before closing. Default 5 000; 0 disables. */
  lingerMs: number;
  /** On shutdown, how long in-flight work may take before connections are cut. Default 8 000; 0 disables. */
  drainMs: number;
  /**
   * TCP keepalive: probes start after this long without traffic, so a peer that vanished
   * without FIN or RST (power loss, cable cut) is found even when the idle timeout is off.
   * Default 30 000; 0 disables.
   */
  keepAliveMs: number;
  /**
   * TLS listeners: the handshake must finish within this of the TCP accept, or the
   * connection is cut (a stalled or trickled handshake is a slowloris). Default 10 000; 0 disables.
   */
  handshakeMs: number;
}

/** Admission and resource limits. */
export interface Limits {
  /**
   * Concurrent connections in all; over it a new connection is closed at once. Default:
   * 90% of the descriptors left (`ServerConfig.openFileLimit`) less 32, or 4096 unknown.
   */
  maxConns: number;
  /** Concurrent connections from one source address. Default 0 (no limit). */
  maxConnsPerIp: number;
  /** New connections per second from one source address. Default 0 (no limit). */
  maxRatePerIp: number;
  /**
   * Largest frame (or app-protocol content) a service accepts; the built-in services take
   * it from here unless given their own limit. Default 1 MiB (1 048 576).
   */
  maxFrame: number;
  /**
   * Per-connection write buffer: reading pauses while this much is queued for a peer
   * and resumes once the queue has drained, so a peer that does not read costs at most
   * this plus one reply. Default 1 MiB (1 048 576).
   */
  writeBuffer: number;
  /**
   * Requests one connection may have in flight (received and not yet answered) before the
   * server stops reading from it; reading resumes as replies go out. Bounds what a client
   * that pipelines requests to a slow handler can make the server hold. Services that
   * answer frame by frame apply it (the app service does). Default 64.
   */
  maxInFlight: number;
}

/** Every limit and deadline of a server; each has a default (`defaultOptions()`). */
export interface ServerOptions extends Deadlines, Limits {}

/** The default deadlines: idle 60 s, frame 10 s, write 30 s, linger 5 s, drain 8 s, keepalive 30 s. */
export const DEFAULT_DEADLINES: Deadlines = {
  idleMs: 60_000,
  frameMs: 10_000,
  writeMs: 30_000,
  lingerMs: 5_000,
  drainMs: 8_000,
  keepAliveMs: 30_000,
  handshakeMs: 10_000,
};

/** Default for `maxInFlight`: deep enough for any sane pipelining client, small enough to bound memory. */
export const DEFAULT_MAX_IN_FLIGHT = 64;

/** Descriptors kept back from maxConns for listeners, logs, stdio and the runtime itself. */
export const FD_HEADROOM = 32;
/** Used when the runtime cannot tell the open-file limit. */
export const FALLBACK_MAX_CONNS = 4096;

/** Default max connections: the descriptors left (open-file limit less those open) less 10% and a fixed headroom. */
export function defaultMaxConns(openFileLimit: number | undefined): number {
  if (openFileLimit === undefined) return FALLBACK_MAX_CONNS;
  return Math.max(1, Math.floor(openFileLimit * 0.9) - FD_HEADROOM);
}

/** Every option at its default (`maxConns` from `openFileLimit`). */
export function defaultOptions(openFileLimit?: number): ServerOptions {
  return {
    ...DEFAULT_DEADLINES,
    maxConns: defaultMaxConns(openFileLimit),
    maxConnsPerIp: 0,
    maxRatePerIp: 0,
    maxFrame: 1024 * 1024,
    writeBuffer: 1024 * 1024,
    maxInFlight: DEFAULT_MAX_IN_FLIGHT,
  };
}

/** The range each option accepts: whole numbers from `min` to `max`. */
export interface OptionRange {
  /** Smallest value accepted. */
  min: number;
  /** Largest value accepted. */
  max: number;
}

const DURATION: OptionRange = { min: 0, max: MAX_DURATION_MS };
const COUNT_OR_OFF: OptionRange = { min: 0, max: Number.MAX_SAFE_INTEGER };
const AT_LEAST_ONE: OptionRange = { min: 1, max: Number.MAX_SAFE_INTEGER };

/**
 * What every option accepts (for front ends that check their own flags first and name
 * them in their own terms). Durations stop at 2^31-1 ms: longer timers fire at once.
 */
export const OPTION_RANGES: Readonly<Record<keyof ServerOptions, OptionRange>> = {
  idleMs: DURATION,
  frameMs: DURATION,
  writeMs: DURATION,
  lingerMs: DURATION,
  drainMs: DURATION,
  keepAliveMs: DURATION,
  handshakeMs: DURATION,
  maxConns: AT_LEAST_ONE,
  maxConnsPerIp: COUNT_OR_OFF,
  maxRatePerIp: COUNT_OR_OFF,
  maxFrame: COUNT_OR_OFF,
  writeBuffer: AT_LEAST_ONE,
  maxInFlight: AT_LEAST_ONE,
};

function describeValue(v: unknown): string {
  return typeof v === "string" ? JSON.stringify(v) : String(v);
}

/** Throws a RangeError (TypeError for a non-number) naming `name` unless `value` is in its range. */
export function checkOption(name: keyof ServerOptions, value: unknown): number {
  const range = OPTION_RANGES[name];
  const want = range.max === Number.MAX_SAFE_INTEGER
    ? `a whole number >= ${range.min}`
    : `a whole number from ${range.min} to ${range.max}`;
  if (typeof value !== "number") throw new TypeError(`${name} must be ${want}, got ${describeValue(value)}`);
  if (!Number.isSafeInteger(value) || value < range.min || value > range.max) {
    throw new RangeError(`${name} must be ${want}, got ${describeValue(value)}`);
  }
  return value;
}

/**
 * The defaults with `given` laid over them field by field: a field that is absent or
 * `undefined` keeps its default (so `{ maxConns: undefined }` does not lift the limit).
 * Every field is validated, and an unknown field is an error (a misspelt limit would
 * otherwise be silently ignored).
 */
export function resolveOptions(given: Partial<ServerOptions> = {}, openFileLimit?: number): ServerOptions {
  const options = defaultOptions(openFileLimit);
  for (const [key, value] of Object.entries(given)) {
    if (!Object.hasOwn(OPTION_RANGES, key)) {
      throw new TypeError(`unknown server option "${key}"; known: ${Object.keys(OPTION_RANGES).join(", ")}`);
    }
    if (value === undefined) continue;
    options[key as keyof ServerOptions] = checkOption(key as keyof ServerOptions, value);
  }
  return options;
}
