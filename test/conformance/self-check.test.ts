// The conformance suite must be able to fail: run checks against adapters with one
// classic bug each and expect each bug to be caught.
import { beforeAll, expect, test } from "vitest";
import type { Transport } from "../../src/transport.ts";
import { memoryTransport } from "../../src/testing/memory-transport.ts";
import { loadRuntime } from "../support/runtime.ts";
import { NOT_IN_MEMORY } from "./memory-exceptions.ts";
import { checks } from "./checks.ts";
import {
  closesNeighboursOnClose,
  closesOnPeerFin,
  deliversEndWhilePaused,
  drainsAfterEnd,
  dropsEndAfterOwnFin,
  dropsPartialWrites,
  ignoresPause,
  ignoresZeroHighWaterMark,
  leaksRawErrors,
  losesCloseErrors,
  neverSignalsBackpressure,
  pinsReadBuffers,
  stopsListeningAfterAClose,
  throwsOnWriteAfterClose,
} from "./faulty.ts";

let real: Transport;
beforeAll(async () => {
  real = (await loadRuntime()).transport;
});

// Each case names the violation its check must report: a timeout, a busy port or any
// other unrelated failure is not the check catching the bug.
const cases: [string, (t: Transport) => Transport, string, RegExp][] = [
  [
    "drops the unwritten remainder of a write",
    dropsPartialWrites,
    "echoes a single 32 MiB write intact",
    /^echo of 33554432 bytes: received \d+ of 33554432 bytes; first difference at byte \d+$/,
  ],
  [
    "closes on the peer's FIN (ignores half-close)",
    closesOnPeerFin,
    "a client that sends then half-closes still receives the whole reply",
    /^reply after half-close: received \d+ of 262144 bytes; first difference at byte \d+$/,
  ],
  [
    "ignores pause()",
    ignoresPause,
    "pause() stops delivery and resume() delivers the rest",
    /^[1-9]\d* bytes were delivered while paused$/,
  ],
  [
    "never signals backpressure",
    neverSignalsBackpressure,
    "a peer that never reads sees backpressure and bounded queues, then gets every byte",
    /^writer was never told to stop \(wrote \d+ bytes to a peer that reads nothing\)$/,
  ],
  [
    "reports no end once it has sent its own FIN",
    dropsEndAfterOwnFin,
    "after we half-close first, the peer's FIN still arrives as end, before close",
    /^client that half-closed first: events data,close, want data,end,close$/,
  ],
  [
    "loses the error of an abnormal close",
    losesCloseErrors,
    "writing to a peer that has reset ends in close(conn, err) with an error, and write() never throws",
    /^a peer that closed with abort: writing to it ended in a clean close \(no error\)( after an end)?$/,
  ],
  [
    "throws from write() after close",
    throwsOnWriteAfterClose,
    "writing to a peer that has reset ends in close(conn, err) with an error, and write() never throws",
    /^a peer that closed with abort: write\(\) after close threw: Error: write after close \(EPIPE\)$/,
  ],
  [
    "treats highWaterMark 0 as the default",
    ignoresZeroHighWaterMark,
    "with highWaterMark 0, write() returns false and drain still fires once the queue empties",
    /^listener with highWaterMark 0: write\(\) of 1000 bytes returned true$/,
  ],
  [
    "delivers end while paused, ahead of held data",
    deliversEndWhilePaused,
    "data and FIN that arrive while paused are held until resume(), in order",
    /^delivered while paused: 0 data events and end$/,
  ],
  [
    "ignores pause() (FIN and data while paused)",
    ignoresPause,
    "data and FIN that arrive while paused are held until resume(), in order",
    /^delivered while paused: [1-9]\d* data events( and end)?$/,
  ],
  [
    "aborts a listener's other connections when one closes",
    closesNeighboursOnClose,
    "a peer that resets mid-transfer closes only that connection",
    /^the other connection was (closed|ended by the server)/,
  ],
  [
    "stops listening once a connection closes",
    stopsListeningAfterAClose,
    "a peer that resets mid-transfer closes only that connection",
    /^the listener did not serve a new connection after the reset: /,
  ],
  [
    "lets the runtime's own connect errors through",
    leaksRawErrors,
    "a refused connect reads: cannot connect to ADDR: connection refused (ECONNREFUSED)",
    /^refused connect: got Error "connect ECONNREFUSED 127\.0\.0\.1:\d+" \(code ECONNREFUSED\), want ConnectError /,
  ],
  [
    "lets the runtime's own close errors through",
    leaksRawErrors,
    "writing to a peer that left ends in close(conn, err) with ECONNRESET: connection reset by peer",
    /^a peer that closed \(FIN\), then we wrote: got BrokenPipe "Broken pipe \(os error 32\)" \(code EPIPE\), want ConnError /,
  ],
  [
    "fires drain after end()",
    drainsAfterEnd,
    "after end() no drain fires, and after close() nothing but one close",
    // The faulty drain fires when the queue empties, or at the latest just before the close.
    /^after end\(\): events (data,)?(end,)?drain(,data)?(,end)?,close, want no drain$/,
  ],
  [
    "hands out views pinning large read buffers",
    pinsReadBuffers,
    "data chunks do not pin read buffers much larger than themselves",
    /^a \d+-byte chunk was a view of a \d+-byte buffer \(pins more than \d+ extra bytes\)$/,
  ],
];

for (const [bug, makeFaulty, checkName, violation] of cases) {
  test(`the check "${checkName}" catches an adapter that ${bug}`, async () => {
    const check = checks[checkName];
    expect(check, `no check named "${checkName}"`).toBeDefined();
    await expect(check!({ t: makeFaulty(real), timeoutMs: 5_000 })).rejects.toThrow(violation);
  });
  // The same bug in the in-memory transport is caught too (where the check applies there).
  if (NOT_IN_MEMORY[checkName] !== undefined) continue;
  test(`in memory: the check "${checkName}" catches a transport that ${bug}`, async () => {
    await expect(checks[checkName]!({ t: makeFaulty(memoryTransport()), timeoutMs: 5_000 })).rejects.toThrow(violation);
  });
}
