// switchboard/node: the Node adapter for library users.
export { nodeTransport } from "./transport.ts";
export { nodeHost } from "./host.ts";
