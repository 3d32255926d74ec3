// Host.serveHttp on Deno.serve: already web-standard Request/Response. Deno's HTTP server
// (hyper) refuses oversized headers itself; the handler checks the size as well.

import { ListenError } from "../../src/net-errors.ts";
import type { HttpHandler, HttpServeOptions, HttpServer } from "../../src/host.ts";
import { webHandler } from "../../src/adapter-kit/web-response.ts";
import { denoNetCode, permissionHint, rawDetail } from "./errors.ts";

interface DenoHttpServer {
  readonly addr: { hostname: string; port: number };
  shutdown(): Promise<void>;
}

type DenoServe = (
  options: {
    hostname: string;
    port: number;
    onListen?: (addr: unknown) => void;
    onError?: (err: unknown) => Response;
  },
  handler: (req: Request) => Response | Promise<Response>,
) => DenoHttpServer;

export function denoServeHttp(opts: HttpServeOptions, handler: HttpHandler): Promise<HttpServer> {
  const serve = (globalThis as unknown as { Deno: { serve: DenoServe } }).Deno.serve;
  const addr = { transport: "tcp" as const, hostname: opts.hostname, port: opts.port };
  let server: DenoHttpServer;
  try {
    server = serve({
      hostname: opts.hostname,
      port: opts.port,
      onListen: () => {}, // Deno would print "Listening on ..." to stdout
      onError: () => new Response("internal error\n", { status: 500 }),
    }, webHandler(handler));
  } catch (err) {
    return Promise.reject(new ListenError(addr, denoNetCode(err), rawDetail(err), permissionHint(err)));
  }
  return Promise.resolve({
    hostname: opts.hostname,
    port: server.addr.port,
    close: () => server.shutdown(),
  });
}
