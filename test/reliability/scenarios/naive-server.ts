// The reset storm and the leak check guard against bugs, not against a knob that can be
// turned off. To show that they can fail, each is run against a naive echo server
// (fixtures/naive-echo-server.mjs) carrying the classic bug it exists to catch:
//   - reset storm vs. a server with no socket 'error' handler: the first reset kills it;
//   - leak check vs. a server that never closes after the peer's FIN: descriptors pile up
//     in CLOSE_WAIT.
import { fileURLToPath } from "node:url";
import { expect } from "vitest";
import { Crowd, eventually, sources } from "../../support/reliability/clients.ts";
import { serverSideStates } from "../../support/reliability/procfs.ts";
import { measure } from "../../support/reliability/report.ts";
import { launch, type Sb, settle } from "../../support/reliability/server.ts";
import { runCycles } from "./leak.ts";
import { misbehave } from "./reset-storm.ts";

const FIXTURE = fileURLToPath(new URL("../fixtures/naive-echo-server.mjs", import.meta.url));

function naive(bug: "no-error-handler" | "no-close"): Promise<Sb> {
  return launch("node", ["--bug", bug], { command: [process.execPath, [FIXTURE]] });
}

export async function resetStormKillsServerWithoutErrorHandling(): Promise<void> {
  const s = await naive("no-error-handler");
  const crowd = new Crowd(s.host, s.port);
  let n = 0;
  await crowd.open(300, {
    sources: sources(3),
    batch: 100,
    connectTimeoutMs: 3000,
    onConnect: (p) => misbehave(n++, p.socket),
  });
  const died = await eventually(() => !s.alive(), 5000);
  await crowd.destroyAll();
  measure("node", "reset-storm-naive", { died, crash_lines: s.crashSigns().length });
  expect(died, "the naive server died in the storm").toBe(true);
  expect(s.log(), "from an unhandled socket error").toMatch(/ECONNRESET|Unhandled 'error' event/);
}

export async function leakCheckCatchesServerThatNeverCloses(): Promise<void> {
  const s = await naive("no-close");
  const base = await settle(s.fds);
  const CYCLES = 200;
  // The naive server never sends its FIN, so each cycle ends at the client's timeout.
  const r = await runCycles(s, 1, CYCLES, 300);
  const states = serverSideStates(s.port);
  measure("node", "leak-naive", {
    cycles: CYCLES,
    fds_base: base,
    fds_after: r.fds[0]!,
    close_wait: states.CLOSE_WAIT ?? 0,
  });
  expect(r.bad, "no cycle got the server's FIN").toBe(CYCLES);
  expect(r.fds[0]!, "descriptors pile up").toBeGreaterThanOrEqual(base + CYCLES - 10);
  expect(states.CLOSE_WAIT ?? 0, "server sockets stuck in CLOSE_WAIT").toBeGreaterThanOrEqual(CYCLES - 10);
  await s.stop();
}
