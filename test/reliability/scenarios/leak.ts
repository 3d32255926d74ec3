// Leak check: thousands of connect / echo / close cycles in rounds. After each round the
// server's descriptors, sockets and memory come back to where they were (with a
// tolerance for memory, which allocators and GCs give back lazily).
import { expect } from "vitest";
import type { CliRuntime } from "../../support/cli.ts";
import { eventually, request, sources } from "../../support/reliability/clients.ts";
import { liveServerSockets } from "../../support/reliability/procfs.ts";
import { measure, MiB } from "../../support/reliability/report.ts";
import { formatProbe, Probe } from "../../support/reliability/probe.ts";
import { launch, type Sb, settle, stopServer } from "../../support/reliability/server.ts";

const ROUNDS = 3;
const PER_ROUND = 1000;
const CONCURRENCY = 40;
/** RSS may drift this much between the first round and the last. */
const RSS_TOLERANCE = 16 * MiB;

export interface Cycles {
  fds: number[];
  rss: number[];
  /** Cycles that did not get their echo and the server's FIN. */
  bad: number;
}

/** Rounds of connect / echo / FIN-FIN cycles, CONCURRENCY at a time; fds and RSS after each round. */
export async function runCycles(s: Sb, rounds: number, perRound: number, timeoutMs = 10_000): Promise<Cycles> {
  const from = sources(4, 30);
  const out: Cycles = { fds: [], rss: [], bad: 0 };
  for (let round = 0; round < rounds; round++) {
    let next = 0;
    const worker = async () => {
      while (next < perRound) {
        const i = next++;
        const line = `cycle ${round}.${i}\n`;
        const r = await request(s.host, s.port, line, { source: from[i % from.length], timeoutMs });
        if (r.how !== "end" || r.reply.toString() !== line) out.bad++;
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    await eventually(() => liveServerSockets(s.port) === 0, 3000);
    out.fds.push(await settle(s.fds, 3));
    out.rss.push(await settle(s.rss, 5));
  }
  return out;
}

export async function cyclesLeaveNothingBehind(rt: CliRuntime): Promise<void> {
  const s = await launch(rt, []);
  const base = await settle(s.fds);
  const probe = new Probe(s.host, s.port).start();
  const { fds, rss, bad } = await runCycles(s, ROUNDS, PER_ROUND);
  const report = await probe.stop();
  const sockets = liveServerSockets(s.port);
  measure(rt, "leak", {
    cycles: ROUNDS * PER_ROUND,
    fds_base: base,
    fds_per_round: fds.join("/"),
    rss_per_round_mib: rss.map((x) => (x / MiB).toFixed(1)).join("/"),
    live_sockets: sockets,
    failed_cycles: bad,
    probe: formatProbe(report),
  });
  expect(bad, "every cycle echoed and closed cleanly").toBe(0);
  expect(fds.at(-1)!, "descriptors back to baseline").toBeLessThanOrEqual(base + 2);
  expect(sockets, "no server-side socket left").toBe(0);
  expect(rss.at(-1)! - rss[0]!, "memory back to the first round's level").toBeLessThan(RSS_TOLERANCE);
  expect(report.failed, formatProbe(report)).toBe(0);
  expect(s.crashSigns()).toEqual([]);
  expect((await stopServer(s)).code).toBe(0);
}
