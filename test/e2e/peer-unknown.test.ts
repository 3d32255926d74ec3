// A peer that resets before the server gets to accept it: its address is gone by then
// (Node and Bun cannot read it). The server must say `peer=unknown`, not a made-up ":0",
// and go on serving. Reproduced deterministically: the server is stopped (SIGSTOP) while
// the clients connect (the kernel completes the handshake) and reset, then continued.
import * as net from "node:net";
import { describe, expect, test } from "vitest";
import { CLI_RUNTIMES, runCli, startServer } from "../support/cli.ts";
import { waitFor } from "../support/sockets.ts";

/** Connect (the kernel accepts on the stopped server's behalf), then reset at once. */
function connectAndReset(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: "127.0.0.1", port }, () => s.resetAndDestroy());
    s.on("error", reject);
    s.on("close", () => resolve());
  });
}

const RESETS = 2;

describe.each(CLI_RUNTIMES)("a peer that reset before its accept, on %s", (rt) => {
  test("is logged as peer=unknown (or never seen), and the server goes on serving", async () => {
    const s = await startServer(rt, ["--listen", "127.0.0.1:0", "--log-level", "debug"]);
    try {
      s.child.kill("SIGSTOP");
      try {
        for (let i = 0; i < RESETS; i++) await connectAndReset(s.port);
      } finally {
        s.child.kill("SIGCONT");
      }
      // Accepts are in order: once this echo is served, the reset connections were handled.
      const r = await runCli(rt, ["send", `127.0.0.1:${s.port}`, "after"]);
      expect(r.stdout.toString()).toBe("after\n");
      const lines = () => s.log().split("\n").filter((l) => / conn-(open|close) /.test(l));
      const unknown = () => lines().filter((l) => l.includes(" conn-close peer=unknown "));
      if (rt === "deno") {
        // Deno's accept() fails for such a connection (ENOTCONN, skipped): it never opens.
        await waitFor(() => lines().filter((l) => l.includes("conn-close")).length >= 1, "the echo's close line");
        expect(lines().filter((l) => l.includes("peer=unknown"))).toEqual([]);
      } else {
        await waitFor(() => unknown().length >= RESETS, `${RESETS} conn-close lines with peer=unknown`);
        expect(lines().filter((l) => l.includes(" conn-open peer=unknown ")).length).toBe(RESETS);
        for (const line of unknown()) expect(line).toMatch(/ reason=(peer-reset|peer-closed|error)/);
      }
      // Every peer is a real address or "unknown": never ":0" or an empty one.
      for (const line of lines()) expect(line).toMatch(/ peer=(unknown|127\.0\.0\.1:[1-9]\d*) /);
      expect((await runCli(rt, ["send", `127.0.0.1:${s.port}`, "still"])).stdout.toString()).toBe("still\n");
    } finally {
      await s.stop();
    }
  });
});
