// The Prometheus text exposition format (version 0.0.4) of a Snapshot: counters end in
// `_total`, times are `_seconds`, sizes `_bytes`; every label value a reason can take is
// listed, zeros included, so a rate() over a reason exists before its first event.
//
// With `serve --workers` the families above are totals over every worker (the supervisor
// adds them up); per-worker series carry a `worker` label under names of their own
// (`switchboard_worker_*`), so that summing a family never counts a connection twice.

import type { HistogramData } from "./counts.ts";
import type { Snapshot, WorkerStatus } from "./status.ts";

export const CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

type Labels = Record<string, string>;

function escapeLabel(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

function labelText(labels: Labels | undefined): string {
  if (!labels) return "";
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`);
  return parts.length ? `{${parts.join(",")}}` : "";
}

function num(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  return String(v);
}

class Writer {
  readonly lines: string[] = [];

  family(name: string, type: "counter" | "gauge" | "histogram", help: string): this {
    this.lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    return this;
  }

  sample(name: string, value: number, labels?: Labels): this {
    this.lines.push(`${name}${labelText(labels)} ${num(value)}`);
    return this;
  }

  histogram(name: string, h: HistogramData): this {
    let cumulative = 0;
    h.bounds.forEach((b, i) => {
      cumulative += h.counts[i]!;
      this.sample(`${name}_bucket`, cumulative, { le: num(b) });
    });
    this.sample(`${name}_bucket`, h.count, { le: "+Inf" });
    this.sample(`${name}_sum`, h.sum);
    this.sample(`${name}_count`, h.count);
    return this;
  }
}

/** Every metric, one family after another. */
export function renderMetrics(snap: Snapshot): string {
  const s = snap.status;
  const w = new Writer();
  w.family("switchboard_build_info", "gauge", "Version and runtime of this switchboard server (always 1).")
    .sample("switchboard_build_info", 1, { version: s.version, runtime: s.runtime, runtime_version: s.runtimeVersion });
  w.family("switchboard_listener_info", "gauge", "One series per listening address (always 1).");
  for (const addr of s.listeners) w.sample("switchboard_listener_info", 1, { addr, service: s.service });
  w.family("switchboard_connections_accepted_total", "counter", "Connections admitted.")
    .sample("switchboard_connections_accepted_total", s.connections.accepted);
  w.family(
    "switchboard_connections_refused_total",
    "counter",
    "Connections refused at accept, by the limit that refused them.",
  );
  for (const [reason, n] of Object.entries(s.refusedByReason)) {
    w.sample("switchboard_connections_refused_total", n, { reason });
  }
  w.family(
    "switchboard_connections_closed_total",
    "counter",
    "Admitted connections closed, by reason (a peer, an error, the service, a shutdown, or a deadline or limit).",
  );
  for (const [reason, n] of Object.entries(s.closedByReason)) {
    w.sample("switchboard_connections_closed_total", n, { reason });
  }
  w.family("switchboard_connections_open", "gauge", "Connections open now.")
    .sample("switchboard_connections_open", s.connections.open);
  // With workers each one admits up to --max-conns: the server as a whole, that many per listening worker.
  const listening = s.workers?.filter((x) => x.state === "listening").length;
  w.family(
    "switchboard_connections_max",
    "gauge",
    "The --max-conns limit in effect (with --workers: the sum over workers listening).",
  )
    .sample("switchboard_connections_max", s.limits.maxConns * (listening ?? 1));
  w.family("switchboard_connection_duration_seconds", "histogram", "Lifetime of closed connections, accept to close.")
    .histogram("switchboard_connection_duration_seconds", snap.lifetime);
  w.family("switchboard_received_bytes_total", "counter", "Bytes read from peers.")
    .sample("switchboard_received_bytes_total", s.bytes.received);
  w.family("switchboard_sent_bytes_total", "counter", "Bytes handed to the kernel for peers.")
    .sample("switchboard_sent_bytes_total", s.bytes.sent);
  w.family("switchboard_queued_bytes", "gauge", "Bytes accepted for peers but not yet handed to the kernel.")
    .sample("switchboard_queued_bytes", s.bytes.queued);
  w.family("switchboard_frames_received_total", "counter", "Frames (and app requests) decoded by framed services.")
    .sample("switchboard_frames_received_total", s.frames.received);
  w.family("switchboard_frames_sent_total", "counter", "Reply frames written by framed services.")
    .sample("switchboard_frames_sent_total", s.frames.sent);
  w.family("switchboard_app_requests_total", "counter", "App protocol requests answered, by action and outcome.");
  for (const r of s.app) w.sample("switchboard_app_requests_total", r.count, { action: r.action, outcome: r.outcome });
  w.family("switchboard_app_request_duration_seconds", "histogram", "Time from a decoded app request to its reply.")
    .histogram("switchboard_app_request_duration_seconds", snap.appTime);
  w.family("switchboard_draining", "gauge", "1 once a stop signal began the graceful drain.")
    .sample("switchboard_draining", s.draining ? 1 : 0);
  w.family("switchboard_ready", "gauge", "1 while /readyz answers 200.")
    .sample("switchboard_ready", s.ready ? 1 : 0);
  if (s.workers) renderWorkers(w, s.workers);
  if (s.memory.rssBytes !== null) {
    const all = s.workers ? " (with --workers: the supervisor's and every worker's)" : "";
    w.family("process_resident_memory_bytes", "gauge", `Resident memory size in bytes${all}.`)
      .sample("process_resident_memory_bytes", s.memory.rssBytes);
  }
  w.family("process_start_time_seconds", "gauge", "Start time of the server since the Unix epoch in seconds.")
    .sample("process_start_time_seconds", snap.startedAtSeconds);
  return w.lines.join("\n") + "\n";
}

/** Per-worker series (serve --workers): one per worker id, whether or not a process runs in that slot now. */
function renderWorkers(w: Writer, workers: readonly WorkerStatus[]): void {
  const each = (
    name: string,
    type: "counter" | "gauge",
    help: string,
    value: (x: WorkerStatus) => number | null,
  ) => {
    w.family(name, type, help);
    for (const x of workers) {
      const v = value(x);
      if (v !== null) w.sample(name, v, { worker: String(x.id) });
    }
  };
  w.family("switchboard_workers_listening", "gauge", "Worker processes listening now.")
    .sample("switchboard_workers_listening", workers.filter((x) => x.state === "listening").length);
  each(
    "switchboard_worker_up",
    "gauge",
    "1 while this worker's process listens.",
    (x) => x.state === "listening" ? 1 : 0,
  );
  each("switchboard_worker_restarts_total", "counter", "Times this worker's process was replaced.", (x) => x.restarts);
  each(
    "switchboard_worker_connections_open",
    "gauge",
    "Connections open on this worker (at its last report).",
    (x) => x.connections.open,
  );
  each(
    "switchboard_worker_connections_accepted_total",
    "counter",
    "Connections admitted by this worker's current process (starts from 0 when the worker is replaced).",
    (x) => x.connections.accepted,
  );
  each(
    "switchboard_worker_resident_memory_bytes",
    "gauge",
    "Resident memory of this worker's process in bytes.",
    (x) => x.rssBytes,
  );
}
