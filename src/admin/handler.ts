// The admin endpoint's one runtime-agnostic HTTP handler (web Request in, Response out),
// served by each runtime's own HTTP server through Host.serveHttp:
//   /metrics      Prometheus text format        /healthz   200 while the process runs (with
//   /readyz       200, or 503 while draining    --workers: while a worker listens)
//                 or at --max-conns (a single process) or with no worker listening
//   /status.json  the status page's data        /          the status page (+ its .js/.css)

import type { HttpRequest } from "../host.ts";
import type { Server } from "../server/server.ts";
import type { RateHistory } from "./history.ts";
import { CONTENT_TYPE, renderMetrics } from "./prometheus.ts";
import { type AdminInfo, type Lifecycle, notReadyReason, type Snapshot, snapshot } from "./status.ts";
import { PAGE_CSS, PAGE_HTML, PAGE_JS } from "./page.ts";

/** Request line plus headers above this are refused with 431 (the Node adapter's HTTP server enforces the same bound itself). */
export const MAX_HEADER_BYTES = 8 * 1024;

const COMMON = { "cache-control": "no-store", "x-content-type-options": "nosniff" };
/** The page loads nothing from anywhere else: scripts, styles and data come from this endpoint. */
const PAGE_CSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; " +
  "base-uri 'none'; frame-ancestors 'none'";

function text(status: number, body: string, headers: Record<string, string> = {}): Response {
  return new Response(body, {
    status,
    headers: { "content-type": "text/plain; charset=utf-8", ...COMMON, ...headers },
  });
}

function headerBytes(req: HttpRequest, url: URL): number {
  let n = req.method.length + url.pathname.length + url.search.length + 12;
  req.headers.forEach((v, k) => (n += k.length + v.length + 4));
  return n;
}

export interface AdminContext {
  server: Server;
  info: AdminInfo;
  life: Lifecycle;
  history: RateHistory;
}

/** What the endpoint reports on: one server (AdminContext), or a supervisor's workers. */
export interface AdminSource {
  snapshot(): Snapshot;
  /** null while ready; else why not ("draining", ...). */
  notReadyReason(): string | null;
  /** null while alive; else why not (a supervisor with no worker listening). */
  unhealthyReason(): string | null;
}

/** The source of a single process: its own server. */
export function serverSource(ctx: AdminContext): AdminSource {
  return {
    snapshot: () => snapshot(ctx.server, ctx.info, ctx.life, ctx.history),
    notReadyReason: () => notReadyReason(ctx.server, ctx.life),
    unhealthyReason: () => null,
  };
}

export function adminHandler(ctx: AdminContext | AdminSource): (req: HttpRequest) => Response {
  const src = "server" in ctx ? serverSource(ctx) : ctx;
  const routes: Record<string, () => Response> = {
    "/healthz": () => {
      const reason = src.unhealthyReason();
      return reason === null ? text(200, "ok\n") : text(503, `not ok: ${reason}\n`);
    },
    "/readyz": () => {
      const reason = src.notReadyReason();
      return reason === null ? text(200, "ready\n") : text(503, `not ready: ${reason}\n`);
    },
    "/metrics": () => text(200, renderMetrics(src.snapshot()), { "content-type": CONTENT_TYPE }),
    "/status.json": () =>
      new Response(JSON.stringify(src.snapshot().status), {
        headers: { "content-type": "application/json", ...COMMON },
      }),
    "/": () =>
      new Response(PAGE_HTML, {
        headers: { "content-type": "text/html; charset=utf-8", "content-security-policy": PAGE_CSP, ...COMMON },
      }),
    "/status.js": () => new Response(PAGE_JS, { headers: { "content-type": "text/javascript", ...COMMON } }),
    "/status.css": () => new Response(PAGE_CSS, { headers: { "content-type": "text/css", ...COMMON } }),
  };
  return (req) => {
    let url: URL;
    try {
      url = new URL(req.url);
    } catch {
      return text(400, "bad request\n");
    }
    if (headerBytes(req, url) > MAX_HEADER_BYTES) return text(431, "request header fields too large\n");
    const route = Object.hasOwn(routes, url.pathname) ? routes[url.pathname] : undefined;
    if (!route) return text(404, "not found; try /, /metrics, /status.json, /healthz or /readyz\n");
    if (req.method !== "GET" && req.method !== "HEAD") return text(405, "method not allowed\n", { allow: "GET, HEAD" });
    return route();
  };
}
