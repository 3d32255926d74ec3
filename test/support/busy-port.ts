// A loopback port that is taken (a listener that never answers), for the "address
// already in use" cases: the suite's beforeAll binds it, its afterAll frees it.
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
