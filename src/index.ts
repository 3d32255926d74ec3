// switchboard as a library: the runtime-agnostic core. Pair it with one adapter
// (`switchboard/node`, `switchboard/bun`, `switchboard/deno` on npm; `./deno` on JSR).

export type { Addr, Conn, ConnectOptions, ConnHandler, Listener, ListenOptions, Transport } from "./transport.ts";
export {
  ConnectError,
  ConnError,
  DEFAULT_HIGH_WATER_MARK,
  ListenError,
  NET_ERROR_CODES,
  NetError,
} from "./transport.ts";
export type { NetErrorCode } from "./transport.ts";
export type { Host, Output, Runtime, Signal, StdOutput } from "./host.ts";
export { FileError, netCode } from "./net-errors.ts";
export { AddrError, formatAddr, parseAddr } from "./addr.ts";
export { formatDuration, parseDuration } from "./duration.ts";
export { createLogger, silentLogger } from "./log.ts";
export type { LogFormat, Logger, LogLevel } from "./log.ts";

export { Server } from "./server/server.ts";
export type { ServerConfig, ServerStats } from "./server/server.ts";
export { checkOption, DEFAULT_DEADLINES, defaultOptions, OPTION_RANGES, resolveOptions } from "./server/options.ts";
export type { Deadlines, Limits, OptionRange, ServerOptions } from "./server/options.ts";
export type { PolicyReason } from "./server/close-reasons.ts";

export type { Service, Session, SessionContext } from "./services/service.ts";
export { framedService } from "./services/framed.ts";
export type { FramedServiceOptions } from "./services/framed.ts";
export { echoService } from "./services/echo.ts";
export { discardService } from "./services/discard.ts";
export { chargenService } from "./services/chargen.ts";
export { daytimeService } from "./services/daytime.ts";
export { timeService } from "./services/time.ts";
export { framedEchoService } from "./services/framed-echo.ts";
export { appService } from "./services/app.ts";
export type { AppServiceOptions, RequestHandler } from "./services/app.ts";
export type { AppReply } from "./app/handler.ts";
export { AppClient, AppClientError } from "./app/client.ts";
export { appEnvelope, encodeMessage, makeHeader } from "./app/envelope.ts";
export type { AppHeader, AppMessage, EnvelopeLimits } from "./app/envelope.ts";

export * from "./codec/index.ts";
export { runCli } from "./cli/main.ts";
export { VERSION } from "./version.ts";

// Testing without sockets: an in-memory Transport that keeps the contract (src/testing/).
export { MEMORY_SOCKET_BUFFER, memoryTransport } from "./testing/memory-transport.ts";
export { FramedClient, FramedClientError } from "./client/framed-client.ts";
export type { FramedClientOptions } from "./client/framed-client.ts";
