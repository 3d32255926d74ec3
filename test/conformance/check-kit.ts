// The toolkit the conformance checks are written with: the check signature, assertions,
// and servers that live for one check.
import type { Addr, Transport } from "../../src/transport.ts";
import { exchange, LOOPBACK, sameBytes, startEchoServer, waitFor, withTimeout } from "../support/sockets.ts";

export interface CheckContext {
  t: Transport;
  /** Upper bound for any one wait inside a check. */
  timeoutMs: number;
}
export type Check = (ctx: CheckContext) => Promise<void>;

export function assert(cond: unknown, message: string): asserts cond {
  if (!cond) throw new Error(message);
}

export function describeMismatch(got: Uint8Array, want: Uint8Array): string {
  let i = 0;
  while (i < got.length && i < want.length && got[i] === want[i]) i++;
  return `received ${got.length} of ${want.length} bytes; first difference at byte ${i}`;
}

export async function echoRoundTrip(ctx: CheckContext, addr: Addr, payload: Uint8Array, writeSize?: number) {
  const r = await withTimeout(
    exchange(ctx.t, addr, payload, { writeSize }),
    ctx.timeoutMs,
    `echo of ${payload.length} bytes`,
  );
  assert(!r.error, `echo of ${payload.length} bytes ended with error: ${r.error?.message}`);
  assert(sameBytes(r.received, payload), `echo of ${payload.length} bytes: ${describeMismatch(r.received, payload)}`);
  assert(r.gotEnd, "the server's FIN did not arrive after the echo");
}

export async function withEchoServer(ctx: CheckContext, addr: Addr, body: (addr: Addr) => Promise<void>) {
  const { listener, stats } = await startEchoServer(ctx.t, addr);
  try {
    assert(listener.addr.transport !== "tcp" || listener.addr.port > 0, "listener did not report its port");
    await body(listener.addr);
    await waitFor(() => stats.closed === stats.opened, "server connections to close", ctx.timeoutMs);
  } finally {
    await listener.close();
  }
}

/** A listener whose handler is given per test, closed afterwards. */
export async function withServer(
  ctx: CheckContext,
  handler: Parameters<Transport["listen"]>[1],
  body: (addr: Addr) => Promise<void>,
) {
  const listener = await ctx.t.listen({ addr: LOOPBACK }, handler);
  try {
    await body(listener.addr);
  } finally {
    await listener.close();
  }
}
