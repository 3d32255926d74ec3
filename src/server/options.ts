// Server limits and deadlines, with the secure defaults of the design notes (§5).
// Every deadline is in milliseconds; 0 disables it.

export interface Deadlines {
  /** No bytes in either direction for this long: close. */
  idleMs: number;
  /** A frame that has started must be complete within this; trickled bytes do not reset it. */
  frameMs: number;
  /** A byte queued for the peer has waited this long: close (progress does not reset it). */
  writeMs: number;
  /** After our FIN, how long we wait for the peer's before closing. */
  lingerMs: number;
  /** On shutdown, how long in-flight work may take before connections are cut. */
  drainMs: number;
  /**
   * TCP keepalive: probes start after this long without traffic, so a peer that vanished
   * without FIN or RST (power loss, cable cut) is found even when the idle timeout is off.
   */
  keepAliveMs: number;
}

export interface Limits {
  /** Concurrent connections in all; over it a new connection is closed at once. */
  maxConns: number;
  /** Concurrent connections from one source address (0 = no limit). */
  maxConnsPerIp: number;
  /** New connections per second from one source address (0 = no limit). */
  maxRatePerIp: number;
  /** Largest frame (or app-protocol content) a service accepts. */
  maxFrame: number;
  /**
   * Per-connection write buffer: reading pauses while this much is queued for a peer
   * and resumes once the queue has drained, so a peer that does not read costs at most
   * this plus one reply.
   */
  writeBuffer: number;
}

export interface ServerOptions extends Deadlines, Limits {}

export const DEFAULT_DEADLINES: Deadlines = {
  idleMs: 60_000,
  frameMs: 10_000,
  writeMs: 30_000,
  lingerMs: 5_000,
  drainMs: 8_000,
  keepAliveMs: 30_000,
};

/** Descriptors kept back from maxConns for listeners, logs, stdio and the runtime itself. */
export const FD_HEADROOM = 32;
/** Used when the runtime cannot tell the open-file limit. */
export const FALLBACK_MAX_CONNS = 4096;

/** Default max connections: the open-file limit less 10% and a fixed headroom. */
export function defaultMaxConns(openFileLimit: number | undefined): number {
  if (openFileLimit === undefined) return FALLBACK_MAX_CONNS;
  return Math.max(1, Math.floor(openFileLimit * 0.9) - FD_HEADROOM);
}

export function defaultOptions(openFileLimit?: number): ServerOptions {
  return {
    ...DEFAULT_DEADLINES,
    maxConns: defaultMaxConns(openFileLimit),
    maxConnsPerIp: 0,
    maxRatePerIp: 0,
    maxFrame: 1024 * 1024,
    writeBuffer: 1024 * 1024,
  };
}
