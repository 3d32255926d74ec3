// The runtime's own Response for a handler's HttpResponse (src/host.ts): handlers normally
// return a real Response, which passes through; any other object is copied into one.
// Shared by the adapters whose HTTP server takes a Response (Deno's and Bun's).

import type { HttpHandler, HttpRequest, HttpResponse } from "../host.ts";

async function toResponse(r: HttpResponse): Promise<Response> {
  if (r instanceof Response) return r;
  const headers = new Headers();
  r.headers.forEach((value, name) => headers.append(name, value));
  const body = r.body === null ? null : await r.arrayBuffer();
  return new Response(body, { status: r.status, headers });
}

/** The handler as the runtime's server calls it: a web Request in, a real Response out. */
export function webHandler(handler: HttpHandler): (req: Request) => Promise<Response> {
  return async (req) => await toResponse(await handler(req as HttpRequest));
}
