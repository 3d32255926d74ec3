// The pure-TypeScript SHA-256 against the FIPS 180-4 vectors and the runtime's WebCrypto.
import { expect, test } from "vitest";
import { sha256, sha256Hex, toHex } from "../../../src/app/sha256.ts";
import { pattern } from "../../support/sockets.ts";

const enc = new TextEncoder();

test("FIPS 180-4 / NIST test vectors", () => {
  expect(sha256Hex(new Uint8Array(0))).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  expect(sha256Hex(enc.encode("abc"))).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  expect(sha256Hex(enc.encode("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"))).toBe(
    "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
  );
  expect(sha256Hex(new Uint8Array(1_000_000).fill(0x61))).toBe(
    "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0",
  );
});

test("agrees with crypto.subtle.digest at every length around the block and padding edges", async () => {
  for (const n of [1, 54, 55, 56, 57, 63, 64, 65, 119, 120, 127, 128, 129, 1000, 4096, 65537]) {
    const data = pattern(n, n);
    const want = new Uint8Array(await crypto.subtle.digest("SHA-256", data));
    expect(toHex(sha256(data)), `length ${n}`).toBe(toHex(want));
  }
});

test("hashes a subarray view, not its whole buffer", () => {
  const big = pattern(300, 7);
  expect(sha256Hex(big.subarray(100, 200))).toBe(sha256Hex(big.slice(100, 200)));
});
