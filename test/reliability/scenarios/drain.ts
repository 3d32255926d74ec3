// Graceful drain under load. On SIGTERM the server stops accepting at once, closes idle
// connections, lets in-flight frames finish and their replies flush (a reply already
// started is never lost), then exits 0 within the drain bound. A frame that never
// finishes is cut at the bound (hard stop), also when the server runs as PID 1.
// Off switch: --drain-timeout 0 (no bound: a stuck client holds the server up).
import * as net from "node:net";
import { readFileSync } from "node:fs";
import { expect } from "vitest";
import type { CliRuntime } from "../../support/cli.ts";
import { defer } from "../../support/reliability/cleanup.ts";
import { Crowd, eventually, sleep, sources, steady } from "../../support/reliability/clients.ts";
import { probeOnce } from "../../support/reliability/probe.ts";
import { serverHasRead, tcpSockets } from "../../support/reliability/procfs.ts";
import { measure } from "../../support/reliability/report.ts";
import { launch, type Sb } from "../../support/reliability/server.ts";

const DRAIN_MS = 4000;
const IDLE = 20;
const IN_FLIGHT = 20;
const SLOW_READERS = 3;
/** Larger than what loopback socket buffers absorb, so the reply is still queued in the server at SIGTERM. */
const BIG = 8 * 1024 * 1024;

/** A connection with a frame in flight: part of a line is sent; `finish()` sends the rest and collects the reply. */
interface InFlight {
  socket: net.Socket;
  expected: string;
  reply: () => string;
  ended: Promise<void>;
}

function inFlight(s: Sb, source: string, i: number, body: string): Promise<InFlight> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: s.host, port: s.port, localAddress: source });
    defer(() => socket.destroy());
    let got = "";
    socket.setEncoding("latin1");
    socket.on("data", (d: string) => (got += d));
    socket.on("error", () => {});
    const ended = new Promise<void>((r) => socket.on("close", () => r()));
    socket.on("connect", () => {
      const expected = `req ${i} ${body}\n`;
      socket.write(expected.slice(0, 8));
      resolve({ socket, expected, reply: () => got, ended });
    });
  });
}

export async function drainLosesNoReply(rt: CliRuntime, framed: readonly string[]): Promise<void> {
  const s = await launch(rt, [...framed, "--drain-timeout", `${DRAIN_MS}ms`, "--max-frame", "16MiB"]);
  const [src] = sources(1);
  const idle = new Crowd(s.host, s.port);
  await idle.open(IDLE, { sources: [src!] });
  const pending = await Promise.all(Array.from({ length: IN_FLIGHT }, (_, i) => inFlight(s, src!, i, "x".repeat(100))));
  // Slow readers: a large reply is already being sent to them when SIGTERM comes.
  const slow = await Promise.all(
    Array.from({ length: SLOW_READERS }, (_, i) => inFlight(s, src!, 100 + i, "z".repeat(BIG))),
  );
  for (const f of slow) {
    f.socket.pause();
    f.socket.write(f.expected.slice(8));
  }
  // Replies already started: server sockets with bytes in their kernel send queue. Wait
  // (bounded) until all the slow readers' replies are queued and the count holds still.
  const started = await steady(
    () => tcpSockets().filter((t) => t.localPort === s.port && t.state === "ESTABLISHED" && t.txQueue > 0).length,
    { target: SLOW_READERS, quietMs: 200, timeoutMs: 10_000 },
  );

  // The in-flight requests' first bytes must have been read, or those connections are idle
  // ones to a drain (closed at once).
  const pendingRead = await eventually(() => pending.every((f) => serverHasRead(s.port, f.socket)), 5000, 20);
  expect(pendingRead, "the server read the in-flight requests' first bytes").toBe(true);
  const t0 = Date.now();
  s.child.kill("SIGTERM");
  // Stop accepting at once: the listening socket goes away, and a new connection is refused.
  const stoppedListening = await eventually(
    () => !tcpSockets().some((t) => t.localPort === s.port && t.state === "LISTEN"),
    5000,
    20,
  );
  expect(stoppedListening, "the listener closes on SIGTERM").toBe(true);
  const late = await probeOnce(s.host, s.port, "127.0.0.1", 2000);
  const idleClosed = await eventually(() => idle.closedCount === IDLE, 2000);
  const idleClosedMs = Date.now() - t0;
  // The in-flight frames finish now, after the signal; the slow readers start reading.
  for (const f of pending) f.socket.write(f.expected.slice(8));
  for (const f of slow) f.socket.resume();
  await Promise.all([...pending, ...slow].map((f) => f.ended));
  const exit = await s.exited;
  const exitMs = Date.now() - t0;
  const lost = [...pending, ...slow].filter((f) => f.reply() !== f.expected).length;
  measure(rt, "drain", {
    idle: IDLE,
    in_flight: IN_FLIGHT,
    slow_readers: SLOW_READERS,
    big_reply_mib: BIG / 1024 / 1024,
    replies_sending_at_sigterm: started,
    late_connect: late.ok ? "served" : late.error ?? "?",
    idle_closed_ms: idleClosedMs,
    exit_ms: exitMs,
    exit_code: String(exit.code),
    lost_replies: lost,
  });

  expect(started, "the large replies were being sent when SIGTERM came").toBe(SLOW_READERS);
  expect(late.ok, "no new connection accepted after SIGTERM").toBe(false);
  expect(idleClosed, "idle connections closed").toBe(true);
  expect(lost, "every reply already started arrived in full").toBe(0);
  expect(exit.code).toBe(0);
  expect(exitMs, "exited within the drain bound").toBeLessThan(DRAIN_MS + 2000);
  expect(s.log()).not.toMatch(/drain-timeout=/);
  expect(s.crashSigns()).toEqual([]);
}

/** The PID of the server inside `unshare --pid --fork` (its only child). */
function innerPid(unsharePid: number): number {
  for (let i = 0; i < 100; i++) {
    const kids = readFileSync(`/proc/${unsharePid}/task/${unsharePid}/children`, "utf8").trim();
    if (kids) return Number(kids.split(" ")[0]);
  }
  throw new Error("no child of unshare");
}

/**
 * A frame that never completes: the drain bound cuts it and the server exits 0. Run as
 * PID 1 of a fresh PID namespace, where the kernel applies no default signal action.
 */
export async function drainHardStopsAtBoundAsPid1(
  rt: CliRuntime,
  framed: readonly string[],
  drainMs: number,
): Promise<{ exitMs: number; code: number | null; cut: number }> {
  const s = await launch(rt, [...framed, "--drain-timeout", drainMs ? `${drainMs}ms` : "0", "--linger-timeout", "1s"], {
    // --kill-child: if the wrapper is killed (a failed test's cleanup), the server dies with it.
    wrap: ["unshare", "--pid", "--fork", "--kill-child", "--mount-proc"],
    pid: innerPid,
  });
  const nsPid = /NSpid:\s+\d+\s+(\d+)/.exec(readFileSync(`/proc/${s.pid}/status`, "utf8"))?.[1];
  const stuck = await inFlight(s, "127.0.0.2", 0, "never finished");
  // The partial frame must have been read by the server (else it is an idle connection
  // and closes at once): our bytes left our socket and its receive queue is empty.
  const readByServer = await eventually(() => serverHasRead(s.port, stuck.socket), 5000, 20);
  // (Each adapter hands what it read to the session in the same callback.)
  expect(readByServer, "the server read the partial frame").toBe(true);
  const t0 = Date.now();
  process.kill(s.pid, "SIGTERM"); // unshare does not forward signals: signal PID 1 itself
  const watch = drainMs ? drainMs + 3000 : 3000;
  const exited = await Promise.race([s.exited, sleep(watch).then(() => undefined)]);
  const exitMs = Date.now() - t0;
  const cut = (s.log().match(/reason=drain-timeout/g) ?? []).length;
  measure(rt, drainMs ? "drain-hard-stop-pid1" : "drain-timeout-off-pid1", {
    ns_pid: nsPid ?? "?",
    exit_ms: exitMs,
    exit_code: String(exited?.code ?? "still running"),
    cut,
  });
  expect(nsPid, "the server is PID 1 in its namespace").toBe("1");
  if (!exited) {
    // The escape hatch: a second signal cuts everything now.
    process.kill(s.pid, "SIGTERM");
    const second = await Promise.race([s.exited, sleep(3000).then(() => undefined)]);
    stuck.socket.destroy();
    return { exitMs, code: second ? second.code : null, cut: -1 };
  }
  stuck.socket.destroy();
  return { exitMs, code: exited.code, cut };
}

export async function drainHardStop(rt: CliRuntime, framed: readonly string[]): Promise<void> {
  const drainMs = 2000;
  const r = await drainHardStopsAtBoundAsPid1(rt, framed, drainMs);
  expect(r.code, "exit 0 after the hard stop").toBe(0);
  expect(r.exitMs, "not before the drain bound").toBeGreaterThanOrEqual(drainMs - 100);
  expect(r.exitMs, "hard stop soon after the drain bound").toBeLessThan(drainMs + 2500);
  expect(r.cut, "the stuck connection was cut by the drain bound").toBe(1);
}

export async function drainWithoutBoundHangs(rt: CliRuntime, framed: readonly string[]): Promise<void> {
  const r = await drainHardStopsAtBoundAsPid1(rt, framed, 0);
  expect(r.cut, "still running past the bound (ended only by a second signal)").toBe(-1);
  expect(r.code, "a second SIGTERM cuts everything and exits 0").toBe(0);
}
