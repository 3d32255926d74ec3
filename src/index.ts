// switchboard as a library: the runtime-agnostic core (no CLI, no Host). Pair it with one
// adapter: `switchboard/node`, `switchboard/bun`, `switchboard/deno` on npm (each with a
// one-call `serve()`), `./deno` on JSR. The command line is `switchboard/cli`.

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
// TLS in the Transport (issue 11): options for listen/connect, what a runtime can do.
export type { TlsClientOptions, TlsConnState, TlsServerOptions, TlsSupport } from "./tls.ts";
export { TlsConfigError } from "./tls.ts";
export type { Output } from "./host.ts";
export { netCode, SENTENCES as NET_ERROR_SENTENCES } from "./net-errors.ts";
export { AddrError, formatAddr, parseAddr } from "./addr.ts";
export { formatDuration, parseDuration } from "./duration.ts";
export { createLogger, formatLine, silentLogger } from "./log.ts";
export type { LogFields, LogFormat, Logger, LogLevel } from "./log.ts";

export { serveWith } from "./serve.ts";
export type { AbortSignalLike, ServeHandle, ServeOptions, ServeRuntime } from "./serve.ts";

export { Server } from "./server/server.ts";
export type { ServerConfig, ServerStats } from "./server/server.ts";
export {
  checkOption,
  DEFAULT_DEADLINES,
  DEFAULT_MAX_IN_FLIGHT,
  defaultOptions,
  OPTION_RANGES,
  resolveOptions,
} from "./server/options.ts";
export type { Deadlines, Limits, OptionRange, ServerOptions } from "./server/options.ts";
export type { CloseCounters, PolicyReason } from "./server/close-reasons.ts";
export type { RateLimitedLog } from "./server/rate-limited-log.ts";
export type { ConnectionHost, EndReason } from "./server/connection.ts";
export { Histogram, ServerMetrics } from "./server/metrics.ts";
export type { AppRequestRecord, ConnectionCounts, ConnectionView } from "./server/metrics.ts";

export type { Service, Session, SessionContext } from "./server/service.ts";
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
export { errorReply, handleRequest } from "./app/handler.ts";
export type { AppReply } from "./app/handler.ts";
export { DEFAULT_DICTIONARY, dictionaryFrom } from "./app/dictionary.ts";
export type { Dictionary } from "./app/dictionary.ts";
export {
  binaryMessage,
  CLIENT_BINARY_TYPE,
  decodeJson,
  isJson,
  JSON_TYPE,
  jsonMessage,
  SERVER_BINARY_TYPE,
} from "./app/content.ts";
export { AppProtocolError } from "./app/errors.ts";
export type { AppErrorReason } from "./app/errors.ts";
export { AppClient, AppClientError, CLIENT_LIMITS } from "./app/client.ts";
export { SilenceError } from "./silence.ts";
export {
  appEnvelope,
  AppEnvelopeCodec,
  DEFAULT_MAX_CONTENT,
  DEFAULT_MAX_HEADER,
  encodeMessage,
  makeHeader,
} from "./app/envelope.ts";
export type { AppHeader, AppMessage, EnvelopeLimits } from "./app/envelope.ts";

export * from "./codec/index.ts";
export { VERSION } from "./version.ts";

// Testing without sockets: an in-memory Transport that keeps the contract (src/testing/).
export { MEMORY_SOCKET_BUFFER, memoryTransport } from "./testing/memory-transport.ts";
export { FramedClient, FramedClientError } from "./client/framed-client.ts";
export type { FramedClientOptions } from "./client/framed-client.ts";

// PROXY protocol v1/v2 (src/proxy/): ServerConfig.proxyProtocol on the receiving side, a
// header-writing Transport wrapper on the sending side, and the codec itself.
export { CidrError, TrustedNets } from "./proxy/cidr.ts";
export type { ProxyProtocolConfig } from "./proxy/preface.ts";
export { proxyingTransport } from "./proxy/client.ts";
export type { ProxySend } from "./proxy/client.ts";
export { encodeProxyHeader, encodeV1, encodeV2 } from "./proxy/encode.ts";
export type { ProxyVersion } from "./proxy/encode.ts";
export type { V2Options as ProxyV2Options } from "./proxy/v2.ts";
export { parseProxyHeader, ProxyHeaderDecoder } from "./proxy/parse.ts";
export type { Decoded as ProxyDecoded } from "./proxy/parse.ts";
export { ProxyHeaderError } from "./proxy/errors.ts";
export type { ProxyHeaderReason } from "./proxy/errors.ts";
export { PP2_TYPE } from "./proxy/header.ts";
export type { ProxyHeader, ProxyTlv } from "./proxy/header.ts";
export { crc32c } from "./proxy/crc32c.ts";
