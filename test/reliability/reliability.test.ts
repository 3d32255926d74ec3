// The reliability suite: every attack against a real server process on each runtime,
// each paired with a run against a server that has that one protection switched off,
// where the harm must show. One file, so the scenarios run one after another (CPU
// and latency figures from two attacks at once would mean nothing on 2 cores).
//
//   npx tsc -p tsconfig.build.json && SB_SCOPE=driver npx vitest run test/reliability
//   SB_RUNTIMES=node,deno ...   restricts the runtimes (default: all three)
import { afterEach, describe, test } from "vitest";
import { CLI_RUNTIMES, type CliRuntime } from "../support/cli.ts";
import { cleanUpAfterTest } from "../support/reliability/server.ts";
import { drainHardStop, drainLosesNoReply, drainWithoutBoundHangs } from "./scenarios/drain.ts";
import { fdLimitIgnoredHitsEmfile, fdLimitRespected } from "./scenarios/fd-exhaustion.ts";
import {
  floodIsBoundedAndCut,
  floodWithoutCapGrowsMemory,
  floodWithoutWriteTimeoutStaysOpen,
} from "./scenarios/flood.ts";
import { garbageIsRejectedPromptly, garbageWithoutFrameLimitIsBuffered } from "./scenarios/garbage.ts";
import { halfCloseEdgeCases, lingerOffHoldsFinlessPeer } from "./scenarios/half-close.ts";
import { idleClosesSilentConnections, idleOffLeavesThemOpen } from "./scenarios/idle.ts";
import { cyclesLeaveNothingBehind } from "./scenarios/leak.ts";
import {
  globalCapOffLetsThemPastIt,
  limitsHoldExactly,
  perSourceCapOffLetsOneSourceHoard,
  rateLimitOff,
  rateLimitPerSource,
} from "./scenarios/limits.ts";
import {
  leakCheckCatchesServerThatNeverCloses,
  resetStormKillsServerWithoutErrorHandling,
} from "./scenarios/naive-server.ts";
import { resetStormLeavesNoTrace } from "./scenarios/reset-storm.ts";
import { slowReadersAreCut, slowReadersWithoutWriteTimeoutStay } from "./scenarios/slow-reader.ts";
import {
  pipeliningIsNotCutByFrameDeadline,
  slowlorisIsCutAtFrameDeadline,
  slowlorisWithoutFrameDeadlineStaysOpen,
} from "./scenarios/slowloris.ts";

/** The runtimes SB_RUNTIMES names (all when unset); an unknown name is an error, not a silent skip. */
function selectedRuntimes(env: string | undefined): readonly CliRuntime[] {
  if (env === undefined) return CLI_RUNTIMES;
  const names = env.split(",").map((s) => s.trim());
  const unknown = names.filter((n) => !(CLI_RUNTIMES as readonly string[]).includes(n));
  if (unknown.length) {
    throw new Error(
      `SB_RUNTIMES=${JSON.stringify(env)}: unknown runtime ${
        unknown.map((n) => JSON.stringify(n)).join(", ")
      }; known: ${CLI_RUNTIMES.join(", ")}`,
    );
  }
  return CLI_RUNTIMES.filter((r) => names.includes(r));
}
const runtimes = selectedRuntimes(process.env.SB_RUNTIMES);

/** A line-framed echo: the frame deadline and max-frame apply to it. */
const LINE_ECHO = ["--service", "echo", "--framing", "line"];

// Probes, crowds and timers a failed test left behind, then its servers.
afterEach(cleanUpAfterTest);

describe.each(runtimes)("reliability on %s", (rt: CliRuntime) => {
  describe("slowloris", () => {
    test("1,000 trickling connections are cut at the frame deadline; the probe is served", () =>
      slowlorisIsCutAtFrameDeadline(rt, LINE_ECHO));
    test("harm shows with --frame-timeout 0", () => slowlorisWithoutFrameDeadlineStaysOpen(rt, LINE_ECHO));
    // Every read may end mid-frame while frames keep completing: sessions report
    // framesDone() and each completed frame restarts the frame clock.
    test("a client pipelining frames split mid-frame is not cut", () =>
      pipeliningIsNotCutByFrameDeadline(rt, LINE_ECHO));
  });
  describe("idle", () => {
    test("silent connections are closed at the idle timeout; fds return to baseline", () =>
      idleClosesSilentConnections(rt));
    test("harm shows with --idle-timeout 0", () => idleOffLeavesThemOpen(rt));
  });
  describe("never-reading flooder", () => {
    test("memory stays bounded, the peer is cut at the write-stall deadline, the probe is unaffected", () =>
      floodIsBoundedAndCut(rt));
    test("harm shows with --write-timeout 0", () => floodWithoutWriteTimeoutStaysOpen(rt));
    test("harm shows with a 1 GiB write buffer", () => floodWithoutCapGrowsMemory(rt));
  });
  describe("slow reader (slow-read attack)", () => {
    test("peers reading a little at a time are cut once a queued byte has waited the write timeout", () =>
      slowReadersAreCut(rt));
    test("harm shows with --write-timeout 0", () => slowReadersWithoutWriteTimeoutStay(rt));
  });
  describe("reset storm", () => {
    test("thousands of resets: no crash, no error, no leak", () => resetStormLeavesNoTrace(rt, LINE_ECHO), 120_000);
  });
  describe("half-close", () => {
    test("request+FIN, bare FIN, FIN-less peer after our FIN; no CLOSE_WAIT", () => halfCloseEdgeCases(rt, LINE_ECHO));
    test("harm shows with --linger-timeout 0", () => lingerOffHoldsFinlessPeer(rt, LINE_ECHO));
  });
  describe("connection limits", () => {
    test("global and per-source caps hold exactly; another source is served", () => limitsHoldExactly(rt));
    test("harm shows with --max-conns-per-ip 0", () => perSourceCapOffLetsOneSourceHoard(rt));
    test("harm shows with a huge --max-conns", () => globalCapOffLetsThemPastIt(rt));
    test("new connections per second per source are limited", () => rateLimitPerSource(rt));
    test("harm shows with --max-rate-per-ip 0", () => rateLimitOff(rt));
  });
  describe("file-descriptor exhaustion", () => {
    test("under prlimit --nofile=64: no crash, no busy loop, recovery", () => fdLimitRespected(rt));
    test("harm shows with a huge --max-conns (EMFILE), still no spin", () => fdLimitIgnoredHitsEmfile(rt));
  });
  describe("garbage and oversize input", () => {
    test("2^31 length prefix, 10 MB of noise, an endless line: rejected promptly, bounded memory", () =>
      garbageIsRejectedPromptly(rt));
    test("harm shows with --max-frame 1GiB", () => garbageWithoutFrameLimitIsBuffered(rt));
  });
  describe("graceful drain", () => {
    test("SIGTERM under load: no reply lost, new connections refused, exit 0 within the bound", () =>
      drainLosesNoReply(rt, LINE_ECHO));
    test("a frame that never finishes is cut at the bound; exit 0 as PID 1", () => drainHardStop(rt, LINE_ECHO));
    test("harm shows with --drain-timeout 0 (a second signal still ends it)", () =>
      drainWithoutBoundHangs(rt, LINE_ECHO));
  });
  describe("leak check", () => {
    test("thousands of connect/echo/close cycles: fds, sockets, RSS back to baseline", () =>
      cyclesLeaveNothingBehind(rt));
  });
});

// The reset storm and the leak check have no knob to switch off: they guard against bugs.
// They show they can fail against a naive Node echo server with that bug (run once).
describe.runIf(runtimes.includes("node"))("the bug-guarding checks can fail", () => {
  test("reset storm: a server without socket error handling dies", () => resetStormKillsServerWithoutErrorHandling());
  test("leak check: a server that never closes after the peer's FIN piles up descriptors", () =>
    leakCheckCatchesServerThatNeverCloses());
});
