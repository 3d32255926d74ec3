// What `switchboard/bun` and `switchboard/deno` resolve to on any other runtime (the npm
// package's "default" export condition): a clear error at import, instead of Node's
// misleading "subpath is not defined by exports". Types come from the "types" condition.
throw new Error(
  "switchboard/bun runs only on Bun and switchboard/deno only on Deno; on Node import switchboard/node",
);
