// SessionContext.pause()/resume() (issue 9, defect 2): a session's own inbound
// backpressure composes with the core's pause while the write buffer is full; reading
// resumes only when neither wants it paused. Real sockets on this runtime's adapter.
import { expect, test } from "vitest";
import type { Service, SessionContext } from "../../../src/server/service.ts";
import { pattern, waitFor } from "../../support/sockets.ts";
import { openRaw, type Running, serve, text } from "./support.ts";

const WRITE_BUFFER = 64 * 1024;
const PIECE = 256 * 1024;

/**
 * Writes until `ctx.write` says the write buffer is full (the kernel's buffers first take
 * what they can: how much that is depends on the machine). Client and server share this
 * thread, so the client reads nothing meanwhile. Returns false like the last write.
 */
function fill(ctx: SessionContext, sent: { bytes: number }): boolean {
  for (let i = 0; i < 400; i++) {
    sent.bytes += PIECE;
    if (!ctx.write(pattern(PIECE, i))) return false;
  }
  return true;
}

/** A service whose first chunk runs `first`, whose drain runs `onDrain`, and which echoes later input. */
function probe(first: (ctx: SessionContext) => void, onDrain: (ctx: SessionContext) => void): Service {
  return {
    name: "probe",
    open(ctx) {
      let started = false;
      return {
        data(chunk) {
          if (started) return void ctx.write(chunk);
          started = true;
          first(ctx);
        },
        drain: () => onDrain(ctx),
        end: () => ctx.end(),
      };
    },
  };
}

/** Sends "go" (the big reply follows), waits for it and for `settled`, then sends "more": echoed only if reading resumed. */
async function exchange(s: Running, sent: { bytes: number }, settled: () => boolean): Promise<string> {
  const raw = await openRaw(s.addr);
  try {
    raw.conn.write(text("go"));
    await waitFor(() => raw.received().length >= sent.bytes && settled(), "the big reply and the drain").catch((e) => {
      throw new Error(`${e.message}: ${raw.received().length} bytes, ${JSON.stringify(s.readState)}`);
    });
    raw.conn.write(text("more"));
    await waitFor(() => raw.received().length >= sent.bytes + 4, "the echo of input sent after the drain");
    return new TextDecoder().decode(raw.received().subarray(sent.bytes));
  } finally {
    raw.conn.end();
    await raw.closed;
  }
}

test("a session's pause holds reading through the write buffer's drain, until the session resumes", async () => {
  const seen: Record<string, boolean> = {};
  const sent = { bytes: 0 };
  const paused = () => s.readState[0]!.paused;
  const s: Running = await serve(
    probe(
      (ctx) => {
        ctx.pause();
        seen.writeOk = fill(ctx, sent); // the write buffer is full: the core pauses too
        seen.pausedAfterWrite = paused();
      },
      (ctx) => {
        if ("pausedAtDrain" in seen) return;
        seen.pausedAtDrain = paused(); // the core no longer wants it paused; the session still does
        ctx.resume();
        seen.pausedAfterResume = paused();
      },
    ),
    { writeBuffer: WRITE_BUFFER },
  );
  try {
    expect(await exchange(s, sent, () => "pausedAfterResume" in seen)).toBe("more");
    expect(seen).toEqual({ writeOk: false, pausedAfterWrite: true, pausedAtDrain: true, pausedAfterResume: false });
  } finally {
    await s.stop();
  }
});

test("a session's resume does not override the core's pause while the write buffer is full", async () => {
  const seen: Record<string, boolean> = {};
  const sent = { bytes: 0 };
  const paused = () => s.readState[0]!.paused;
  const s: Running = await serve(
    probe(
      (ctx) => {
        seen.writeOk = fill(ctx, sent); // the write buffer is full: the core pauses reading
        ctx.pause();
        ctx.resume();
        seen.pausedAfterSessionResume = paused(); // still paused: the buffer is full
      },
      () => {
        if ("pausedAtDrain" in seen) return;
        seen.pausedAtDrain = paused(); // drained, and the session wants nothing: reading again
      },
    ),
    { writeBuffer: WRITE_BUFFER },
  );
  try {
    expect(await exchange(s, sent, () => "pausedAtDrain" in seen)).toBe("more");
    expect(seen).toEqual({ writeOk: false, pausedAfterSessionResume: true, pausedAtDrain: false });
  } finally {
    await s.stop();
  }
});
