// Garbage and oversize input: a length prefix of 2^31 (lp:u32), 10 MB of random bytes,
// an endless line. Each is rejected promptly (the server sends its FIN at once) and the
// server's memory does not grow with what the client sends. (After its FIN the server
// reads and discards until the client's FIN, so that closing does not reset the
// connection under the error reply; a client that keeps streaming is cut after a small
// discard budget rather than read at full speed until the linger deadline.)
// Off switch: --max-frame 1GiB (the endless line is buffered, the huge prefix awaited).
import * as net from "node:net";
import { expect } from "vitest";
import type { CliRuntime } from "../../support/cli.ts";
import { pattern } from "../../support/sockets.ts";
import { pump } from "../../support/reliability/clients.ts";
import { measure, MiB } from "../../support/reliability/report.ts";
import { formatProbe, Probe } from "../../support/reliability/probe.ts";
import { launch, type Sb, settle, stopServer } from "../../support/reliability/server.ts";

const TEN_MB = 10 * 1000 * 1000;
/** The endless line: long enough that buffering it would stand out from read-buffer churn. */
const ENDLESS = 40 * MiB;
/** How long each attack is watched for the server's rejection. */
const WATCH_MS = 1000;
/** With the limit off, how long the endless line may take to be sent in full (a bound, not a figure). */
const SEND_ALL_MS = 30_000;

interface Outcome {
  /** ms from connect until the server's FIN (or reset); undefined if it never came within the watch. */
  rejectedAfterMs?: number;
  /** Bytes we managed to send before being rejected (or in all). */
  sent: number;
  rssGrowth: number;
}

/**
 * Send `head` then up to `total` bytes of `body` (with backpressure) and watch for the server's rejection
 * for `watchMs`. With `untilSentMs`, the watch also lasts until every byte is handed to the kernel (at most
 * that long): an off-switch run must show the server taking all of it, however slow a loaded machine is.
 */
async function attack(
  s: Sb,
  head: Uint8Array,
  body: Uint8Array,
  total: number,
  watchMs: number,
  untilSentMs = 0,
): Promise<Outcome> {
  const base = await settle(s.rss, 3);
  let peak = base;
  const sampler = setInterval(() => {
    try {
      peak = Math.max(peak, s.rss());
    } catch {
      // exited
    }
  }, 50);
  const outcome = await new Promise<Outcome>((resolve) => {
    const t0 = Date.now();
    let rejectedAfterMs: number | undefined;
    const socket = net.connect({ host: s.host, port: s.port, allowHalfOpen: true });
    socket.on("data", () => {});
    const rejected = () => (rejectedAfterMs ??= Date.now() - t0);
    socket.on("end", rejected);
    socket.on("error", rejected);
    let pumped = false;
    socket.on("connect", () => {
      socket.write(head);
      void pump(socket, total, body).then(() => (pumped = true));
    });
    const finish = () => {
      socket.destroy();
      resolve({ rejectedAfterMs, sent: socket.bytesWritten, rssGrowth: 0 });
    };
    const check = () => {
      const waited = Date.now() - t0;
      const sentAll = pumped && socket.writableLength === 0;
      if (waited >= watchMs && (sentAll || rejectedAfterMs !== undefined || waited >= untilSentMs)) finish();
      else setTimeout(check, 50);
    };
    setTimeout(check, watchMs);
  });
  clearInterval(sampler);
  return { ...outcome, rssGrowth: peak - base };
}

const u32 = (n: number) => new Uint8Array([n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255]);
const noNewline = new Uint8Array(64 * 1024).fill(0x61);
/** Random-looking bytes whose first four (as a u32 length) exceed 1 MiB. */
const noise = pattern(64 * 1024, 7);

function figures(o: Outcome): Record<string, string | number> {
  return { rejected_after_ms: o.rejectedAfterMs ?? "never", sent_mib: o.sent / MiB, rss_growth_mib: o.rssGrowth / MiB };
}

export async function garbageIsRejectedPromptly(rt: CliRuntime): Promise<void> {
  const lp = await launch(rt, ["--service", "echo", "--framing", "lp:u32", "--max-frame", "1MiB"], {
    lineProbe: false,
  });
  const lpProbe = new Probe(lp.host, lp.port, { framing: "lp:u32" }).start();
  const hugePrefix = await attack(lp, u32(2 ** 31), new Uint8Array(1024), 1024, WATCH_MS);
  const random = await attack(lp, new Uint8Array(0), noise, TEN_MB, WATCH_MS);
  const lpReport = await lpProbe.stop();
  const line = await launch(rt, ["--service", "echo", "--framing", "line", "--max-frame", "64KiB"]);
  const probe = new Probe(line.host, line.port).start();
  const endless = await attack(line, new Uint8Array(0), noNewline, ENDLESS, WATCH_MS);
  const report = await probe.stop();
  measure(rt, "garbage-prefix-2^31", figures(hugePrefix));
  measure(rt, "garbage-random-10MB", { ...figures(random), probe: formatProbe(lpReport) });
  measure(rt, "garbage-endless-line", { ...figures(endless), probe: formatProbe(report) });

  for (
    const [what, o] of [["2^31 length prefix", hugePrefix], ["10 MB of random bytes", random], [
      "endless line",
      endless,
    ]] as const
  ) {
    expect(o.rejectedAfterMs, `${what}: rejected`).toBeDefined();
    expect(o.rejectedAfterMs!, `${what}: rejected promptly`).toBeLessThan(1000);
    expect(o.rssGrowth, `${what}: server memory bounded`).toBeLessThan(16 * MiB);
  }
  expect(report.failed, formatProbe(report)).toBe(0);
  expect(lpReport.ok, "the lp:u32 probe did run").toBeGreaterThan(0);
  expect(lpReport.failed, formatProbe(lpReport)).toBe(0);
  expect(await lp.waitPolicy("protocol-error", 2)).toBe(2);
  expect(await line.waitPolicy("protocol-error", 1)).toBe(1);
  for (const s of [lp, line]) {
    expect(s.crashSigns()).toEqual([]);
    expect((await stopServer(s)).code).toBe(0);
  }
}

/** With a 1 GiB max frame the endless line is buffered (memory grows) and not rejected. */
export async function garbageWithoutFrameLimitIsBuffered(rt: CliRuntime): Promise<void> {
  // No frame deadline either: on a slow machine sending the line may take past its default 10 s.
  const line = await launch(rt, [
    "--service",
    "echo",
    "--framing",
    "line",
    "--max-frame",
    "1GiB",
    "--frame-timeout",
    "0",
  ]);
  const endless = await attack(line, new Uint8Array(0), noNewline, ENDLESS, WATCH_MS, SEND_ALL_MS);
  const lp = await launch(rt, ["--service", "echo", "--framing", "lp:u32", "--max-frame", "4GiB"], {
    lineProbe: false,
  });
  const hugePrefix = await attack(lp, u32(2 ** 31), new Uint8Array(1024), 1024, WATCH_MS);
  measure(rt, "garbage-endless-line-max-frame-off", figures(endless));
  measure(rt, "garbage-prefix-2^31-max-frame-off", figures(hugePrefix));
  expect(endless.rejectedAfterMs, "the endless line was not rejected").toBeUndefined();
  expect(endless.sent).toBe(ENDLESS);
  expect(endless.rssGrowth, "memory grew with the line").toBeGreaterThan(ENDLESS / 2);
  expect(hugePrefix.rejectedAfterMs, "the 2 GiB frame is awaited").toBeUndefined();
  for (const s of [lp, line]) expect((await stopServer(s)).code).toBe(0);
}
