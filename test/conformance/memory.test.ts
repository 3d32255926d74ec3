// The conformance suite against the in-memory transport (src/testing/memory-transport.ts),
// in-process on whichever runtime runs this file: the transport users test their services
// with must keep the contract the real adapters keep.
import { describe, test } from "vitest";
import { memoryTransport } from "../../src/testing/memory-transport.ts";
import { checks } from "./checks.ts";
import { NOT_IN_MEMORY } from "./memory-exceptions.ts";

describe("transport conformance on the in-memory transport", () => {
  for (const [name, check] of Object.entries(checks)) {
    const why = NOT_IN_MEMORY[name];
    if (why !== undefined) test.skip(`${name} (not in memory: ${why})`, () => {});
    else test(name, () => check({ t: memoryTransport(), timeoutMs: 30_000 }));
  }
});
