// Ports for driver tests: one free right now (for fixed-port command lines), and one
// taken by a listener that never answers (for the "address already in use" cases).
import * as net from "node:net";
import { afterAll, beforeAll } from "vitest";

/** Call at the top of a test file; the returned function gives the taken port inside tests. */
export function busyPortForSuite(): () => number {
  let busy: net.Server | undefined;
  let port = 0;
  beforeAll(async () => {
    busy = net.createServer(() => {});
    await new Promise<void>((r) => busy!.listen(0, "127.0.0.1", r));
    port = (busy.address() as net.AddressInfo).port;
  });
  afterAll(async () => {
    await new Promise((r) => busy?.close(r));
  });
  return () => port;
}

/** A TCP port free on `host` right now (the OS picks it, we release it); for command lines that need a fixed port. */
export function freePort(host = "127.0.0.1"): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on("error", reject);
    s.listen(0, host, () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}
