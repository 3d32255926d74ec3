// Connection limits: the global cap and the per-source cap hold exactly, connections
// over a limit are closed at once (never queued), a well-behaved source is served while
// another source is at its cap, and new connections per second per source are limited.
// Off switches, one at a time: --max-conns-per-ip 0, a huge --max-conns, --max-rate-per-ip 0.
import { expect } from "vitest";
import type { CliRuntime } from "../../support/cli.ts";
import { Crowd, eventually, type Peer, servedCount, sources, steady } from "../../support/reliability/clients.ts";
import { probeOnce, type ProbeResult } from "../../support/reliability/probe.ts";
import { liveServerSockets } from "../../support/reliability/procfs.ts";
import { measure, spread } from "../../support/reliability/report.ts";
import { launch, settle, stopServer } from "../../support/reliability/server.ts";

const MAX = 50;
const PER_IP = 20;
const TRIES = 40;
const [A, B, C] = sources(3);

const held = (peers: Peer[]) => peers.filter((p) => p.connected && !p.closed).length;

/**
 * Open `n` connections from `source`, then poll (bounded) until the server has refused
 * the excess: the number held reaches `expected` (when given) and holds still. The
 * caller asserts the exact count.
 */
async function attempt(crowd: Crowd, source: string, n: number, expected?: number): Promise<Peer[]> {
  const peers = await crowd.open(n, { sources: [source], batch: n });
  await steady(() => held(peers), expected === undefined ? {} : { target: expected });
  return peers;
}

/** Probe, then wait until the server has let go of the probe's connection (so it no longer counts). */
async function probeAndSettle(host: string, port: number, holding: number): Promise<ProbeResult> {
  const r = await probeOnce(host, port);
  expect(await eventually(() => liveServerSockets(port) <= holding, 5000, 20), "the probe's connection is let go").toBe(
    true,
  );
  return r;
}

export async function limitsHoldExactly(rt: CliRuntime): Promise<void> {
  const s = await launch(rt, ["--max-conns", `${MAX}`, "--max-conns-per-ip", `${PER_IP}`, "--idle-timeout", "60s"]);
  const base = await settle(s.fds);
  const crowd = new Crowd(s.host, s.port);

  const fromA = await attempt(crowd, A!, TRIES, PER_IP);
  const probeWhileAFull = await probeAndSettle(s.host, s.port, PER_IP);
  const fromB = await attempt(crowd, B!, TRIES, PER_IP);
  const probeWhileBFull = await probeAndSettle(s.host, s.port, 2 * PER_IP);
  const fromC = await attempt(crowd, C!, TRIES, MAX - 2 * PER_IP);
  const fdsFull = s.fds();
  const probeWhileFull = await probeOnce(s.host, s.port, "127.0.0.1", 5000);
  const refused = crowd.peers.filter((p) => p.closed);
  const refusedIn = spread(refused.map((p) => p.closedAt! - p.openedAt));
  const [heldA, heldB, heldC] = [held(fromA), held(fromB), held(fromC)];

  await crowd.destroyAll();
  // The slots are free once the server has closed the departed clients' sockets.
  await eventually(() => s.fds() <= base + 2, 5000);
  const probeAfter = await probeOnce(s.host, s.port);
  measure(rt, "limits", {
    held_a: heldA,
    held_b: heldB,
    held_c: heldC,
    fds_base: base,
    fds_full: fdsFull,
    refused: refused.length,
    refused_closed_p50_ms: refusedIn.p50,
    refused_closed_max_ms: refusedIn.max,
    probe_when_full: probeWhileFull.ok
      ? "served"
      : `refused in ${probeWhileFull.ms.toFixed(0)}ms (${probeWhileFull.error})`,
  });

  expect(heldA, "per-source cap on A").toBe(PER_IP);
  expect(heldB, "per-source cap on B").toBe(PER_IP);
  expect(heldC, "global cap leaves C the rest").toBe(MAX - 2 * PER_IP);
  expect(probeWhileAFull.ok && probeWhileBFull.ok, "another source is served while one is at its cap").toBe(true);
  expect(probeWhileFull.ok, "at the global cap even the probe is refused").toBe(false);
  expect(probeWhileFull.ms, "refused at once, not queued").toBeLessThan(2000);
  expect(fdsFull).toBeLessThanOrEqual(base + MAX + 2);
  expect(probeAfter.ok, "served again once the crowd left").toBe(true);
  const counts = await s.waitPolicy("max-conns", TRIES - (MAX - 2 * PER_IP));
  expect(counts).toBeGreaterThanOrEqual(TRIES - (MAX - 2 * PER_IP));
  expect(s.policy()["max-conns-per-ip"]).toBe(2 * (TRIES - PER_IP));
  expect(s.crashSigns()).toEqual([]);
  expect((await stopServer(s)).code).toBe(0);
}

/**
 * --max-conns-per-ip 0 (global cap as before): the first source takes 40 of the 50 slots
 * and the next is left with the rest: one source starves the others.
 */
export async function perSourceCapOffLetsOneSourceHoard(rt: CliRuntime): Promise<void> {
  const s = await launch(rt, ["--max-conns", `${MAX}`, "--max-conns-per-ip", "0", "--idle-timeout", "60s"]);
  const crowd = new Crowd(s.host, s.port);
  const fromA = await attempt(crowd, A!, TRIES, TRIES);
  const servedA = await servedCount(fromA); // answered, not just open from our side
  const fromB = await attempt(crowd, B!, TRIES, MAX - TRIES);
  const servedB = await servedCount(fromB);
  measure(rt, "limits-per-ip-off", { served_a: servedA, served_b: servedB });
  expect(servedA, "one source holds all it asked for").toBe(TRIES);
  expect(servedB, "the next source gets only what is left").toBe(MAX - TRIES);
  await crowd.destroyAll();
  expect((await stopServer(s)).code).toBe(0);
}

/** A huge --max-conns (per-source cap as before): together the sources pass the cap of 50. */
export async function globalCapOffLetsThemPastIt(rt: CliRuntime): Promise<void> {
  const s = await launch(rt, ["--max-conns", "100000", "--max-conns-per-ip", `${PER_IP}`, "--idle-timeout", "60s"]);
  const crowd = new Crowd(s.host, s.port);
  let total = 0;
  for (const src of [A!, B!, C!]) total += await servedCount(await attempt(crowd, src, TRIES, PER_IP));
  measure(rt, "limits-global-off", { served_total: total });
  expect(total, "three sources at their per-source cap, past the global cap").toBe(3 * PER_IP);
  expect(total).toBeGreaterThan(MAX);
  await crowd.destroyAll();
  expect((await stopServer(s)).code).toBe(0);
}

const RATE = 10;
const BURST = 40;

export async function rateLimitPerSource(rt: CliRuntime): Promise<void> {
  const s = await launch(rt, ["--max-rate-per-ip", `${RATE}`, "--idle-timeout", "60s"]);
  const crowd = new Crowd(s.host, s.port);
  const t0 = Date.now();
  const burst = await attempt(crowd, A!, BURST);
  // Open from our side is not yet admitted: count those the server answers. The bucket
  // refills for as long as the server takes to decide, so the clock stops only then.
  const admitted = await servedCount(burst);
  const seconds = (Date.now() - t0) / 1000;
  const probe = await probeOnce(s.host, s.port);
  measure(rt, "rate-limit", { burst: BURST, admitted, seconds });
  // A full bucket admits RATE at once, plus what refills while the burst lasts.
  expect(admitted).toBeGreaterThanOrEqual(RATE);
  expect(admitted).toBeLessThanOrEqual(RATE + Math.ceil(seconds * RATE) + 1);
  expect(probe.ok, "another source is not rate-limited").toBe(true);
  await crowd.destroyAll();
  expect((await stopServer(s)).code).toBe(0);
}

export async function rateLimitOff(rt: CliRuntime): Promise<void> {
  const s = await launch(rt, ["--max-rate-per-ip", "0", "--idle-timeout", "60s"]);
  const crowd = new Crowd(s.host, s.port);
  const burst = await attempt(crowd, A!, BURST, BURST);
  const admitted = await servedCount(burst); // answered, not just open from our side
  measure(rt, "rate-limit-off", { burst: BURST, admitted });
  expect(admitted).toBe(BURST);
  await crowd.destroyAll();
  expect((await stopServer(s)).code).toBe(0);
}
