// Slowloris: 1,000 connections each trickling one byte of an unfinished frame every half
// second. Trickled bytes keep the idle timer happy, so only the frame deadline (which
// they must not reset) can cut them. The probe keeps succeeding throughout, and the
// 1,000 policy closes are logged at a bounded rate.
// Off switch: --frame-timeout 0 (the connections are still open after the deadline).
// Also: a client that pipelines complete frames, split anywhere, is NOT cut.
import * as net from "node:net";
import { expect } from "vitest";
import type { CliRuntime } from "../../support/cli.ts";
import { interval } from "../../support/reliability/cleanup.ts";
import { Crowd, eventually, sleep, sources } from "../../support/reliability/clients.ts";
import { formatProbe, Probe } from "../../support/reliability/probe.ts";
import { measure, spread } from "../../support/reliability/report.ts";
import { launch, policyLines, settle, stopServer } from "../../support/reliability/server.ts";

const CONNS = 1000;
const FRAME_MS = 1500;
const TRICKLE_MS = 500;

/** Open the crowd; each sends one byte now and one more every TRICKLE_MS, never a newline. */
async function trickle(host: string, port: number): Promise<{ crowd: Crowd; stop(): void }> {
  const crowd = new Crowd(host, port);
  await crowd.open(CONNS, { sources: sources(4), batch: 100, onConnect: (p) => p.socket.write("x") });
  // Cleared by stop(), or after the test if it fails first.
  const stop = interval(() => {
    for (const p of crowd.peers) if (!p.closed && p.socket.writable) p.socket.write("x");
  }, TRICKLE_MS);
  return { crowd, stop };
}

export async function slowlorisIsCutAtFrameDeadline(rt: CliRuntime, framed: readonly string[]): Promise<void> {
  const s = await launch(rt, [...framed, "--frame-timeout", `${FRAME_MS}ms`, "--idle-timeout", "30s"]);
  const base = await settle(s.fds);
  const probe = new Probe(s.host, s.port).start();
  const t0 = Date.now();
  const { crowd, stop } = await trickle(s.host, s.port);
  const openMs = Date.now() - t0;
  const allCut = await eventually(() => crowd.closedCount === CONNS, FRAME_MS + 8000);
  stop();
  const fdsBack = await eventually(() => s.fds() <= base + 2, 5000);
  await sleep(500);
  const report = await probe.stop();
  const lifetimes = spread(crowd.peers.map((p) => (p.closedAt ?? Date.now()) - p.openedAt));
  const lines = policyLines(s.log(), "frame-timeout");
  const cutCount = await s.waitPolicy("frame-timeout", CONNS);
  // The summary of the suppressed lines closes its one-second window: up to a second after the cuts.
  const summarised = await eventually(
    () => /policy closes not logged \(rate limit\) suppressed=\d+/.test(s.log()),
    5000,
  );
  measure(rt, "slowloris", {
    conns: CONNS,
    open_ms: openMs,
    frame_ms: FRAME_MS,
    lifetime_p50_ms: lifetimes.p50,
    lifetime_max_ms: lifetimes.max,
    policy_log_lines: lines,
    counted: cutCount,
    probe: formatProbe(report),
  });
  await crowd.destroyAll();

  expect(allCut, `${crowd.openCount} slowloris connections still open`).toBe(true);
  expect(crowd.peers.every((p) => p.closedAt! - p.openedAt >= FRAME_MS - 50), "none cut before the deadline").toBe(
    true,
  );
  expect(cutCount).toBe(CONNS);
  expect(lines, "policy closes are logged at a bounded rate").toBeLessThan(CONNS / 4);
  expect(summarised, "the summary line of the suppressed policy closes").toBe(true);
  expect(fdsBack, "descriptors back to baseline").toBe(true);
  expect(report.failed, formatProbe(report)).toBe(0);
  expect(s.crashSigns()).toEqual([]);
  expect((await stopServer(s)).code).toBe(0);
}

export async function slowlorisWithoutFrameDeadlineStaysOpen(rt: CliRuntime, framed: readonly string[]): Promise<void> {
  const s = await launch(rt, [...framed, "--frame-timeout", "0", "--idle-timeout", "30s"]);
  const { crowd, stop } = await trickle(s.host, s.port);
  await sleep(FRAME_MS + 1000);
  stop();
  const open = crowd.openCount;
  measure(rt, "slowloris-frame-timeout-off", { open_after_deadline: open, fds: s.fds() });
  await crowd.destroyAll();
  expect(open, "all still open past the deadline").toBe(CONNS);
  expect((await stopServer(s)).code).toBe(0);
}

/**
 * A well-behaved client pipelining complete lines for longer than the frame deadline,
 * with its writes split mid-line (so after most reads a frame is partly received).
 * Each frame completes quickly, so the frame deadline must never fire.
 */
export async function pipeliningIsNotCutByFrameDeadline(rt: CliRuntime, framed: readonly string[]): Promise<void> {
  const frameMs = 1000;
  const s = await launch(rt, [...framed, "--frame-timeout", `${frameMs}ms`, "--idle-timeout", "30s"]);
  const result = await new Promise<{ sent: number; received: number; closedEarly: boolean }>((resolve) => {
    const socket = net.connect({ host: s.host, port: s.port });
    let sent = 0;
    let received = 0;
    let closedEarly = false;
    let timer: ReturnType<typeof setInterval> | undefined;
    socket.on("data", (b: Buffer) => (received += b.length));
    socket.on("error", () => {});
    socket.on("close", () => {
      closedEarly = true;
      clearInterval(timer);
      resolve({ sent, received, closedEarly });
    });
    socket.on("connect", () => {
      // Every write carries the end of one line and the start of the next, so after
      // every read the server holds a partial frame, yet every frame completes within
      // 50 ms.
      const line = (i: number) => `line ${i} ${"y".repeat(40)}\n`;
      let i = 0;
      socket.write(line(0).slice(0, 20));
      timer = setInterval(() => {
        socket.write(line(i).slice(20) + line(i + 1).slice(0, 20));
        sent += line(i).length;
        i++;
      }, 50);
      setTimeout(() => {
        clearInterval(timer);
        socket.removeAllListeners("close");
        setTimeout(() => {
          socket.destroy();
          resolve({ sent, received, closedEarly });
        }, 200);
      }, frameMs * 3);
    });
  });
  measure(rt, "pipelining", { ...result, frame_ms: frameMs });
  expect(result.closedEarly, "a pipelining client was cut by the frame deadline").toBe(false);
  expect((await stopServer(s)).code).toBe(0);
}
