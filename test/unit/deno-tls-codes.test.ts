// rustls's words (what Deno's TLS errors say) as the contract's codes: the mapping is pure,
// so it is checked on every runtime; the Deno adapter's use of it is proven end to end in
// test/e2e/tls*.test.ts.
import { expect, test } from "vitest";
import { denoTlsCode } from "../../adapters/deno/tls.ts";

test("a TCP close without close_notify reads as a reset, on either side (which one a cut peer shows is a race)", () => {
  const truncated = new Error(
    "peer closed connection without sending TLS close_notify: " +
      "https://docs.rs/rustls/latest/rustls/manual/_03_howto/index.html#unexpected-eof",
  );
  truncated.name = "UnexpectedEof";
  expect(denoTlsCode(truncated, true)).toBe("ECONNRESET");
  expect(denoTlsCode(truncated, false)).toBe("ECONNRESET");
});

test("certificate failures and alerts keep their codes", () => {
  expect(denoTlsCode(new Error("invalid peer certificate: UnknownIssuer"), true)).toBe("ECERTUNTRUSTED");
  expect(denoTlsCode(new Error("invalid peer certificate: Expired"), true)).toBe("ECERTEXPIRED");
  expect(denoTlsCode(new Error("received fatal alert: CertificateRequired"), true)).toBe("ECERTREFUSED");
  expect(denoTlsCode(new Error("received fatal alert: CertificateRequired"), false)).toBe("ETLS");
});
