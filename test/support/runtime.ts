// Picks the adapter of the runtime this test process runs on, so the same test files
// exercise node:net under Node, Bun.listen under Bun and Deno.listen under Deno.
import type { Runtime } from "../../src/host.ts";

export type RuntimeName = "node" | "deno" | "bun";

export function detectRuntime(): RuntimeName {
  const g = globalThis as { Deno?: unknown; Bun?: unknown };
  if (g.Deno) return "deno";
  if (g.Bun) return "bun";
  return "node";
}

export async function loadRuntime(name: RuntimeName = detectRuntime()): Promise<Runtime> {
  switch (name) {
    case "node": {
      const [{ nodeTransport }, { nodeHost }] = await Promise.all([
        import("../../adapters/node/transport.ts"),
        import("../../adapters/node/host.ts"),
      ]);
      return { transport: nodeTransport, host: nodeHost };
    }
    case "deno": {
      const [{ denoTransport }, { denoHost }] = await Promise.all([
        import("../../adapters/deno/transport.ts"),
        import("../../adapters/deno/host.ts"),
      ]);
      return { transport: denoTransport, host: denoHost };
    }
    case "bun": {
      const [{ bunTransport }, { bunHost }] = await Promise.all([
        import("../../adapters/bun/transport.ts"),
        import("../../adapters/bun/host.ts"),
      ]);
      return { transport: bunTransport, host: bunHost };
    }
  }
}
