// `switchboard probe`: a health check that speaks each service's protocol. With ADDR it
// checks that address; without, it checks every listener of the server running as PID 1
// (the container's HEALTHCHECK: no shell, no configuration, any service). Exit 0 healthy,
// 1 not, 2 usage error.

import { formatAddr } from "../addr.ts";
import { framingFactory } from "../codec/index.ts";
import type { Runtime } from "../host.ts";
import { findService, services } from "./service-registry.ts";
import { addrArg, durationFlag, type FlagSpec, formatFlags, has, intFlag, one, parseArgs, UsageError } from "./args.ts";
import type { Command } from "./command.ts";
import { probe, type ProbeTarget } from "./probe-checks.ts";
import { ProbeTargetError, targetsFromCmdline } from "./probe-target.ts";
import { clientTlsOptions, TLS_CLIENT_FLAGS } from "./tls-flags.ts";

const flags: FlagSpec[] = [
  {
    name: "service",
    short: "s",
    kind: "string",
    value: "NAME",
    help: "with ADDR: the service to expect (default: the one whose default port ADDR has)",
  },
  { name: "framing", short: "f", kind: "string", value: "SPEC", help: "with ADDR and echo: the server's --framing" },
  {
    name: "pid",
    kind: "string",
    value: "N",
    help: "without ADDR: probe the listeners of the `serve` running as this process",
    default: "1",
  },
  {
    name: "timeout",
    short: "t",
    kind: "string",
    value: "DURATION",
    help: "give up on a listener after this long",
    default: "3s",
  },
  ...TLS_CLIENT_FLAGS,
];

function help(): string {
  return `Usage: switchboard probe [ADDR] [--service NAME] [--framing SPEC] [options]
       switchboard probe [--pid N]

Checks that a switchboard server answers correctly, speaking its service's protocol:
  echo     a random token (one frame of --framing, if any) comes back unchanged
  discard  nothing comes back, and the server closes after our half-close
  daytime  one RFC 867 date line, then close
  time     4 bytes, then close
  chargen  two lines of the RFC 864 pattern
  app      an "echo" request is answered with its value

Without ADDR it reads the command line of the \`serve\` running as process --pid
(default 1: the server in a container) and checks every listener it names, with that
service and framing; 0.0.0.0 and [::] are checked on 127.0.0.1 and [::1]. This is the
Docker image's HEALTHCHECK. Prints one "ok" line per listener; exit 0 if all are
healthy, 1 if any is not (the reason on stderr), 2 on a usage error.

With --tls the probe speaks TLS (and verifies the server's certificate: --tls-ca,
--tls-servername, or --insecure); without ADDR it applies to every listener. A server
whose command line has --tls-cert is reported unhealthy without --tls, saying so.

Examples:
  switchboard probe                      # in the container: whatever PID 1 serves
  switchboard probe 127.0.0.1:7013       # daytime, by its default port
  switchboard probe :9000 --service echo --framing lp:u16
  switchboard probe :7443 --service echo --tls --tls-ca ca.pem

Options:
${formatFlags(flags)}
`;
}

async function run(rt: Runtime, argv: readonly string[]): Promise<number> {
  const { host, transport } = rt;
  const p = parseArgs(argv, flags);
  if (p.positionals.length > 1) throw new UsageError(`unexpected argument "${p.positionals[1]}"`);
  const timeoutMs = durationFlag(p, "timeout");
  if (timeoutMs <= 0) throw new UsageError(`option "--timeout" must be more than 0`);
  const tls = await clientTlsOptions(rt, p);
  let targets: ProbeTarget[];
  const [text] = p.positionals;
  if (text !== undefined) {
    targets = [explicitTarget(text, one(p, "service"), one(p, "framing"))];
    if (targets[0]!.addr.transport === "unix" && has(p, "tls")) {
      throw new UsageError("--tls: TLS is served on TCP only, not on a unix socket");
    }
  } else {
    if (one(p, "service") !== undefined || one(p, "framing") !== undefined) {
      throw new UsageError("--service and --framing go with ADDR; without ADDR they come from the server");
    }
    const pid = intFlag(p, "pid", 1)!;
    try {
      targets = targetsFromCmdline(await host.readFile(`/proc/${pid}/cmdline`), pid);
    } catch (err) {
      const why = err instanceof ProbeTargetError
        ? err.message
        : `cannot read the command line of process ${pid} (${err instanceof Error ? err.message : err}); give ADDR`;
      await host.stderr.write(`switchboard: probe: ${why}\n`);
      return 1;
    }
  }
  if (tls) targets = targets.map((t) => t.addr.transport === "tcp" ? { ...t, tls } : t);
  const results = await Promise.all(targets.map(async (t) => {
    const started = Date.now();
    const why = t.serverTls && !t.tls
      ? "the server serves TLS (--tls-cert): probe it with --tls (and --tls-ca FILE or --insecure)"
      : await probe(transport, t, timeoutMs);
    return { t, why, ms: Date.now() - started };
  }));
  let failed = 0;
  for (const { t, why, ms } of results) {
    const what = `${t.service}${t.framing ? ` (${t.framing})` : ""} ${formatAddr(t.addr)}${t.tls ? " over TLS" : ""}`;
    if (why === undefined) {
      await host.stdout.write(`ok ${what} (${ms} ms)\n`);
    } else {
      failed++;
      await host.stderr.write(`switchboard: probe ${what}: ${why}\n`);
    }
  }
  return failed === 0 ? 0 : 1;
}

function explicitTarget(text: string, service: string | undefined, framing: string | undefined): ProbeTarget {
  const addr = addrArg(text);
  const names = services.map((s) => s.name).join(", ");
  const entry = service !== undefined
    ? findService(service)
    : services.find((s) => addr.transport === "tcp" && s.defaultPort === addr.port);
  if (!entry) {
    throw new UsageError(
      service !== undefined
        ? `unknown service "${service}"; choose from ${names}`
        : `${text} is no service's default port: give --service (${names})`,
    );
  }
  if (framing !== undefined && !entry.takes.framing) {
    throw new UsageError(`option "--framing" does not apply to the ${entry.name} service`);
  }
  if (framing !== undefined) {
    try {
      framingFactory(framing);
    } catch (err) {
      throw new UsageError(err instanceof Error ? err.message : String(err));
    }
  }
  return { service: entry.name, addr, framing };
}

export const probeCommand: Command = {
  name: "probe",
  help,
  run,
};
