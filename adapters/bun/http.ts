// Host.serveHttp on Bun.serve: already web-standard Request/Response. Bun refuses
// oversized headers itself (431); the handler checks the size as well.

import { ListenError } from "../../src/net-errors.ts";
import type { HttpHandler, HttpServeOptions, HttpServer } from "../../src/host.ts";
import { webHandler } from "../../src/adapter-kit/web-response.ts";
import { bunNetCode, rawDetail } from "./errors.ts";

interface BunHttpServer {
  readonly port: number;
  stop(closeActiveConnections?: boolean): Promise<void> | void;
}

type BunServe = (options: {
  hostname: string;
  port: number;
  development?: boolean;
  fetch: (req: Request) => Response | Promise<Response>;
  error?: (err: Error) => Response;
}) => BunHttpServer;

export function bunServeHttp(opts: HttpServeOptions, handler: HttpHandler): Promise<HttpServer> {
  const serve = (globalThis as unknown as { Bun: { serve: BunServe } }).Bun.serve;
  const addr = { transport: "tcp" as const, hostname: opts.hostname, port: opts.port };
  let server: BunHttpServer;
  try {
    server = serve({
      hostname: opts.hostname,
      port: opts.port,
      development: false, // no error pages with stack traces
      fetch: webHandler(handler),
      error: () => new Response("internal error\n", { status: 500 }),
    });
  } catch (err) {
    return Promise.reject(new ListenError(addr, bunNetCode(err), rawDetail(err)));
  }
  return Promise.resolve({
    hostname: opts.hostname,
    port: server.port,
    close: async () => {
      await server.stop(true);
    },
  });
}
