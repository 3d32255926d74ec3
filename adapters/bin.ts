#!/usr/bin/env node
// The npm package's `switchboard` command: the CLI on the adapter of the runtime that runs
// it — Node for `npx switchboard` and `npm i -g`, Bun's for `bunx --bun switchboard`,
// Deno's for `deno run npm:switchboard`. Each main module runs the CLI when imported.
const g = globalThis as { Bun?: unknown; Deno?: unknown };
if (g.Bun !== undefined) await import("./bun/main.ts");
else if (g.Deno !== undefined) await import("./deno/main.ts");
else await import("./node/main.ts");
