// A TLS 1.3 server judges a client certificate only after the client's handshake is done:
// the client's connect() has succeeded already, and the refusal arrives later as an alert
// (reported as ECERTREFUSED by every adapter) or as a bare reset (the Node and Bun adapters
// verify in their own code after the handshake and cannot send an alert then). One policy for all
// three adapters: a client that presented a certificate and whose connection is reset before
// a single byte came back was refused, and says so in the same words as the alert case.

import type { ConnHandler } from "../transport.ts";
import { ConnError } from "../net-errors.ts";
import type { TlsClientOptions } from "../tls.ts";

/**
 * The handler a TLS client connection should use: `handler` itself without a client
 * certificate; with one, a wrapper that turns a reset before any reply byte into
 * ECERTREFUSED. Only the events `handler` has are forwarded (adapters act on their presence).
 */
export function judgeClientCertRefusal(handler: ConnHandler, tls: TlsClientOptions | undefined): ConnHandler {
  if (tls?.cert === undefined) return handler;
  let replied = false;
  const wrapped: ConnHandler = {
    data: (c, chunk) => {
      replied = true;
      handler.data(c, chunk);
    },
    close: (c, err) => {
      const refused = !replied && err instanceof ConnError && err.code === "ECONNRESET";
      handler.close?.(c, refused ? new ConnError("ECERTREFUSED") : err);
    },
  };
  if (handler.open) wrapped.open = (c) => handler.open!(c);
  if (handler.end) wrapped.end = (c) => handler.end!(c);
  if (handler.drain) wrapped.drain = (c) => handler.drain!(c);
  return wrapped;
}
