// The conformance suite must be able to fail: run checks against adapters with one
// classic bug each and expect each bug to be caught.
import { beforeAll, expect, test } from "vitest";
import type { Transport } from "../../src/transport.ts";
import { loadRuntime } from "../support/runtime.ts";
import { checks } from "./checks.ts";
import { closesOnPeerFin, dropsPartialWrites, ignoresPause, neverSignalsBackpressure } from "./faulty.ts";

let real: Transport;
beforeAll(async () => {
  real = (await loadRuntime()).transport;
});

const cases: [string, (t: Transport) => Transport, string][] = [
  ["drops the unwritten remainder of a write", dropsPartialWrites, "echoes a single 32 MiB write intact"],
  ["closes on the peer's FIN (ignores half-close)", closesOnPeerFin, "a client that sends then half-closes still receives the whole reply"],
  ["ignores pause()", ignoresPause, "pause() stops delivery and resume() delivers the rest"],
  ["never signals backpressure", neverSignalsBackpressure, "a peer that never reads sees backpressure and bounded queues, then gets every byte"],
];

for (const [bug, makeFaulty, checkName] of cases) {
  test(`the check "${checkName}" catches an adapter that ${bug}`, async () => {
    const check = checks[checkName];
    expect(check, `no check named "${checkName}"`).toBeDefined();
    await expect(check!({ t: makeFaulty(real), timeoutMs: 5_000 })).rejects.toThrow();
  });
}
