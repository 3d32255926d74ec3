// switchboard/bun: the Bun adapter for library users (the CLI is adapters/bun/main.ts).
export { bunTransport } from "./transport.ts";
export { bunHost } from "./host.ts";
