// `switchboard serve`: run one service on one or more addresses until SIGINT/SIGTERM,
// then drain gracefully and exit 0.

import { formatAddr } from "../addr.ts";
import { formatDuration } from "../duration.ts";
import type { Runtime } from "../host.ts";
import { createLogger, type LogFormat, type LogLevel } from "../log.ts";
import { DEFAULT_DEADLINES, type ServerOptions } from "../server/options.ts";
import { Server } from "../server/server.ts";
import {
  findService,
  type ServiceConfig,
  ServiceConfigError,
  type ServiceEntry,
  services,
} from "../services/registry.ts";
import type { Service } from "../services/service.ts";
import {
  addrArg,
  durationFlag,
  type FlagSpec,
  formatFlags,
  has,
  intFlag,
  one,
  parseArgs,
  type Parsed,
  parseSize,
  UsageError,
} from "./args.ts";
import type { Command } from "./command.ts";
import { StopSignals } from "./stop-signals.ts";

const DURATION_FLAGS = [
  ["idle-timeout", "idleMs", "close a connection with no bytes either way for this long"],
  ["frame-timeout", "frameMs", "a started frame must complete within this (trickling does not reset it)"],
  ["write-timeout", "writeMs", "close a peer once a byte queued for it has waited this long"],
  ["linger-timeout", "lingerMs", "after our FIN, wait this long for the peer's"],
  ["drain-timeout", "drainMs", "on SIGTERM/SIGINT, cut connections still busy after this"],
  ["keepalive", "keepAliveMs", "TCP keepalive: probe a silent peer after this long (finds vanished hosts)"],
] as const;

const flags: FlagSpec[] = [
  {
    name: "listen",
    short: "l",
    kind: "string",
    repeatable: true,
    value: "ADDR",
    help: "host:port, [v6]:port, :port or unix:/path (repeatable; default 127.0.0.1 and the service's port)",
  },
  {
    name: "service",
    short: "s",
    kind: "string",
    value: "NAME",
    help: `one of: ${services.map((s) => s.name).join(", ")}`,
    default: "echo",
  },
  {
    name: "framing",
    short: "f",
    kind: "string",
    value: "SPEC",
    help: "echo only: echo frames (line, crlf, fixed:N, lp:u8|u16|u32|u64, lp:asciiN, delim:HEX, eof)",
  },
  { name: "data", kind: "string", value: "FILE", help: "app only: JSON object used as the search dictionary" },
  ...DURATION_FLAGS.map(([name, key, help]): FlagSpec => ({
    name,
    kind: "string",
    value: "DURATION",
    help: `${help}; 0 disables`,
    default: formatDuration(DEFAULT_DEADLINES[key]),
  })),
  {
    name: "max-conns",
    kind: "string",
    value: "N",
    help: "concurrent connections in all (default: from the open-file limit)",
  },
  {
    name: "max-conns-per-ip",
    kind: "string",
    value: "N",
    help: "concurrent connections per source address; 0 = no limit",
    default: "0",
  },
  {
    name: "max-rate-per-ip",
    kind: "string",
    value: "N",
    help: "new connections per second per source address; 0 = no limit",
    default: "0",
  },
  { name: "max-frame", kind: "string", value: "SIZE", help: "largest frame or app content accepted", default: "1MiB" },
  {
    name: "write-buffer",
    kind: "string",
    value: "SIZE",
    help: "per-connection write buffer; reading pauses while it is full",
    default: "1MiB",
  },
  {
    name: "reuse-port",
    kind: "boolean",
    help: "SO_REUSEPORT: several processes may serve one port (Linux; Bun, Deno with --unstable-net, Node 22.12+)",
  },
  { name: "log-format", kind: "string", value: "text|json", help: "log line format", default: "text" },
  { name: "log-level", kind: "string", value: "LEVEL", help: "debug, info, warn or error", default: "info" },
];

function help(): string {
  return `Usage: switchboard serve [--listen ADDR]... [--service NAME] [options]

Runs a service until SIGINT or SIGTERM, then stops accepting, lets in-flight work
finish (up to --drain-timeout) and exits 0. Logs go to stderr, one line per event.

Services:
${services.map((s) => `  ${s.name.padEnd(8)} port ${s.defaultPort}  ${s.summary}`).join("\n")}

Examples:
  switchboard serve --service echo --framing lp:u32 --listen :9000
  switchboard serve --service app --data words.json

Options:
${formatFlags(flags)}
`;
}

function sizeFlag(p: Parsed, name: string): number {
  const n = parseSize(one(p, name)!);
  if (n < 1) throw new UsageError(`option "--${name}" must be at least 1 byte`);
  return n;
}

function enumFlag<T extends string>(p: Parsed, name: string, allowed: readonly T[]): T {
  const v = one(p, name)!;
  if (!(allowed as readonly string[]).includes(v)) {
    throw new UsageError(`option "--${name}" must be one of ${allowed.join(", ")}, not "${v}"`);
  }
  return v as T;
}

/** Reads and parses --data FILE; a missing or unreadable file is an error (exit 1). */
async function dataFlag(rt: Runtime, p: Parsed): Promise<unknown> {
  const path = one(p, "data");
  if (path === undefined) return undefined;
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(await rt.host.readFile(path));
  } catch (err) {
    throw new Error(`cannot read --data ${path}: ${err instanceof Error ? err.message : String(err)}`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new Error(`--data ${path} is not valid JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** The chosen service with its flags; --framing/--data on a service that takes none is a usage error. */
async function createService(rt: Runtime, p: Parsed, entry: ServiceEntry, maxFrame: number): Promise<Service> {
  const framing = one(p, "framing");
  if (framing !== undefined && !entry.takes.framing) {
    throw new UsageError(`option "--framing" does not apply to the ${entry.name} service`);
  }
  if (one(p, "data") !== undefined && !entry.takes.data) {
    throw new UsageError(`option "--data" does not apply to the ${entry.name} service`);
  }
  const config: ServiceConfig = { maxFrame, framing, data: await dataFlag(rt, p) };
  try {
    return entry.create(config);
  } catch (err) {
    if (err instanceof ServiceConfigError) throw new UsageError(err.message);
    throw err;
  }
}

async function run(rt: Runtime, argv: readonly string[]): Promise<number> {
  const { host, transport } = rt;
  const p = parseArgs(argv, flags);
  if (p.positionals.length > 0) throw new UsageError(`unexpected argument "${p.positionals[0]}"`);
  const entry = findService(one(p, "service")!);
  if (!entry) {
    throw new UsageError(
      `unknown service "${one(p, "service")}"; choose from ${services.map((s) => s.name).join(", ")}`,
    );
  }

  const addrs = (p.flags.get("listen") ?? [`127.0.0.1:${entry.defaultPort}`]).map(addrArg);
  const options: Partial<ServerOptions> = {
    maxConnsPerIp: intFlag(p, "max-conns-per-ip", 0)!,
    maxRatePerIp: intFlag(p, "max-rate-per-ip", 0)!,
    maxFrame: sizeFlag(p, "max-frame"),
    writeBuffer: sizeFlag(p, "write-buffer"),
  };
  for (const [name, key] of DURATION_FLAGS) options[key] = durationFlag(p, name);
  const maxConns = intFlag(p, "max-conns", 1);
  if (maxConns !== undefined) options.maxConns = maxConns;

  const log = createLogger(
    host.stderr,
    enumFlag<LogFormat>(p, "log-format", ["text", "json"]),
    enumFlag<LogLevel>(p, "log-level", ["debug", "info", "warn", "error"]),
  );
  const service = await createService(rt, p, entry, options.maxFrame!);
  const server = new Server({ transport, service, options, log, openFileLimit: host.openFileLimit() });

  try {
    for (const addr of addrs) {
      const l = await server.listen(addr, { reusePort: has(p, "reuse-port") });
      if (has(p, "reuse-port") && !l.reusePort && addr.transport === "tcp") {
        log.warn("--reuse-port is not supported here; listening without it", {
          addr: formatAddr(l.addr),
          runtime: host.runtimeVersion,
        });
      }
      log.info("listening", {
        addr: formatAddr(l.addr),
        service: entry.name,
        framing: one(p, "framing"),
        runtime: host.runtime,
      });
    }
  } catch (err) {
    await server.shutdown();
    throw err; // "cannot listen on ...": exit 1 with the reason
  }

  // First signal: graceful drain. A later one: cut everything now (see stop-signals.ts).
  const stopped = new Promise<string>((resolve) => {
    const signals = new StopSignals();
    const on = (sig: string) => () => {
      switch (signals.receive(Date.now())) {
        case "drain":
          return resolve(sig);
        case "repeat":
          return log.debug("signal repeated at once: the same stop request", { signal: sig });
        case "abort":
          log.warn("second signal: closing all connections now", { signal: sig });
          server.abortAll();
      }
    };
    host.onSignal("SIGINT", on("SIGINT"));
    host.onSignal("SIGTERM", on("SIGTERM"));
  });
  const signal = await stopped;
  log.info("shutting down", {
    signal,
    connections: server.connections,
    drain_timeout: formatDuration(server.options.drainMs),
  });
  await server.shutdown();
  const s = server.stats();
  log.info("stopped", { accepted: s.accepted, refused: s.refused });
  return 0;
}

export const serveCommand: Command = {
  name: "serve",
  summary: "run a service (echo, discard, daytime, chargen, time, app)",
  help,
  run,
};

/** The flags of `serve`, for reading a running server's command line (`probe`). */
export { flags as serveFlags };
