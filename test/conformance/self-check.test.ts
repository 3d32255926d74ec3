// The conformance suite must be able to fail: run checks against adapters with one
// classic bug each and expect each bug to be caught.
import { beforeAll, expect, test } from "vitest";
import type { Transport } from "../../src/transport.ts";
import { loadRuntime } from "../support/runtime.ts";
import { checks } from "./checks.ts";
import {
  closesOnPeerFin,
  deliversEndWhilePaused,
  dropsEndAfterOwnFin,
  dropsPartialWrites,
  ignoresPause,
  ignoresZeroHighWaterMark,
  losesCloseErrors,
  neverSignalsBackpressure,
  throwsOnWriteAfterClose,
} from "./faulty.ts";

let real: Transport;
beforeAll(async () => {
  real = (await loadRuntime()).transport;
});

const cases: [string, (t: Transport) => Transport, string][] = [
  ["drops the unwritten remainder of a write", dropsPartialWrites, "echoes a single 32 MiB write intact"],
  ["closes on the peer's FIN (ignores half-close)", closesOnPeerFin, "a client that sends then half-closes still receives the whole reply"],
  ["ignores pause()", ignoresPause, "pause() stops delivery and resume() delivers the rest"],
  ["never signals backpressure", neverSignalsBackpressure, "a peer that never reads sees backpressure and bounded queues, then gets every byte"],
  ["reports no end once it has sent its own FIN", dropsEndAfterOwnFin, "after we half-close first, the peer's FIN still arrives as end, before close"],
  ["loses the error of an abnormal close", losesCloseErrors, "writing to a peer that has reset ends in close(conn, err) with an error, and write() never throws"],
  ["throws from write() after close", throwsOnWriteAfterClose, "writing to a peer that has reset ends in close(conn, err) with an error, and write() never throws"],
  ["treats highWaterMark 0 as the default", ignoresZeroHighWaterMark, "with highWaterMark 0, write() returns false and drain still fires once the queue empties"],
  ["delivers end while paused, ahead of held data", deliversEndWhilePaused, "data and FIN that arrive while paused are held until resume(), in order"],
  ["ignores pause() (FIN and data while paused)", ignoresPause, "data and FIN that arrive while paused are held until resume(), in order"],
];

for (const [bug, makeFaulty, checkName] of cases) {
  test(`the check "${checkName}" catches an adapter that ${bug}`, async () => {
    const check = checks[checkName];
    expect(check, `no check named "${checkName}"`).toBeDefined();
    await expect(check!({ t: makeFaulty(real), timeoutMs: 5_000 })).rejects.toThrow();
  });
}
