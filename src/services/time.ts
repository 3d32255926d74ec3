// RFC 868 time: on connect, send the time as a 32-bit big-endian count of seconds since
// 1900-01-01T00:00:00Z, then close. The count wraps in 2036 (the RFC's own limit);
// we send it modulo 2^32, which is what RFC 868 clients since then expect.

import type { Service } from "../server/service.ts";

/** Seconds from 1900-01-01 to 1970-01-01 (the Unix epoch). */
export const EPOCH_1900_OFFSET = 2_208_988_800;

export function encodeTime(unixMs: number): Uint8Array {
  const seconds = (Math.floor(unixMs / 1000) + EPOCH_1900_OFFSET) % 0x1_0000_0000;
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, seconds);
  return out;
}

/** Seconds since 1900 from 4 received bytes, as a Unix time in ms (before the 2036 wrap). */
export function decodeTime(bytes: Uint8Array): number {
  const seconds = new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0);
  return (seconds - EPOCH_1900_OFFSET) * 1000;
}

/** `now` (Unix ms) is injectable for tests. */
export function timeService(now: () => number = () => Date.now()): Service {
  return {
    name: "time",
    open(ctx) {
      ctx.write(encodeTime(now()));
      ctx.close();
      return { data: () => {}, end: () => {} };
    },
  };
}
