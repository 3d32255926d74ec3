// `switchboard serve`: run one service on one or more addresses until SIGINT/SIGTERM,
// then drain gracefully and exit 0.

import { formatAddr } from "../addr.ts";
import { formatSize } from "../size.ts";
import type { Addr } from "../transport.ts";
import { formatDuration } from "../duration.ts";
import { descriptorsLeft, type Runtime } from "../host.ts";
import { createLogger, formatLine, type LogFormat, type Logger, type LogLevel } from "../log.ts";
import { DEFAULT_DEADLINES, DEFAULT_MAX_IN_FLIGHT, type ServerOptions } from "../server/options.ts";
import { Server } from "../server/server.ts";
import {
  findService,
  type ServiceConfig,
  ServiceConfigError,
  type ServiceEntry,
  services,
} from "./service-registry.ts";
import type { Service } from "../server/service.ts";
import {
  addrArg,
  BUFFER_RANGE,
  durationFlag,
  enumFlag,
  type FlagSpec,
  formatFlags,
  has,
  intFlag,
  one,
  parseArgs,
  type Parsed,
  sizeFlag,
  UsageError,
} from "./args.ts";
import { DataFileError, DEFAULT_MAX_DATA, loadDataFile, MAX_DATA_LIMIT } from "./data-file.ts";
import { describeFailure } from "./failure.ts";
import type { Command } from "./command.ts";
import { StopSignals } from "../server/stop-signals.ts";
import { SERVE_PROXY_FLAGS, serveProxyConfig } from "./serve-proxy-flags.ts";
import { superviseWorkers, workersCount, workersFlagSpec } from "./serve-workers.ts";
import { controlLine, takeWorkerRole, withWorkerField, type WorkerRole } from "../workers/worker-role.ts";
import { ServerMetrics } from "../server/metrics.ts";
import { adminFlags, planAdmin, serverBinding, startAdmin } from "./admin.ts";
import { reportMetrics } from "../workers/metrics-report.ts";
import { checkServeTlsFlags, reloadOnSighup, serveTlsOptions, TLS_SERVE_FLAGS } from "./tls-serve.ts";

const DURATION_FLAGS = [
  ["idle-timeout", "idleMs", "close a connection with no bytes either way for this long"],
  ["frame-timeout", "frameMs", "a started frame must complete within this (trickling does not reset it)"],
  ["write-timeout", "writeMs", "close a peer once a byte queued for it has waited this long"],
  ["linger-timeout", "lingerMs", "after our FIN, wait this long for the peer's"],
  ["drain-timeout", "drainMs", "on SIGTERM/SIGINT, cut connections still busy after this"],
  ["keepalive", "keepAliveMs", "TCP keepalive: probe a silent peer after this long (finds vanished hosts)"],
  ["handshake-timeout", "handshakeMs", "TLS: the handshake must finish this long after the TCP accept"],
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
  {
    name: "max-data",
    kind: "string",
    value: "SIZE",
    help: `largest --data file read; at most ${formatSize(MAX_DATA_LIMIT)}`,
    default: DEFAULT_MAX_DATA,
  },
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
  {
    name: "max-frame",
    kind: "string",
    value: "SIZE",
    help: `largest frame or app content accepted; at most ${formatSize(BUFFER_RANGE.max)}`,
    default: "1MiB",
  },
  {
    name: "write-buffer",
    kind: "string",
    value: "SIZE",
    help: `per-connection write buffer, at most ${formatSize(BUFFER_RANGE.max)}; reading pauses while it is full`,
    default: "1MiB",
  },
  {
    name: "max-in-flight",
    kind: "string",
    value: "N",
    help: "app and framed echo: requests read but not yet answered per connection; reading pauses at N",
    default: String(DEFAULT_MAX_IN_FLIGHT),
  },
  {
    name: "reuse-port",
    kind: "boolean",
    help: "SO_REUSEPORT: several processes may serve one port (Linux; Bun, Deno with --unstable-net, Node 22.12+)",
  },
  workersFlagSpec,
  ...TLS_SERVE_FLAGS,
  { name: "log-format", kind: "string", value: "text|json", help: "log line format", default: "text" },
  {
    name: "log-level",
    kind: "string",
    value: "LEVEL",
    help: "debug (adds a line per connection), info, warn or error",
    default: "info",
  },
  ...SERVE_PROXY_FLAGS,
  ...adminFlags, // --admin ADDR and its companions (admin.ts)
];

function help(): string {
  return `Usage: switchboard serve [--listen ADDR]... [--service NAME] [options]

Runs a service until SIGINT or SIGTERM, then stops accepting, lets in-flight work
finish (up to --drain-timeout) and exits 0. Logs go to stderr, one line per event;
with --log-format json nothing but JSON lines, fatal errors included.

Start-up is all or nothing: every --listen address is bound before any is announced,
and if one cannot be, none is kept (exit 1). A bad --data file also exits 1.

Services:
${services.map((s) => `  ${s.name.padEnd(8)} port ${s.defaultPort}  ${s.summary}`).join("\n")}

Examples:
  switchboard serve --service echo --framing lp:u32 --listen :9000
  switchboard serve --service app --data words.json
  switchboard serve --listen :7443 --tls-cert cert.pem --tls-key key.pem   (SIGHUP reloads them)

Options:
${formatFlags(flags)}
`;
}

/** Refuse --framing/--data on a service that takes none (a usage error, found before any work). */
function checkServiceFlags(p: Parsed, entry: ServiceEntry): void {
  for (const name of ["framing", "data"] as const) {
    if (one(p, name) !== undefined && !entry.takes[name]) {
      throw new UsageError(`--${name}: does not apply to the ${entry.name} service`);
    }
  }
}

/** The chosen service with its flags and --data (read only now, after every usage check). */
async function createService(
  rt: Runtime,
  p: Parsed,
  entry: ServiceEntry,
  maxFrame: number,
  maxData: number,
  log: Logger,
  metrics?: ServerMetrics,
): Promise<Service> {
  const path = one(p, "data");
  const data = path === undefined ? undefined : await loadDataFile(rt.host, path, maxData, log);
  const config: ServiceConfig = { maxFrame, framing: one(p, "framing"), data };
  if (metrics) config.observeApp = (r) => metrics.appRequest(r);
  try {
    return entry.create(config);
  } catch (err) {
    if (err instanceof ServiceConfigError) throw new UsageError(err.message);
    throw err;
  }
}

/** Two --listen flags for one address (port 0 aside: each gets a port of its own). */
function checkDuplicates(addrs: readonly Addr[]): void {
  const seen = new Set<string>();
  for (const a of addrs) {
    if (a.transport === "tcp" && a.port === 0) continue;
    const key = formatAddr(a);
    if (seen.has(key)) throw new UsageError(`--listen ${key} given twice`);
    seen.add(key);
  }
}

/**
 * The --log-format asked for, read before parsing so that even a usage error comes out
 * in that format (with json, stderr carries nothing but JSON lines).
 */
function requestedLogFormat(argv: readonly string[]): LogFormat {
  let format: LogFormat = "text";
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--") break;
    const v = a === "--log-format" ? argv[++i] : a.startsWith("--log-format=") ? a.slice(13) : undefined;
    if (v === "json" || v === "text") format = v;
  }
  return format;
}

async function serve(rt: Runtime, argv: readonly string[], role?: WorkerRole): Promise<number> {
  const { host, transport } = rt;
  // Everything the command line alone can get wrong is checked first (exit 2), then the
  // data file is read (exit 1), then every address is bound, and only then announced.
  const p = parseArgs(argv, flags);
  if (p.positionals.length > 0) throw new UsageError(`unexpected argument "${p.positionals[0]}"`);
  const entry = findService(one(p, "service")!);
  if (!entry) {
    throw new UsageError(
      `unknown service "${one(p, "service")}"; choose from ${services.map((s) => s.name).join(", ")}`,
    );
  }
  checkServiceFlags(p, entry);

  // A worker binds what its supervisor says (port 0 resolved by the first worker).
  const addrs = (role?.listen ?? p.flags.get("listen") ?? [`127.0.0.1:${entry.defaultPort}`]).map(addrArg);
  checkDuplicates(addrs);
  const adminPlan = planAdmin(p, addrs);
  const tlsOn = checkServeTlsFlags(rt, p, addrs);
  const options: Partial<ServerOptions> = {
    maxConnsPerIp: intFlag(p, "max-conns-per-ip", 0)!,
    maxRatePerIp: intFlag(p, "max-rate-per-ip", 0)!,
    maxFrame: sizeFlag(p, "max-frame", BUFFER_RANGE),
    writeBuffer: sizeFlag(p, "write-buffer", BUFFER_RANGE),
    maxInFlight: intFlag(p, "max-in-flight", 1)!,
  };
  const maxData = sizeFlag(p, "max-data", { min: 1, max: MAX_DATA_LIMIT });
  for (const [name, key] of DURATION_FLAGS) options[key] = durationFlag(p, name);
  const proxyProtocol = serveProxyConfig(p); // a usage error before any work
  if (proxyProtocol && tlsOn) {
    // The PROXY header comes in clear before the TLS handshake; the adapters start TLS at accept.
    throw new UsageError(
      "--proxy-protocol with --tls-cert: not supported yet (terminate TLS at the balancer, or serve TLS without the header)",
    );
  }
  const maxConns = intFlag(p, "max-conns", 1);
  if (maxConns !== undefined) options.maxConns = maxConns;

  const workers = role ? 1 : workersCount(p, rt);
  const baseLog = createLogger(
    host.stderr,
    enumFlag<LogFormat>(p, "log-format", ["text", "json"]),
    enumFlag<LogLevel>(p, "log-level", ["debug", "info", "warn", "error"]),
  );
  const log = role ? withWorkerField(baseLog, role.id) : baseLog;
  const metrics = adminPlan ? new ServerMetrics() : undefined; // no counting at all without --admin
  const service = await createService(rt, p, entry, options.maxFrame!, maxData, log, metrics);
  const tls = tlsOn ? await serveTlsOptions(rt, p) : undefined; // files read now: a bad one exits 1
  const server = new Server({
    transport,
    service,
    options,
    log,
    openFileLimit: descriptorsLeft(host),
    proxyProtocol,
    metrics,
  });
  const info = {
    runtime: host.runtime,
    runtimeVersion: host.runtimeVersion,
    service: entry.name,
    framing: one(p, "framing"),
    memoryRss: () => host.memoryRss(),
  };
  if (workers > 1) { // every check above done once here, before any worker starts
    const listening = { service: entry.name, framing: one(p, "framing") };
    const admin = adminPlan && { plan: adminPlan, info, options: server.options };
    return await superviseWorkers(rt, { count: workers, addrs, argv, log, listening, admin, tls: tlsOn });
  }

  // The admin endpoint binds first, so that a service port 0 cannot take its port; then all or nothing.
  // A worker binds none: its supervisor serves the endpoint from the counts each worker reports.
  const life = { stopping: false };
  const admin = adminPlan && !role
    ? await startAdmin(host, adminPlan, serverBinding(server, info, life), log)
    : undefined;
  const reusePort = role ? role.reusePort : has(p, "reuse-port");
  const listenOptions = { reusePort, ...(tls ? { tls: tls.options } : {}) };
  const listeners = await server.listenAll(addrs, listenOptions).catch(async (err) => {
    await admin?.close();
    throw err;
  }); // none bound on failure: exit 1
  if (tls) reloadOnSighup(rt, tls, listeners, log);
  // First signal: graceful drain. A later one: cut everything now (see stop-signals.ts).
  let cutDelay: (() => void) | undefined; // a second signal also ends --drain-delay at once
  const stopped = new Promise<string>((resolve) => {
    const signals = new StopSignals();
    const on = (sig: string) => () => {
      switch (signals.receive(Date.now())) {
        case "drain":
          life.stopping = true; // /readyz answers 503 from here on, before any listener closes
          return resolve(sig);
        case "repeat":
          return log.debug("signal repeated at once: the same stop request", { signal: sig });
        case "abort":
          log.warn("second signal: closing all connections now", { signal: sig });
          server.abortAll();
          cutDelay?.();
      }
    };
    host.onSignal("SIGINT", on("SIGINT"));
    host.onSignal("SIGTERM", on("SIGTERM"));
    if (role) void untilStdinEnds(rt).then(() => resolve("supervisor gone")); // never orphaned
  });
  // Announced only now, with the stop signals handled: whoever waits for these lines (a
  // supervisor, a test, a script) may send SIGTERM at once.
  for (const l of role ? [] : listeners) {
    if (reusePort && !l.reusePort && l.addr.transport === "tcp") {
      log.warn("--reuse-port is not supported here; listening without it", {
        addr: formatAddr(l.addr),
        runtime: host.runtimeVersion,
      });
    }
    log.info("listening", {
      addr: formatAddr(l.addr),
      service: entry.name,
      framing: one(p, "framing"),
      max_conns: server.options.maxConns,
      tls: tls ? `TLS ${tls.options.minVersion}+` : undefined,
      runtime: host.runtime,
      proxy_protocol: proxyProtocol ? (proxyProtocol.trusted?.text.join(",") ?? "any source") : undefined,
    });
  }
  if (role) await host.stdout.write(controlLine({ sb: "listening", addrs: listeners.map((l) => formatAddr(l.addr)) }));
  const reporter = role && metrics
    ? reportMetrics(server, () => host.memoryRss(), (l) => host.stdout.write(l))
    : undefined;
  const signal = await stopped;
  // Behind a balancer: fail its checks first (PROXY LOCAL health checks, /readyz), keep
  // serving until it has noticed, then drain. A second signal ends the wait at once.
  const drainDelay = durationFlag(p, "drain-delay");
  if (drainDelay > 0) {
    log.info("failing health checks before draining", { signal, drain_delay: formatDuration(drainDelay) });
    server.failHealthChecks();
  }
  const unreadyDelay = admin ? adminPlan!.unreadyDelayMs : 0; // a worker's supervisor waits it out
  if (unreadyDelay > 0) {
    log.info("not ready; draining after the unready delay", { delay: formatDuration(unreadyDelay) });
  }
  const delay = Math.max(drainDelay, unreadyDelay);
  if (delay > 0) {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, delay);
      cutDelay = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
  log.info("shutting down", {
    signal,
    connections: server.connections,
    drain_timeout: formatDuration(server.options.drainMs),
  });
  await server.shutdown();
  await reporter?.stop(); // the last counts, after the drain
  await admin?.close();
  const s = server.stats();
  log.info("stopped", { accepted: s.accepted, refused: s.refused });
  return 0;
}

/** A worker's stdin is a pipe its supervisor never writes: it ends when the supervisor has gone. */
async function untilStdinEnds(rt: Runtime): Promise<void> {
  for await (const _ of rt.host.stdin()) { /* nothing is sent */ }
}

/** A worker reports a failure to its supervisor, which reports it once, as the whole start's. */
async function runWorker(rt: Runtime, role: WorkerRole, argv: readonly string[]): Promise<number> {
  try {
    return await serve(rt, argv, role);
  } catch (err) {
    const f = describeFailure(err, "serve");
    await rt.host.stdout.write(controlLine({ sb: "failed", code: f.code, message: f.message }));
    return f.code;
  }
}

async function run(rt: Runtime, rawArgv: readonly string[]): Promise<number> {
  const { role, argv } = takeWorkerRole(rawArgv);
  if (role) return await runWorker(rt, role, argv);
  if (requestedLogFormat(argv) === "text") return await serve(rt, argv); // main.ts prints failures
  try {
    return await serve(rt, argv);
  } catch (err) {
    const f = describeFailure(err, "serve");
    const msg = f.code === 2 ? "usage error" : err instanceof DataFileError ? "bad data file" : "cannot start";
    await rt.host.stderr.write(formatLine("json", new Date(), "error", msg, { error: f.message, exit_code: f.code }));
    return f.code;
  }
}

export const serveCommand: Command = {
  name: "serve",
  help,
  run,
};

/** The flags of `serve`, for reading a running server's command line (`probe`). */
export { flags as serveFlags };
