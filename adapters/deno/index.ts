// switchboard/deno (npm) and @switchboard/switchboard/deno (JSR): the Deno adapter for
// library users, and `serve()` on it (the CLI is adapters/deno/main.ts).
import { hostRuntime, type ServeHandle, type ServeOptions, serveWith } from "../../src/serve.ts";
import { denoHost } from "./host.ts";
import { denoTransport } from "./transport.ts";

export { denoHost, denoTransport };
export type { ServeHandle, ServeOptions };

/**
 * Start `options.service` on `options.listen` with Deno's adapter, and resolve once every
 * address is bound (all or nothing). Logs to stderr unless given `log`; SIGINT/SIGTERM
 * are left alone unless `handleSignals: true`. Stop it with `handle.shutdown()` (graceful).
 *
 * ```ts
 * const handle = await serve({ listen: "127.0.0.1:7070", service, handleSignals: true });
 * ```
 */
export function serve(options: ServeOptions): Promise<ServeHandle> {
  return serveWith(hostRuntime(denoTransport, denoHost), options);
}
