// AppClient: pipelined requests matched to replies in order; failures reject.
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { AppClient, AppClientError } from "../../../src/app/client.ts";
import { binaryMessage, decodeJson, jsonMessage } from "../../../src/app/content.ts";
import { parseSummary } from "../../../src/app/binary-summary.ts";
import { sha256Hex } from "../../../src/app/sha256.ts";
import { appService } from "../../../src/services/app.ts";
import { daytimeService } from "../../../src/services/daytime.ts";
import { discardService } from "../../../src/services/discard.ts";
import { pattern, withTimeout } from "../../support/sockets.ts";
import { type Running, serve, transport } from "../services/support.ts";

describe("AppClient", () => {
  let s: Running;
  beforeAll(async () => void (s = await serve(appService())));
  afterAll(() => s.stop());

  test("many pipelined requests on one connection resolve with their own replies", async () => {
    const client = await AppClient.connect(await transport(), s.addr);
    const pending = Array.from({ length: 50 }, (_, i) => client.request(jsonMessage({ action: "echo", value: i })));
    const big = pattern(512 * 1024, 3);
    const bin = client.request(binaryMessage(big));
    const got = await Promise.all(pending);
    expect(got.map((m) => (decodeJson(m) as { result: number }).result)).toEqual(
      Array.from({ length: 50 }, (_, i) => i),
    );
    expect(parseSummary((await bin).content)).toEqual({ length: big.length, sha256: sha256Hex(big) });
    expect(client.outstanding).toBe(0);
    client.end();
    expect(await withTimeout(client.closed, 5000, "close")).toBeUndefined();
  });

  test("a server that closes without replying rejects the request", async () => {
    const d = await serve(discardService);
    try {
      const client = await AppClient.connect(await transport(), d.addr);
      const p = client.request(jsonMessage({ action: "echo", value: 1 }));
      client.end();
      await expect(p).rejects.toThrow(/server closed the connection with 1 reply missing/);
    } finally {
      await d.stop();
    }
  });

  test("a reply that is not an app message rejects with 'bad reply'", async () => {
    const d = await serve(daytimeService()); // "Monday, ..." = header length 0x4d6f, then the FIN
    try {
      const client = await AppClient.connect(await transport(), d.addr);
      const p = client.request(jsonMessage({ action: "echo", value: 1 }));
      await expect(p).rejects.toBeInstanceOf(AppClientError);
      await expect(p).rejects.toThrow(/bad reply: stream ended inside a message/);
    } finally {
      await d.stop();
    }
  });

  test("reply limits apply to the client too", async () => {
    const client = await AppClient.connect(await transport(), s.addr, { limits: { maxContent: 10 } });
    await expect(client.request(jsonMessage({ action: "echo", value: "far too long for ten bytes" }))).rejects.toThrow(
      /bad reply: content-length \d+ exceeds the 10-byte limit/,
    );
    await client.closed;
  });
});
