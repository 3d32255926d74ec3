// The shape of one CLI verb.

import type { Runtime } from "../host.ts";

export interface Command {
  name: string;
  help(): string;
  /** Resolves with the exit code. Throws UsageError for misuse (exit 2). */
  run(rt: Runtime, argv: readonly string[]): Promise<number>;
}
