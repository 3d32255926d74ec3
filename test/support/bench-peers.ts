// Purpose-built servers for the load generator's tests (node:net, in the test process):
// an echo that corrupts one byte, one that answers late, one that stalls once, one that
// never answers. Each is small enough to see that it does exactly what its name says.
import type * as net from "node:net";
import { type Peer, peer } from "./misbehaving-peers.ts";

/** Echoes every byte, except the one at `offset` (counted over each connection), which it flips. */
export const corruptingEchoPeer = (offset: number): Promise<Peer> =>
  peer((s: net.Socket) => {
    let seen = 0;
    s.on("data", (d: Buffer) => {
      if (offset >= seen && offset < seen + d.length) {
        d = Buffer.from(d);
        d[offset - seen] ^= 0x01;
      }
      seen += d.length;
      s.write(d);
    });
    s.on("end", () => s.end());
  });

/**
 * Run `fn` once at least `until` (performance.now() time) has come. Timers may fire a little
 * early against the monotonic clock (the event loop's cached time), so re-arm until it has.
 */
function at(until: number, fn: () => void): void {
  const left = until - performance.now();
  if (left <= 0) fn();
  else setTimeout(() => at(until, fn), Math.ceil(left));
}

/** Echoes every chunk at least `delayMs` after it arrived (in order): a slow server. */
export const slowEchoPeer = (delayMs: number): Promise<Peer> =>
  peer((s: net.Socket) => {
    s.on("data", (d: Buffer) => at(performance.now() + delayMs, () => !s.destroyed && s.write(d)));
    s.on("end", () => at(performance.now() + delayMs, () => s.end()));
  });

/**
 * Echoes at once, but holds the reply to the `nth` chunk (and everything after it) for
 * `stallMs`: one stall, as a garbage-collection pause or a blocked event loop would make.
 */
export const stallingEchoPeer = (nth: number, stallMs: number): Promise<Peer> =>
  peer((s: net.Socket) => {
    let chunks = 0;
    let heldUntil = 0;
    s.on("data", (d: Buffer) => {
      chunks++;
      if (chunks === nth) heldUntil = performance.now() + stallMs;
      if (heldUntil > performance.now()) at(heldUntil, () => !s.destroyed && s.write(d));
      else s.write(d);
    });
    s.on("end", () => s.end());
  });
