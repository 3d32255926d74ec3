import { runCli } from "../../src/cli/main.ts";
import { bunTransport } from "./transport.ts";
import { bunHost } from "./host.ts";
const code = await runCli({ transport: bunTransport, host: bunHost });
await bunHost.exit(code);
