// The one policy the adapters share for a TLS 1.3 server refusing our client certificate
// after our handshake (src/adapter-kit/tls-client-refusal.ts); the adapters' use of it is
// proven end to end in test/e2e/tls-client-refused.test.ts.
import { expect, test } from "vitest";
import { judgeClientCertRefusal } from "../../src/adapter-kit/tls-client-refusal.ts";
import { ConnError } from "../../src/net-errors.ts";
import type { Conn, ConnHandler } from "../../src/transport.ts";

const conn = {} as Conn;
const mtls = { cert: "CERT", key: "KEY" };

function recorder(): { handler: ConnHandler; closes: (Error | undefined)[]; data: number } {
  const r = {
    closes: [] as (Error | undefined)[],
    data: 0,
    handler: {
      data: () => void r.data++,
      close: (_c: Conn, err?: Error) => void r.closes.push(err),
    } as ConnHandler,
  };
  return r;
}

test("without a client certificate the handler is used as it is", () => {
  const r = recorder();
  expect(judgeClientCertRefusal(r.handler, undefined)).toBe(r.handler);
  expect(judgeClientCertRefusal(r.handler, { ca: "CA" })).toBe(r.handler);
});

test("a reset before any reply byte is the server refusing our certificate", () => {
  const r = recorder();
  judgeClientCertRefusal(r.handler, mtls).close!(conn, new ConnError("ECONNRESET"));
  expect(r.closes.length).toBe(1);
  expect((r.closes[0] as ConnError).code).toBe("ECERTREFUSED");
  expect(r.closes[0]!.message).toBe("tls: the server refused our client certificate, or needed one (ECERTREFUSED)");
});

test("a reset after a reply, a clean close, or another error stays what it was", () => {
  const after = recorder();
  const h = judgeClientCertRefusal(after.handler, mtls);
  h.data(conn, new Uint8Array([1]));
  const reset = new ConnError("ECONNRESET");
  h.close!(conn, reset);
  expect(after.data).toBe(1);
  expect(after.closes).toEqual([reset]);

  const clean = recorder();
  judgeClientCertRefusal(clean.handler, mtls).close!(conn, undefined);
  expect(clean.closes).toEqual([undefined]);

  const other = recorder();
  const timeout = new ConnError("ETIMEDOUT");
  judgeClientCertRefusal(other.handler, mtls).close!(conn, timeout);
  expect(other.closes).toEqual([timeout]);
});

test("only the events the handler has are passed on (adapters act on their presence)", () => {
  const r = recorder();
  const h = judgeClientCertRefusal(r.handler, mtls);
  expect(h.end).toBeUndefined();
  expect(h.drain).toBeUndefined();
  expect(h.open).toBeUndefined();
  const seen: string[] = [];
  const full = judgeClientCertRefusal({
    open: () => void seen.push("open"),
    data: () => void seen.push("data"),
    end: () => void seen.push("end"),
    drain: () => void seen.push("drain"),
  }, mtls);
  full.open!(conn);
  full.data(conn, new Uint8Array(1));
  full.drain!(conn);
  full.end!(conn);
  full.close!(conn);
  expect(seen).toEqual(["open", "data", "drain", "end"]);
});
