// A real `switchboard serve` process for the reliability suite: started through
// test/support/cli.ts on one runtime, with readers for what a test checks from the
// outside (descriptors, memory, CPU, policy counters from the log) and a crash check.
import { type CliRuntime, killTree, type RunningServer, startServer } from "../cli.ts";
import { runCleanups } from "./cleanup.ts";
import { cpuSeconds, fdCount, isAlive, rssBytes, startTicks } from "./procfs.ts";
import { eventually, sleep } from "./clients.ts";
import { probeOnce } from "./probe.ts";

export interface Sb extends RunningServer {
  runtime: CliRuntime;
  pid: number;
  fds(): number;
  rss(): number;
  cpu(): number;
  alive(): boolean;
  /** Policy-close counters from the latest "policy close totals" log line. */
  policy(): Record<string, number>;
  /** Wait until counter `reason` reaches `atLeast` (the totals line comes at most once a second). */
  waitPolicy(reason: string, atLeast: number, timeoutMs?: number): Promise<number>;
  /** Log lines that mean something crashed or an error escaped. */
  crashSigns(): string[];
}

const live = new Set<Sb>();
/** Start time of each live server's pid, so a reused pid is never mistaken for (and killed as) it. */
const started = new WeakMap<Sb, number | undefined>();

/** Flags every reliability server gets: an OS-chosen port and log lines in text. */
const BASE = ["--listen", "127.0.0.1:0", "--log-format", "text"];

/**
 * Start a server and wait until it serves one probe (so the runtime has opened
 * whatever it opens lazily before a test takes its baseline). The probe is a text line:
 * pass `lineProbe: false` for services that would not echo it.
 */
export async function launch(
  runtime: CliRuntime,
  args: readonly string[],
  opts: {
    wrap?: string[];
    pid?: (childPid: number) => number;
    lineProbe?: boolean;
    /** Run this instead of the runtime's CLI (it gets `serve` and the flags too). */
    command?: [string, string[]];
  } = {},
): Promise<Sb> {
  const s = await startServer(runtime, [...BASE, ...args], { wrap: opts.wrap, command: opts.command });
  let pid: number;
  try {
    pid = opts.pid ? opts.pid(s.child.pid!) : s.child.pid!;
  } catch (e) {
    killTree(s.child);
    throw e;
  }
  const sb: Sb = {
    ...s,
    runtime,
    pid,
    fds: () => fdCount(pid),
    rss: () => rssBytes(pid),
    cpu: () => cpuSeconds(pid),
    alive: () => isAlive(pid) && s.child.exitCode === null && s.child.signalCode === null,
    policy: () => parseTotals(s.log()),
    async waitPolicy(reason, atLeast, timeoutMs = 5000) {
      await eventually(() => (sb.policy()[reason] ?? 0) >= atLeast, timeoutMs, 100);
      return sb.policy()[reason] ?? 0;
    },
    crashSigns: () => crashSigns(s.log()),
  };
  live.add(sb);
  started.set(sb, startTicks(pid));
  void s.exited.then(() => live.delete(sb));
  // A binary framing (lp:u32, ...) cannot echo the probe's text line: skip the check.
  if (opts.lineProbe !== false) {
    const warm = await probeOnce(s.host, s.port, "127.0.0.1", 10_000);
    if (!warm.ok) throw new Error(`server on ${runtime} does not echo: ${warm.error}\n${s.log()}`);
  }
  await sleep(100);
  return sb;
}

/**
 * Kill whatever a failed test left running: the process we started, everything it
 * started (the server inside an `unshare` wrapper), and the server's own pid. Waits for
 * the processes to be gone ('exit', not 'close': a stray holder of the output pipe
 * must not hold this up), bounded by `timeoutMs`; throws if one survives.
 */
export async function killAll(timeoutMs = 5000): Promise<void> {
  const servers = [...live];
  live.clear();
  const survivors = await Promise.all(servers.map(async (s) => {
    // Still the server we started (not a process that reused its pid after it was reaped)?
    const ours = () => isAlive(s.pid) && startTicks(s.pid) === started.get(s);
    killTree(s.child);
    // The wrapper may already be gone and the server reparented: kill it by its own pid.
    if (s.pid !== s.child.pid && ours()) {
      try {
        process.kill(s.pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
    const exited = await Promise.race([s.terminated.then(() => true), sleep(timeoutMs).then(() => false)]);
    const innerGone = await eventually(() => !ours(), exited ? timeoutMs : 0, 20);
    // Nothing left to read: let go of the pipes so no handle outlives the test.
    s.child.stdout?.destroy();
    s.child.stderr?.destroy();
    return exited && innerGone ? undefined : `${s.runtime} server pid ${s.pid} (started as ${s.child.pid})`;
  }));
  const left = survivors.filter((x) => x !== undefined);
  if (left.length) throw new Error(`still running after SIGKILL: ${left.join(", ")}`);
}

/** The suite's afterEach: stop the helpers a test left behind (probes, crowds, timers), then its servers. */
export async function cleanUpAfterTest(): Promise<void> {
  try {
    await runCleanups();
  } finally {
    await killAll();
  }
}

export function parseTotals(log: string): Record<string, number> {
  const lines = log.split("\n").filter((l) => l.includes("policy close totals"));
  const last = lines.at(-1);
  const out: Record<string, number> = {};
  if (!last) return out;
  for (const m of last.matchAll(/([a-z-]+)=(\d+)/g)) out[m[1]!] = Number(m[2]);
  return out;
}

/** Count "connection closed by policy" lines (rate-limited, so at most the budget per second). */
export function policyLines(log: string, reason?: string): number {
  return log.split("\n").filter((l) =>
    l.includes("connection closed by policy") && (!reason || l.includes(`reason=${reason} `))
  ).length;
}

const CRASH =
  /uncaught|unhandled|panicked|segmentation fault|out of memory|RangeError|TypeError|ReferenceError|^\s+at .+:\d+:\d+\)?$/im;

export function crashSigns(log: string): string[] {
  return log.split("\n").filter((l) => CRASH.test(l));
}

/** SIGTERM, then wait for the exit (SIGKILL after `graceMs`). */
export async function stopServer(
  s: Sb,
  graceMs = 15_000,
): Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }> {
  const t0 = performance.now();
  const r = await s.stop(graceMs);
  return { ...r, ms: performance.now() - t0 };
}

/** Median of a few samples of `read`, `everyMs` apart (smooths GC and allocator noise). */
export async function settle(read: () => number, samples = 3, everyMs = 60): Promise<number> {
  const xs: number[] = [];
  for (let i = 0; i < samples; i++) {
    xs.push(read());
    if (i < samples - 1) await sleep(everyMs);
  }
  return xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
}
