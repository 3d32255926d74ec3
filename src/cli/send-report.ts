// The report of `send -c N`: one line per connection, then the summary a load tester
// expects (ok/failed, bytes, duration, throughput, connect and first-byte latency).

import { formatAddr } from "../addr.ts";
import { formatSummary, LatencyRecorder } from "../latency.ts";
import type { Addr } from "../transport.ts";

/** What one connection did; filled in as it goes, so a Ctrl-C can report it half done. */
export interface ConnResult {
  sent: number;
  received: number;
  frames: number;
  /** Milliseconds from the connect call to connected. */
  connectMs?: number;
  /** Milliseconds from connected (the request starts) to the first reply byte. */
  firstByteMs?: number;
  /** Milliseconds from the connect call to close. */
  ms?: number;
  done: boolean;
  error?: string;
}

export function newResult(): ConnResult {
  return { sent: 0, received: 0, frames: 0, done: false };
}

/** 512 B, 1.5 KiB, 12.3 MiB, 1.02 GiB. */
export function formatBytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return i === 0
    ? `${Math.round(n)} B`
    : `${n < 10 ? n.toFixed(2) : n < 100 ? n.toFixed(1) : n.toFixed(0)} ${units[i]}`;
}

export interface ReportInput {
  addr: Addr;
  results: readonly ConnResult[];
  /** Count frames (the --framing runs). */
  framed: boolean;
  /** Wall time of the whole run, in milliseconds. */
  elapsedMs: number;
  /** The run was cut short (Ctrl-C): unfinished connections are reported as such. */
  interrupted: boolean;
}

/** The report lines, and whether every connection succeeded. */
export function formatReport(r: ReportInput): { text: string; ok: boolean } {
  let ok = 0;
  let sent = 0;
  let received = 0;
  const connect = new LatencyRecorder();
  const firstByte = new LatencyRecorder();
  const lines = r.results.map((c, i) => {
    sent += c.sent;
    received += c.received;
    if (c.connectMs !== undefined) connect.add(c.connectMs);
    if (c.firstByteMs !== undefined) firstByte.add(c.firstByteMs);
    const error = c.error ?? (c.done ? undefined : "interrupted");
    if (!error) ok++;
    const frames = r.framed ? `, ${c.frames} frames` : "";
    const ms = c.ms === undefined ? "" : `, ${Math.round(c.ms)} ms`;
    return `conn ${i + 1}: ${
      error ? `error: ${error}` : "ok"
    }, sent ${c.sent} bytes, received ${c.received} bytes${frames}${ms}\n`;
  });
  const n = r.results.length;
  const secs = r.elapsedMs / 1000;
  const rate = (bytes: number) => (secs > 0 ? `${formatBytes(bytes / secs)}/s` : "n/a");
  lines.push(
    `${n} connections to ${formatAddr(r.addr)}: ${ok} ok, ${n - ok} failed${
      r.interrupted ? " (interrupted)" : ""
    }; sent ${sent} bytes, received ${received} bytes\n`,
    `duration ${secs.toFixed(3)} s; throughput: sent ${rate(sent)}, received ${rate(received)}\n`,
    `connect latency: ${formatSummary(connect.summary())}\n`,
    `first-byte latency: ${formatSummary(firstByte.summary())}\n`,
  );
  return { text: lines.join(""), ok: ok === n };
}
