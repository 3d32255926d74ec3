// The contract's error vocabulary (src/net-errors.ts): one code and one sentence per
// failure, whatever the runtime called it. The adapters' mapping of real failures is
// tested in test/conformance/checks-error-voice.ts; this pins the table and the forms.
import { expect, test } from "vitest";
import { ConnectError, ConnError, ListenError, NET_ERROR_CODES, netCode, NetError } from "../../src/net-errors.ts";

test("every code has its own sentence, and the messages have the documented forms", () => {
  const sentences = NET_ERROR_CODES.map((c) => new ConnError(c).message);
  expect(new Set(sentences).size).toBe(NET_ERROR_CODES.length);
  for (const [i, code] of NET_ERROR_CODES.entries()) {
    // TLS failures start "tls: " and may name the CA or TLS itself.
    expect(sentences[i]).toMatch(new RegExp(`^(tls: )?[a-z][a-zA-Z ,:]+ \\(${code}\\)$`));
  }

  const tcp = { transport: "tcp" as const, hostname: "::1", port: 7 };
  const refused = new ConnectError(tcp, "ECONNREFUSED", "connect ECONNREFUSED ::1:7");
  expect([refused.name, refused.code, refused.message, refused.reason]).toEqual([
    "ConnectError",
    "ECONNREFUSED",
    "cannot connect to [::1]:7: connection refused (ECONNREFUSED)", // the runtime's words are dropped
    "connection refused (ECONNREFUSED)",
  ]);
  expect(refused).toBeInstanceOf(NetError);
  const missing = new ListenError({ transport: "unix", path: "/no/dir/s.sock" }, "ENOENT");
  expect(missing.message).toBe("cannot listen on unix:/no/dir/s.sock: no such file or directory (ENOENT)");
  expect(new ConnectError(tcp, "ETIMEDOUT", "timed out after 250 ms").message).toBe(
    "cannot connect to [::1]:7: timed out after 250 ms (ETIMEDOUT)",
  );
  // Only an error nobody could map keeps the runtime's words, as the one clue there is.
  expect(new ConnError("EUNKNOWN", "Something odd (os error 71)").message).toBe(
    "unexpected error: Something odd (os error 71) (EUNKNOWN)",
  );
});

test("OS error names map onto the closed set: EPIPE and ENOTCONN are ECONNRESET, the rest EUNKNOWN", () => {
  expect(netCode("EPIPE")).toBe("ECONNRESET");
  expect(netCode("ENOTCONN")).toBe("ECONNRESET");
  expect(netCode("ECONNRESET")).toBe("ECONNRESET");
  expect(netCode("EADDRINUSE")).toBe("EADDRINUSE");
  for (const code of NET_ERROR_CODES) expect(netCode(code)).toBe(code);
  expect(netCode("EPROTO")).toBe("EUNKNOWN");
  expect(netCode(undefined)).toBe("EUNKNOWN");
  expect(netCode("toString")).toBe("EUNKNOWN"); // not fooled by Object.prototype
});

test("a hint (a missing Deno permission) follows the sentence, which stays the same", () => {
  const addr = { transport: "tcp", hostname: "127.0.0.1", port: 1 } as const;
  expect(new ConnectError(addr, "EACCES", "raw", "run deno with --allow-net").message).toBe(
    "cannot connect to 127.0.0.1:1: permission denied (EACCES); run deno with --allow-net",
  );
  expect(new ListenError(addr, "EACCES", undefined, "run deno with --allow-net").reason).toBe(
    "permission denied (EACCES); run deno with --allow-net",
  );
  expect(new ConnectError(addr, "EACCES").message).toBe("cannot connect to 127.0.0.1:1: permission denied (EACCES)");
});

test("a TLS verification failure names what was verified and why, in one line", () => {
  const addr = { transport: "tcp" as const, hostname: "127.0.0.1", port: 4433 };
  expect(new ConnectError(addr, "ECERTUNTRUSTED", "127.0.0.1").message).toBe(
    "cannot connect to 127.0.0.1:4433: tls: certificate for 127.0.0.1 is not trusted: unknown CA (ECERTUNTRUSTED)",
  );
  expect(new ConnectError(addr, "ECERTNAME", "example.test").reason).toBe(
    "tls: certificate is not valid for example.test: wrong name (ECERTNAME)",
  );
  expect(new ConnectError(addr, "ECERTEXPIRED", "localhost").reason).toBe(
    "tls: certificate for localhost has expired (ECERTEXPIRED)",
  );
});
