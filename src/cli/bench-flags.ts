// The flags of `switchboard bench` and their checks: everything the command line alone
// gets wrong is a usage error (exit 2) before any connection is opened.

import { formatAddr } from "../addr.ts";
import { framingFactory } from "../codec/index.ts";
import { descriptorsLeft, type Host } from "../host.ts";
import { BENCH_MODES, type BenchConfig, type BenchMode } from "../bench/run.ts";
import { AppExchange, FramedExchange } from "../bench/exchange.ts";
import type { ProxySend } from "../proxy/client.ts";
import { PROXY_CLIENT_FLAGS, proxyFlags, refuseProxyWithTls } from "./proxy-flags.ts";
import { TLS_CLIENT_FLAGS } from "./tls-flags.ts";
import { CONNECT_TIMEOUT_FLAG } from "./client-flags.ts";
import {
  addrArg,
  durationFlag,
  enumFlag,
  type FlagSpec,
  has,
  intFlag,
  one,
  type Parsed,
  sizeFlag,
  UsageError,
} from "./args.ts";

/** The most connections one bench process opens, whatever the open-file limit. */
export const MAX_BENCH_CONNECTIONS = 100_000;
/** Descriptors kept back from the open-file limit for stdio, the runtime and files. */
export const FD_HEADROOM = 64;
/** The largest --rate: a backlog of due requests is 8 bytes each, so this bounds its memory. */
export const MAX_RATE = 10_000_000;
const MAX_SIZE = 64 * 1024 * 1024;

export const BENCH_FLAGS: readonly FlagSpec[] = [
  {
    name: "mode",
    short: "m",
    kind: "string",
    value: "MODE",
    help: `one of: ${BENCH_MODES.join(", ")}`,
    default: "echo",
  },
  { name: "connections", short: "c", kind: "string", value: "N", help: "connections at once", default: "10" },
  { name: "duration", short: "d", kind: "string", value: "DURATION", help: "how long to measure", default: "10s" },
  {
    name: "warmup",
    kind: "string",
    value: "DURATION",
    help: "run this long first without counting (not with hold)",
    default: "0",
  },
  {
    name: "size",
    short: "s",
    kind: "string",
    value: "SIZE",
    help: "payload bytes per request; stream: per write (default 64, stream 64KiB)",
  },
  {
    name: "rate",
    short: "r",
    kind: "string",
    value: "R",
    help: "open loop: R requests per second in all, latency from when each was due (default: closed loop)",
  },
  { name: "framing", short: "f", kind: "string", value: "SPEC", help: "framed: the server's framing (e.g. lp:u32)" },
  { name: "new-conn", kind: "boolean", help: "app: a new connection for every request (default: keep-alive)" },
  CONNECT_TIMEOUT_FLAG,
  {
    name: "wait",
    short: "w",
    kind: "string",
    value: "DURATION",
    help: "a reply not complete after this long is a timeout error",
    default: "5s",
  },
  { name: "json", kind: "boolean", help: "print the result as one JSON object (fields: docs/bench.md)" },
  { name: "plot", kind: "string", value: "FILE", help: "draw latency and throughput into FILE.svg or FILE.html" },
  {
    name: "pid",
    kind: "string",
    value: "PID",
    help: "also report this local server's CPU time per request (Linux /proc)",
  },
  ...TLS_CLIENT_FLAGS,
  ...PROXY_CLIENT_FLAGS,
];

export interface BenchCli {
  config: BenchConfig;
  json: boolean;
  plot?: string;
  pid?: number;
  /** --proxy: the header every connection starts with. */
  proxy?: ProxySend;
}

export function parseBenchFlags(p: Parsed, host: Host): BenchCli {
  if (p.positionals.length === 0) throw new UsageError("bench needs the server's address (e.g. 127.0.0.1:7007)");
  if (p.positionals.length > 1) throw new UsageError(`bench takes one address, not "${p.positionals.join(" ")}"`);
  const addr = addrArg(p.positionals[0]!);
  const mode = enumFlag(p, "mode", BENCH_MODES) as BenchMode;
  const connections = intFlag(p, "connections", 1, MAX_BENCH_CONNECTIONS)!;
  const left = descriptorsLeft(host);
  if (left !== undefined && connections > left - FD_HEADROOM) {
    throw new UsageError(
      `-c ${connections}: the open-file limit ${host.openFileLimit()} leaves room for at most ` +
        `${Math.max(0, left - FD_HEADROOM)} connections (raise it with ulimit -n, or lower -c)`,
    );
  }
  const durationMs = durationFlag(p, "duration");
  if (durationMs === 0) throw new UsageError("--duration: must be longer than 0");
  const warmupMs = durationFlag(p, "warmup");
  if (warmupMs > 0 && mode === "hold") throw new UsageError("--warmup: hold mode counts from the first connection");
  if (!has(p, "size")) p.flags.set("size", [mode === "stream" ? "64KiB" : "64"]);
  const size = sizeFlag(p, "size", { min: 1, max: MAX_SIZE });
  let rate: number | undefined;
  const rateText = one(p, "rate");
  if (rateText !== undefined) {
    rate = /^\d+(\.\d+)?$/.test(rateText) ? Number(rateText) : NaN;
    if (!(rate > 0 && rate <= MAX_RATE)) {
      throw new UsageError(
        `--rate: expected requests per second, more than 0 and at most ${MAX_RATE}, not "${rateText}"`,
      );
    }
    if (mode === "stream" || mode === "hold") {
      throw new UsageError(`--rate: not for ${mode} mode (it sends no requests)`);
    }
  }
  const framing = one(p, "framing");
  if (framing !== undefined && mode !== "framed") throw new UsageError("--framing: only with --mode framed");
  if (mode === "framed") {
    if (framing === undefined) throw new UsageError("--mode framed needs --framing SPEC (the server's)");
    if (framing.trim().toLowerCase() === "eof") {
      throw new UsageError("--framing eof: one frame per connection cannot carry requests; use --mode stream");
    }
  }
  const newConn = has(p, "new-conn");
  if (newConn && mode !== "app") throw new UsageError("--new-conn: only with --mode app (connect mode always does)");
  const connectTimeoutMs = durationFlag(p, "timeout");
  // 0 would time every connect out at once (a TLS handshake always takes longer), not disable the timeout
  if (connectTimeoutMs === 0) throw new UsageError("--timeout: must be longer than 0 (bench always ends by itself)");
  const waitMs = durationFlag(p, "wait");
  if (waitMs === 0) throw new UsageError("--wait: must be longer than 0 (bench always ends by itself)");
  const maxReply = Math.max(1024 * 1024, 2 * size + 1024);
  const config: BenchConfig = {
    mode,
    addr,
    connections,
    durationMs,
    warmupMs,
    size,
    rate,
    framing,
    newConn,
    connectTimeoutMs,
    waitMs,
    maxReply,
  };
  checkPayload(config);
  const plot = one(p, "plot");
  if (plot !== undefined && !/\.(svg|html?)$/i.test(plot)) {
    throw new UsageError(`--plot: the file name must end in .svg or .html, not "${plot}"`);
  }
  const pid = intFlag(p, "pid", 1, 2 ** 31 - 1);
  const proxy = proxyFlags(p);
  if (has(p, "tls")) {
    if (addr.transport === "unix") throw new UsageError("--tls: TLS is TCP only, not for a unix: address");
    refuseProxyWithTls(p, proxy);
  }
  return { config, json: has(p, "json"), plot, pid, proxy };
}

/** Build one request up front, so a size the framing cannot carry is a usage error now. */
function checkPayload(c: BenchConfig): void {
  try {
    if (c.mode === "framed") {
      new FramedExchange(framingFactory(c.framing!, { maxFrame: c.maxReply })(), c.size).next();
    }
    if (c.mode === "app") new AppExchange(c.size, c.maxReply).next();
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new UsageError(`--size ${c.size}${c.framing ? ` with --framing ${c.framing}` : ""}: ${why}`);
  }
}

export function targetName(c: BenchConfig): string {
  return formatAddr(c.addr);
}
