// Runs every transport conformance check against the adapter of the runtime this
// vitest process runs on (node:net on Node, Bun.listen on Bun, Deno.listen on Deno).
import { beforeAll, describe, test } from "vitest";
import type { Transport } from "../../src/transport.ts";
import { detectRuntime, loadRuntime } from "../support/runtime.ts";
import { checks } from "./checks.ts";

let transport: Transport;
beforeAll(async () => {
  transport = (await loadRuntime()).transport;
});

describe(`transport conformance on ${detectRuntime()}`, () => {
  for (const [name, check] of Object.entries(checks)) {
    test(name, () => check({ t: transport, timeoutMs: 30_000 }));
  }
});
