// Entry point for Node's single-executable build: the same wiring as main.ts, without
// top-level await (the executable runs a CommonJS bundle).
import { runCli } from "../../src/cli/main.ts";
import { nodeTransport } from "./transport.ts";
import { nodeHost } from "./host.ts";

void runCli({ transport: nodeTransport, host: nodeHost }).then((code) => nodeHost.exit(code));
