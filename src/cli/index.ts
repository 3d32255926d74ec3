// switchboard/cli: the command line as a library, for embedding `switchboard` in another
// program or wiring it to a runtime of your own. It needs a Host (arguments, stdio, files,
// signals, exit) besides a Transport; each adapter entry exports both (`nodeHost`, ...).
//
//   import { runCli } from "switchboard/cli";
//   import { nodeHost, nodeTransport } from "switchboard/node";
//   await nodeHost.exit(await runCli({ transport: nodeTransport, host: nodeHost }));

export { runCli } from "./main.ts";
export type { Host, Output, Runtime, Signal, StdOutput, WorkerProcess, WorkerSpawner } from "../host.ts";
export type { HttpHandler, HttpRequest, HttpResponse, HttpServeOptions, HttpServer } from "../host.ts";
export { FileError } from "../net-errors.ts";
export { VERSION } from "../version.ts";
