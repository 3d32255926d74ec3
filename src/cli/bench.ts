// `switchboard bench`: the load generator. Parses its flags (bench-flags.ts), runs the
// mode (src/bench/run.ts) with a live progress line on a terminal, and prints the summary
// or, with --json, the documented JSON object; --plot draws a file, --pid adds the server's
// CPU time. Exit 0 when every request succeeded, 1 when any failed (the report still prints).

import { runBench } from "../bench/run.ts";
import { buildResult, errorTotal, formatResult } from "../bench/report.ts";
import { readOwnCpu, readProcessCpu } from "../bench/proc-cpu.ts";
import { formatFlags, parseArgs } from "./args.ts";
import { BENCH_FLAGS, parseBenchFlags, targetName } from "./bench-flags.ts";
import { ProgressLine } from "./bench-progress.ts";
import type { Command } from "./command.ts";
import { writePlot } from "./bench-plot-file.ts";
import { EXIT_INTERRUPTED } from "./send-many.ts";
import { clientTlsOptions } from "./tls-flags.ts";
import { proxyingTransport } from "../proxy/client.ts";

function help(): string {
  return `Usage: switchboard bench ADDR [--mode MODE] [-c N] [-d DURATION] [options]

Load generator: drives a server at ADDR with -c connections for -d, verifying every
reply, then prints throughput, latency percentiles (p50 p90 p99 p99.9 max, from an
HDR-style histogram, 3 significant digits) and errors by kind (connect, reset,
timeout, verify, other). On a terminal a progress line on stderr shows the rate,
errors and p99 so far.

Modes:
  echo     request/reply over raw echo: --size bytes out, every byte checked back (default)
  stream   bulk both ways: --size writes as fast as the server takes them, every byte
           checked, half-close at the end and every byte must come back
  connect  open, one echo exchange, close: the connection rate
  hold     open -c connections, send nothing, count how many are still open at the end
  framed   one --framing frame out, the same frame back (serve --framing SPEC)
  app      the app protocol's echo action, keep-alive (--new-conn: one request per connection)

Without --rate each connection sends its next request when the last reply is in (closed
loop). With --rate R, requests fall due at R per second in all whatever the server does;
one that finds every connection busy waits, and its latency counts from when it was due,
so a stalling server shows as the latency its users would see.

--tls speaks TLS on every connection (connect mode then measures full handshakes per
second; a failed handshake is a connect error); --proxy v1|v2 starts every connection
with a PROXY protocol header (for a server behind serve --proxy-protocol).

Exit status: 0 every request succeeded; 1 any error (the report still prints); 2 usage;
130 stopped by Ctrl-C (after printing the report so far).
Heavy load: run bench on Bun, on a core the server does not use (docs/bench.md).

Examples:
  switchboard bench :7007 -c 50 -d 10s
  switchboard bench :7007 --rate 20000 -c 100 --json
  switchboard bench :9000 --mode framed --framing lp:u32 --size 1KiB --plot run.svg
  switchboard bench :7443 --tls --tls-ca ca.pem --mode connect -c 8

Options:
${formatFlags(BENCH_FLAGS)}
`;
}

export const benchCommand: Command = {
  name: "bench",
  summary: "load generator: echo, stream, connect, hold, framed or app load; latency and throughput",
  help,
  async run(rt, argv) {
    const { host } = rt;
    const p = parseArgs(argv, BENCH_FLAGS);
    const cli = parseBenchFlags(p, host);
    const c = cli.config;
    // TLS flags the runtime cannot honour are refused (exit 2) as send/request do; files read now (exit 1)
    const tls = await clientTlsOptions(rt, p);
    if (tls) c.tls = tls;
    // --proxy: every connection the run opens starts with the header
    const transport = cli.proxy ? proxyingTransport(rt.transport, cli.proxy) : rt.transport;
    // an unknown pid fails now, before the run, not after it
    if (cli.pid !== undefined) await readProcessCpu(host, cli.pid);
    let cpuBefore: Promise<number> | undefined;
    let ownBefore: number | undefined;
    const progress = new ProgressLine(host.stderr);
    // Ctrl-C ends the run early: the report so far is printed, then exit 130 (as send -c)
    let interrupted = false;
    let onInterrupt!: () => void;
    const stopEarly = new Promise<void>((resolve) => (onInterrupt = resolve));
    const removeSignal = host.onSignal("SIGINT", () => {
      interrupted = true;
      onInterrupt();
    });
    const outcome = await runBench(transport, c, {
      stopEarly,
      onStart: (stats) => progress.start(stats),
      onMeasure: () => {
        if (cli.pid !== undefined) cpuBefore = readProcessCpu(host, cli.pid);
        ownBefore = readOwnCpu(host);
      },
    });
    removeSignal();
    await progress.stop();
    const result = buildResult(
      {
        mode: c.mode,
        target: targetName(c),
        runtime: transport.runtime,
        tls: tls !== undefined,
        proxy: cli.proxy?.version,
        connections: c.connections,
        size: c.size,
        warmupMs: c.warmupMs,
        rate: c.rate,
        unsent: outcome.unsent,
      },
      outcome.stats,
    );
    if (outcome.held) {
      result.connections_opened = outcome.held.opened;
      result.connections_alive = outcome.held.alive;
    }
    if (cli.pid !== undefined) {
      const used = (await readProcessCpu(host, cli.pid)) - (await cpuBefore!);
      result.server_cpu_s = Number(used.toFixed(2));
      result.server_cpu_s_per_request = result.requests > 0 ? used / result.requests : null;
    }
    const [ownStart, ownEnd] = [ownBefore, readOwnCpu(host)];
    if (ownStart !== undefined && ownEnd !== undefined) {
      const used = ownEnd - ownStart;
      result.bench_cpu_s = Number(used.toFixed(2));
      result.bench_cpu_s_per_request = result.requests > 0 ? used / result.requests : null;
      result.bench_cpu_share = result.duration_s > 0 ? Number((used / result.duration_s).toFixed(2)) : 0;
    }
    await host.stdout.write(cli.json ? JSON.stringify(result) + "\n" : formatResult(result));
    // after the report: a plot that cannot be written must not lose the run's figures
    if (cli.plot !== undefined) await writePlot(host, cli.plot, result, outcome.stats);
    if (interrupted) {
      await host.stderr.write("switchboard: bench interrupted; the report covers the run so far\n");
      return EXIT_INTERRUPTED;
    }
    if (errorTotal(result) > 0) return 1;
    if (result.requests === 0) {
      await host.stderr.write("switchboard: bench: no request completed\n");
      return 1;
    }
    return 0;
  },
};
