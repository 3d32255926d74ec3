// Host.serveHttp on node:http: a small bridge from IncomingMessage/ServerResponse to the
// web-standard Request/Response the runtime-agnostic handler speaks (src/admin/).

import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { ListenError } from "../../src/net-errors.ts";
import type { HttpHandler, HttpResponse, HttpServeOptions, HttpServer } from "../../src/host.ts";
import { listenCode, rawDetail } from "./errors.ts";

/** The request as a web Request. Bodies are not forwarded: the admin endpoint answers GET/HEAD only. */
function toRequest(req: IncomingMessage, authority: string): Request {
  const headers = new Headers();
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) headers.append(req.rawHeaders[i]!, req.rawHeaders[i + 1]!);
  return new Request(new URL(req.url ?? "/", `http://${authority}`), { method: req.method, headers });
}

async function reply(res: ServerResponse, response: HttpResponse, head: boolean): Promise<void> {
  const body = head || response.body === null ? undefined : new Uint8Array(await response.arrayBuffer());
  const headers: Record<string, string> = {};
  response.headers.forEach((v, k) => (headers[k] = v));
  if (body !== undefined) headers["content-length"] = String(body.length);
  res.writeHead(response.status, headers);
  res.end(body);
}

/** How long a refused request's sender may go on sending before its connection is cut. */
const LINGER_MS = 2000;

/** How long close() lets responses under way finish before it cuts every connection. */
const CLOSE_GRACE_MS = 500;

export function nodeServeHttp(opts: HttpServeOptions, handler: HttpHandler): Promise<HttpServer> {
  const server = createServer({ maxHeaderSize: opts.maxHeaderBytes }, (req, res) => {
    const authority = req.headers.host ?? `${opts.hostname}:${opts.port}`;
    let request: Request;
    try {
      request = toRequest(req, authority);
    } catch {
      res.writeHead(400, { "content-type": "text/plain" }).end("bad request\n");
      return;
    }
    Promise.resolve()
      .then(() => handler(request))
      .then((response) => reply(res, response, req.method === "HEAD"))
      .catch(() => {
        if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain" });
        res.end();
      });
  });
  // A malformed request or one over maxHeaderSize: we answer 400/431 through this.
  server.on("clientError", (err: NodeJS.ErrnoException, socket) => {
    // node's parser reports every chunk after the first error again: the linger below
    // is already reading them away.
    if (socket.writableEnded) return;
    if (!socket.writable) return socket.destroy();
    const status = err.code === "HPE_HEADER_OVERFLOW" ? "431 Request Header Fields Too Large" : "400 Bad Request";
    socket.end(`HTTP/1.1 ${status}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
    // Lingering close: closing with the rest of a huge request unread would send a reset,
    // and a reset can reach the client before it reads our status line. Keep reading until
    // its FIN, for a bounded time.
    const cut = setTimeout(() => socket.destroy(), LINGER_MS).unref();
    socket.once("close", () => clearTimeout(cut));
  });
  const addr = { transport: "tcp" as const, hostname: opts.hostname, port: opts.port };
  return new Promise((resolve, reject) => {
    server.once("error", (err) => reject(new ListenError(addr, listenCode(addr, err), rawDetail(err))));
    server.listen({ host: opts.hostname, port: opts.port }, () => {
      const bound = server.address() as AddressInfo;
      resolve({
        hostname: opts.hostname,
        port: bound.port,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeIdleConnections();
            // node:http does not count a connection that has sent no complete request (a
            // browser's preconnect, a stalled client) as idle: it would hold close() until its
            // header timeout, and so the exit. Responses under way get a moment; then all go.
            setTimeout(() => server.closeAllConnections(), CLOSE_GRACE_MS).unref();
          }),
      });
    });
  });
}
