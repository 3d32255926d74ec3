// Idle: hundreds of silent connections are closed at the idle timeout and the
// server's descriptor count returns to its baseline. Off switch: --idle-timeout 0.
import { expect } from "vitest";
import type { CliRuntime } from "../../support/cli.ts";
import { Crowd, eventually, sleep, sources } from "../../support/reliability/clients.ts";
import { formatProbe, Probe } from "../../support/reliability/probe.ts";
import { measure, spread } from "../../support/reliability/report.ts";
import { launch, settle, stopServer } from "../../support/reliability/server.ts";

const CONNS = 300;
const IDLE_MS = 1000;

export async function idleClosesSilentConnections(rt: CliRuntime): Promise<void> {
  const s = await launch(rt, ["--idle-timeout", `${IDLE_MS}ms`]);
  const base = await settle(s.fds);
  const probe = new Probe(s.host, s.port).start();
  const crowd = new Crowd(s.host, s.port);
  await crowd.open(CONNS, { sources: sources(3) });
  const held = s.fds();
  expect(crowd.peers.filter((p) => p.connected).length).toBe(CONNS);

  const allClosed = await eventually(() => crowd.closedCount === CONNS, IDLE_MS + 8000);
  const fdsBack = await eventually(() => s.fds() <= base + 2, 5000);
  const after = await settle(s.fds);
  const report = await probe.stop();
  const lifetimes = spread(crowd.peers.map((p) => (p.closedAt ?? Date.now()) - p.openedAt));
  measure(rt, "idle", {
    conns: CONNS,
    idle_ms: IDLE_MS,
    fds_base: base,
    fds_held: held,
    fds_after: after,
    lifetime_p50_ms: lifetimes.p50,
    lifetime_max_ms: lifetimes.max,
    probe: formatProbe(report),
  });

  expect(allClosed, `${crowd.openCount} connections still open`).toBe(true);
  expect(crowd.peers.every((p) => p.how === "end"), "closed by the server's FIN").toBe(true);
  expect(crowd.peers.every((p) => p.closedAt! - p.openedAt >= IDLE_MS - 50), "not before the idle timeout").toBe(true);
  expect(fdsBack, `fds ${after} vs baseline ${base}`).toBe(true);
  expect(await s.waitPolicy("idle-timeout", CONNS)).toBeGreaterThanOrEqual(CONNS);
  expect(report.failed, formatProbe(report)).toBe(0);
  expect(s.crashSigns()).toEqual([]);
  expect((await stopServer(s)).code).toBe(0);
}

/** The same crowd against --idle-timeout 0: the harm shows (all still open, descriptors held). */
export async function idleOffLeavesThemOpen(rt: CliRuntime): Promise<void> {
  const s = await launch(rt, ["--idle-timeout", "0"]);
  const base = await settle(s.fds);
  const crowd = new Crowd(s.host, s.port);
  await crowd.open(CONNS, { sources: sources(3) });
  await sleep(IDLE_MS + 1000);
  const held = s.fds();
  measure(rt, "idle-off", { open_after_deadline: crowd.openCount, fds_base: base, fds_held: held });
  expect(crowd.openCount).toBe(CONNS);
  expect(held).toBeGreaterThanOrEqual(base + CONNS);
  await crowd.destroyAll();
  expect((await stopServer(s)).code).toBe(0);
}
