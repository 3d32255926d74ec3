// switchboard/node: the Node adapter for library users, and `serve()` on it.
import { hostRuntime, type ServeHandle, type ServeOptions, serveWith } from "../../src/serve.ts";
import { nodeHost } from "./host.ts";
import { nodeTransport } from "./transport.ts";

export { nodeHost, nodeTransport };
export type { ServeHandle, ServeOptions };

/**
 * Start `options.service` on `options.listen` with Node's adapter, and resolve once every
 * address is bound (all or nothing). Logs to stderr unless given `log`; SIGINT/SIGTERM
 * are left alone unless `handleSignals: true`. Stop it with `handle.shutdown()` (graceful).
 *
 * ```ts
 * const handle = await serve({ listen: "127.0.0.1:7070", service, handleSignals: true });
 * ```
 */
export function serve(options: ServeOptions): Promise<ServeHandle> {
  return serveWith(hostRuntime(nodeTransport, nodeHost), options);
}
