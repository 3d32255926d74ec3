// switchboard/deno (npm) and @switchboard/switchboard/deno (JSR): the Deno adapter for
// library users (the CLI is adapters/deno/main.ts).
export { denoTransport } from "./transport.ts";
export { denoHost } from "./host.ts";
