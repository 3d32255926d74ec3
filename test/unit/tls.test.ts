// The runtime-free parts of TLS: the handshake deadline's rule and the tidying of TLS
// libraries' messages (the adapters' behaviour is in test/conformance/conformance-tls.test.ts
// and test/e2e/tls*.test.ts).
import { expect, test } from "vitest";
import { handshakeOverdue } from "../../src/server/handshake-deadline.ts";
import { tlsDetail } from "../../src/tls.ts";
import type { Conn } from "../../src/transport.ts";

const conn = (tls: Conn["tls"]) => ({ tls }) as Conn;

test("a handshake is overdue only on a TLS connection, unfinished, past the deadline, with the deadline on", () => {
  expect(handshakeOverdue(conn(undefined), 0, 20_000, 10_000)).toBe(false); // plain TCP
  expect(handshakeOverdue(conn({ established: true }), 0, 20_000, 10_000)).toBe(false);
  expect(handshakeOverdue(conn({ established: false }), 0, 10_000, 10_000)).toBe(false); // at, not past
  expect(handshakeOverdue(conn({ established: false }), 0, 10_001, 10_000)).toBe(true);
  expect(handshakeOverdue(conn({ established: false }), 0, 10_001, 0)).toBe(false); // 0 disables
});

test("TLS library messages are cut to their reason, on one bounded line", () => {
  expect(
    tlsDetail("C0F7:error:0A00010B:SSL routines:ssl3_get_record:wrong version number:../ssl/record/ssl3_record.c:354:"),
  )
    .toBe("wrong version number");
  expect(tlsDetail("error:0A000102:SSL routines::unsupported protocol")).toBe("unsupported protocol");
  expect(tlsDetail("received corrupt message of type InvalidContentType")).toBe(
    "received corrupt message of type InvalidContentType",
  );
  expect(tlsDetail("x\ny")).toBe("x y");
  expect(tlsDetail("a".repeat(500))!.length).toBe(160);
  expect(tlsDetail(undefined)).toBeUndefined();
});
