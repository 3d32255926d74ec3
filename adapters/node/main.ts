#!/usr/bin/env node
// Entry point for Node: the CLI wired to node:net.
import { runCli } from "../../src/cli/main.ts";
import { nodeTransport } from "./transport.ts";
import { nodeHost } from "./host.ts";

const code = await runCli({ transport: nodeTransport, host: nodeHost });
await nodeHost.exit(code);
