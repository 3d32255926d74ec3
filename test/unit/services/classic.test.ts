// The classic small services over a real server core: discard (RFC 863), chargen
// (RFC 864, including backpressure), daytime (RFC 867) and time (RFC 868).
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { chargenService } from "../../../src/services/chargen.ts";
import { daytimeService, formatDaytime } from "../../../src/services/daytime.ts";
import { discardService } from "../../../src/services/discard.ts";
import type { Service } from "../../../src/server/service.ts";
import { decodeTime, encodeTime, timeService } from "../../../src/services/time.ts";
import { pattern, sleep, waitFor, withTimeout } from "../../support/sockets.ts";
import { openRaw, type Running, serve, str, talk } from "./support.ts";

/** Line n of the chargen pattern, CR LF included. */
function chargenLine(n: number): string {
  let s = "";
  for (let i = 0; i < 72; i++) s += String.fromCharCode(32 + ((n + i) % 95));
  return s + "\r\n";
}

/** Checks that `bytes` is the chargen stream from its start (whole lines only). */
function checkChargen(bytes: Uint8Array): number {
  const lines = Math.floor(bytes.length / 74);
  const full = str(bytes.subarray(0, 95 * 74));
  for (let n = 0; n < lines; n++) {
    const got = str(bytes.subarray(n * 74, n * 74 + 74));
    if (got !== full.slice((n % 95) * 74, (n % 95) * 74 + 74)) {
      throw new Error(`line ${n} is wrong: ${JSON.stringify(got)}`);
    }
  }
  return lines;
}

/** Wraps a service to count the bytes its sessions hand to ctx.write. */
function counting(service: Service): { service: Service; written: () => number } {
  let written = 0;
  return {
    written: () => written,
    service: {
      name: service.name,
      open: (ctx) =>
        service.open({
          ...ctx,
          write: (b) => {
            written += b.length;
            return ctx.write(b);
          },
          end: () => ctx.end(),
          close: () => ctx.close(),
          fail: (m) => ctx.fail(m),
        }),
    },
  };
}

describe("discard (RFC 863)", () => {
  let s: Running;
  beforeAll(async () => void (s = await serve(discardService)));
  afterAll(() => s.stop());

  test("reads everything, sends nothing, closes after the peer's half-close", async () => {
    const r = await talk(s.addr, [pattern(1 << 20, 3), pattern(1000, 4)]);
    expect(r.error).toBeUndefined();
    expect(r.received.length).toBe(0);
    expect(r.gotEnd).toBe(true);
  });
});

describe("chargen (RFC 864)", () => {
  const c = counting(chargenService);
  let s: Running;
  beforeAll(async () => void (s = await serve(c.service, { writeBuffer: 256 * 1024, drainMs: 5000 })));
  afterAll(() => s.stop());

  test("sends 72-character lines of the rotating 95-character pattern, each ended by CR LF", async () => {
    const r = await talk(s.addr, [], { halfClose: false, closeAfter: 3 * 74 });
    const first = str(r.received.subarray(0, 3 * 74));
    expect(first).toBe(chargenLine(0) + chargenLine(1) + chargenLine(2));
    expect(chargenLine(0).startsWith(` !"#$%&'()*+,-./0123`)).toBe(true);
  });

  test("the pattern continues correctly across writes and wraps after 95 lines", async () => {
    const r = await talk(s.addr, [], { halfClose: false, closeAfter: 400_000 });
    expect(checkChargen(r.received)).toBeGreaterThan(5000);
  });

  test("stops producing while the peer does not read, and resumes when it does", async () => {
    const raw = await openRaw(s.addr);
    raw.conn.pause();
    // Production must level off: the core holds at most its write buffer, the kernel the rest.
    // Levelled off = no growth across 500 ms and 100 polls (each poll is a turn of the event
    // loop, so a stall of the whole process cannot pass for a quiet producer).
    // A producer that never stops fails the wait.
    let last = -1;
    let since = 0;
    let polls = 0;
    await waitFor(
      () => {
        const now = c.written();
        if (now !== last || now === 0) {
          last = now;
          since = Date.now();
          polls = 0;
          return false;
        }
        return ++polls >= 100 && Date.now() - since >= 500;
      },
      "chargen to stop producing (no growth for 500 ms)",
      30_000,
    );
    const stalled = c.written();
    await sleep(300);
    expect(c.written()).toBe(stalled);
    expect(stalled).toBeGreaterThanOrEqual(256 * 1024); // at least the write buffer was filled
    expect(stalled).toBeLessThan(64 * 1024 * 1024);
    raw.conn.resume();
    await waitFor(() => c.written() > stalled + 1024 * 1024, "chargen to resume after the peer reads");
    raw.conn.close("abort");
    await raw.closed;
  });

  test("the peer's half-close stops the stream: we get a FIN", async () => {
    const r = await talk(s.addr, []);
    expect(r.gotEnd).toBe(true);
    checkChargen(r.received);
  });

  test("a graceful shutdown ends a busy chargen connection without waiting for the drain bound", async () => {
    const s2 = await serve(chargenService, { drainMs: 5000 });
    const raw = await openRaw(s2.addr);
    await waitFor(() => raw.received().length > 100_000, "chargen data");
    await s2.stop();
    await withTimeout(raw.closed, 5000, "client close");
    expect(s2.server.counters.get("drain-timeout")).toBe(0);
    expect(raw.ended()).toBe(true);
    checkChargen(raw.received());
  });
});

describe("daytime (RFC 867)", () => {
  test("formats the RFC's suggested syntax, in UTC", () => {
    expect(formatDaytime(new Date(Date.UTC(1982, 1, 22, 17, 37, 43)))).toBe(
      "Monday, February 22, 1982 17:37:43-UTC\r\n",
    );
    expect(formatDaytime(new Date(Date.UTC(2024, 0, 5, 3, 4, 5)))).toBe("Friday, January 5, 2024 03:04:05-UTC\r\n");
  });

  test("sends one line of the time, then closes", async () => {
    const s = await serve(daytimeService(() => new Date(Date.UTC(2000, 0, 1, 0, 0, 0))));
    try {
      const r = await talk(s.addr, [], { halfClose: false });
      expect(str(r.received)).toBe("Saturday, January 1, 2000 00:00:00-UTC\r\n");
      expect(r.gotEnd).toBe(true);
      // The real clock, and input from the peer is ignored.
      const s2 = await serve(daytimeService());
      const r2 = await talk(s2.addr, [new TextEncoder().encode("hello\n")], { halfClose: false });
      await s2.stop();
      expect(str(r2.received)).toMatch(/^[A-Z][a-z]+day, [A-Z][a-z]+ \d{1,2}, \d{4} \d\d:\d\d:\d\d-UTC\r\n$/);
      expect(str(r2.received)).toContain(String(new Date().getUTCFullYear()));
    } finally {
      await s.stop();
    }
  });
});

describe("time (RFC 868)", () => {
  test("encodes seconds since 1900 as 4 big-endian bytes", () => {
    expect([...encodeTime(0)]).toEqual([0x83, 0xaa, 0x7e, 0x80]); // 2208988800
    expect([...encodeTime(Date.UTC(1900, 0, 1) + 0)]).toEqual([0, 0, 0, 0]);
    expect([...encodeTime(Date.UTC(2036, 1, 7, 6, 28, 16))]).toEqual([0, 0, 0, 0]); // the 2^32 wrap
    expect(decodeTime(encodeTime(1_700_000_000_999))).toBe(1_700_000_000_000);
  });

  test("sends 4 bytes, then closes", async () => {
    const s = await serve(timeService());
    try {
      const r = await talk(s.addr, [], { halfClose: false });
      expect(r.received.length).toBe(4);
      expect(r.gotEnd).toBe(true);
      expect(Math.abs(decodeTime(r.received) - Date.now())).toBeLessThan(5000);
    } finally {
      await s.stop();
    }
  });
});
