// The deadlines every client command takes, with the same names, help and defaults:
// -t bounds connecting, -w bounds silence (no bytes either way), so no client can hang.

import type { FlagSpec } from "./args.ts";

/** -t: every client's connect deadline (bench's too; its -w means something else). */
export const CONNECT_TIMEOUT_FLAG: FlagSpec = {
  name: "timeout",
  short: "t",
  kind: "string",
  value: "DURATION",
  help: "give up connecting after this long",
  default: "10s",
};

export const CLIENT_DEADLINE_FLAGS: readonly FlagSpec[] = [
  CONNECT_TIMEOUT_FLAG,
  {
    name: "wait",
    short: "w",
    kind: "string",
    value: "DURATION",
    help: "give up after this long with no bytes either way; 0 waits forever",
    default: "10s",
  },
];
