// Leak check: thousands of connect / echo / close cycles in rounds. After each round the
// server's descriptors, sockets and memory come back to where they were (with a
// tolerance for memory, which allocators and GCs give back lazily).
import { expect } from "vitest";
import type { CliRuntime } from "../../support/cli.ts";
import { eventually, request, sources } from "../../support/reliability/clients.ts";
import { liveServerSockets } from "../../support/reliability/procfs.ts";
import { measure, MiB } from "../../support/reliability/report.ts";
import { launch, settle, stopServer } from "../../support/reliability/server.ts";

const ROUNDS = 3;
const PER_ROUND = 1000;
const CONCURRENCY = 40;
/** RSS may drift this much between the first round and the last. */
const RSS_TOLERANCE = 16 * MiB;

export async function cyclesLeaveNothingBehind(rt: CliRuntime): Promise<void> {
  const s = await launch(rt, []);
  const base = await settle(s.fds);
  const from = sources(4, 30);
  const fds: number[] = [];
  const rss: number[] = [];
  let bad = 0;
  for (let round = 0; round < ROUNDS; round++) {
    let next = 0;
    const worker = async () => {
      while (next < PER_ROUND) {
        const i = next++;
        const line = `cycle ${round}.${i}\n`;
        const r = await request(s.host, s.port, line, { source: from[i % from.length] });
        if (r.how !== "end" || r.reply.toString() !== line) bad++;
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    await eventually(() => liveServerSockets(s.port) === 0, 3000);
    fds.push(await settle(s.fds, 3));
    rss.push(await settle(s.rss, 5));
  }
  const sockets = liveServerSockets(s.port);
  measure(rt, "leak", {
    cycles: ROUNDS * PER_ROUND,
    fds_base: base,
    fds_per_round: fds.join("/"),
    rss_per_round_mib: rss.map((x) => (x / MiB).toFixed(1)).join("/"),
    live_sockets: sockets,
    failed_cycles: bad,
  });
  expect(bad, "every cycle echoed and closed cleanly").toBe(0);
  expect(fds.at(-1)!, "descriptors back to baseline").toBeLessThanOrEqual(base + 2);
  expect(sockets, "no server-side socket left").toBe(0);
  expect(rss.at(-1)! - rss[0]!, "memory back to the first round's level").toBeLessThan(RSS_TOLERANCE);
  expect(s.crashSigns()).toEqual([]);
  expect((await stopServer(s)).code).toBe(0);
}
