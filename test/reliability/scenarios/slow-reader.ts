// Slow-read attack: peers that keep the echo server's replies queued and read them a
// little at a time (a small receive window, 4 KiB every 100 ms). Progress is not
// enough: the write-timeout clock is the age of the oldest byte queued for the peer,
// so they are cut once a byte has waited --write-timeout. The probe is unaffected.
// Off switch: --write-timeout 0 (they hold their buffers and slots for as long as they like).
// The attacker is test/python/slow_reader.py: Python can set SO_RCVBUF before connect.
import { expect } from "vitest";
import { runPython } from "../../python/peers.ts";
import type { CliRuntime } from "../../support/cli.ts";
import { formatProbe, Probe } from "../../support/reliability/probe.ts";
import { measure, spread } from "../../support/reliability/report.ts";
import { launch, stopServer } from "../../support/reliability/server.ts";

const CONNS = 8;
const WRITE_MS = 2000;
/** How long the attackers keep going at most (the off-switch run watches this long). */
const ATTACK_S = 6;
const ATTACK = ["--conns", `${CONNS}`, "--rcvbuf", "8192", "--chunk", "4096", "--every", "0.1"];

interface SlowReadResult {
  conns: number;
  closed: number;
  closed_after_ms: (number | null)[];
  received: number[];
}

async function attack(host: string, port: number, seconds: number): Promise<SlowReadResult> {
  const r = await runPython(
    "slow_reader.py",
    [host, String(port), ...ATTACK, "--for", String(seconds)],
    (seconds + 20) * 1000,
  );
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as SlowReadResult;
}

export async function slowReadersAreCut(rt: CliRuntime): Promise<void> {
  const s = await launch(rt, ["--write-timeout", `${WRITE_MS}ms`]);
  const probe = new Probe(s.host, s.port).start();
  const r = await attack(s.host, s.port, ATTACK_S + 12);
  const report = await probe.stop();
  const cutAt = spread(r.closed_after_ms.map((ms) => ms ?? Infinity));
  measure(rt, "slow-reader", {
    conns: CONNS,
    write_timeout_ms: WRITE_MS,
    closed: r.closed,
    cut_p50_ms: cutAt.p50,
    cut_max_ms: cutAt.max,
    kib_read_each_p50: spread(r.received).p50 / 1024,
    probe: formatProbe(report),
  });
  expect(r.closed, "every slow reader was cut").toBe(CONNS);
  // No byte can have waited the timeout before the connection existed.
  const earliest = Math.min(...r.closed_after_ms.map((ms) => ms ?? Infinity));
  expect(earliest, "not before the write timeout").toBeGreaterThanOrEqual(WRITE_MS - 50);
  expect(r.received.every((n) => n > 0), "they did read (progress), just too slowly").toBe(true);
  expect(await s.waitPolicy("write-timeout", CONNS)).toBe(CONNS);
  expect(report.failed, formatProbe(report)).toBe(0);
  expect(s.crashSigns()).toEqual([]);
  expect((await stopServer(s)).code).toBe(0);
}

/** --write-timeout 0: the slow readers keep their connections (and queued replies). */
export async function slowReadersWithoutWriteTimeoutStay(rt: CliRuntime): Promise<void> {
  const s = await launch(rt, ["--write-timeout", "0"]);
  const r = await attack(s.host, s.port, ATTACK_S);
  measure(rt, "slow-reader-write-timeout-off", { conns: CONNS, watched_s: ATTACK_S, closed: r.closed });
  expect(r.closed, "nobody cut them").toBe(0);
  expect(r.received.every((n) => n > 0)).toBe(true);
  expect((await stopServer(s)).code).toBe(0);
}
