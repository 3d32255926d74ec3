#!/usr/bin/env -S deno run -A
import { runCli } from "../../src/cli/main.ts";
import { denoTransport } from "./transport.ts";
import { denoHost } from "./host.ts";
const code = await runCli({ transport: denoTransport, host: denoHost });
await denoHost.exit(code);
