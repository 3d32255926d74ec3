// `bench --plot`: the latency distribution (latency by percentile, on HdrHistogram's
// "nines" scale, where 90%, 99%, 99.9% are equally spaced) and throughput over time, drawn
// as one self-contained SVG (no scripts, fonts or links), or an HTML page holding that
// SVG inline and the summary figures. Text goes through `esc`; nothing is fetched.

import type { BenchResult } from "./report.ts";
import { formatUs } from "./report.ts";

const W = 820;
const PANEL_H = 260;
const M = { left: 80, right: 44, top: 40, bottom: 40 };

function esc(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

const fmt = (n: number) => (Math.round(n * 100) / 100).toString();

/** A "nice" axis maximum and step for values up to `max`. */
function niceScale(max: number): { top: number; step: number } {
  if (!(max > 0)) return { top: 1, step: 0.25 };
  const raw = max / 4;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((f) => f * mag).find((s) => s >= raw)!;
  return { top: Math.ceil(max / step) * step, step };
}

/** Points of the percentile curve: [nines, latency in us] from histogram buckets [upper ns, count]. */
export function percentileCurve(buckets: [number, number][]): [number, number][] {
  const total = buckets.reduce((n, [, c]) => n + c, 0);
  if (total === 0) return [];
  const points: [number, number][] = [[0, buckets[0]![0] / 1000]];
  let seen = 0;
  for (const [ns, count] of buckets) {
    seen += count;
    const q = Math.min(seen / total, 1 - 1 / (total + 1)); // the last point stays finite
    points.push([Math.log10(1 / (1 - q)), ns / 1000]);
  }
  return points;
}

function panel(title: string, y0: number, body: string): string {
  return `<g transform="translate(0,${y0})"><text x="${M.left}" y="24" font-size="15" font-weight="bold">${
    esc(title)
  }</text>${body}</g>`;
}

function axes(innerW: number, innerH: number, yTicks: [number, string][], xTicks: [number, string][]): string {
  const parts = [
    `<line x1="${M.left}" y1="${M.top + innerH}" x2="${M.left + innerW}" y2="${M.top + innerH}" stroke="#333"/>`,
    `<line x1="${M.left}" y1="${M.top}" x2="${M.left}" y2="${M.top + innerH}" stroke="#333"/>`,
  ];
  for (const [y, label] of yTicks) {
    parts.push(
      `<line x1="${M.left}" y1="${fmt(y)}" x2="${M.left + innerW}" y2="${fmt(y)}" stroke="#ddd"/>`,
      `<text x="${M.left - 6}" y="${fmt(y + 4)}" text-anchor="end">${esc(label)}</text>`,
    );
  }
  for (const [x, label] of xTicks) {
    parts.push(`<text x="${fmt(x)}" y="${M.top + innerH + 18}" text-anchor="middle">${esc(label)}</text>`);
  }
  return parts.join("");
}

function latencyPanel(curve: [number, number][]): string {
  const innerW = W - M.left - M.right;
  const innerH = PANEL_H - M.top - M.bottom;
  const maxNines = Math.max(2, Math.ceil(curve.length > 0 ? curve[curve.length - 1]![0] : 2));
  const { top, step } = niceScale(Math.max(...curve.map(([, us]) => us), 1));
  const x = (n: number) => M.left + (n / maxNines) * innerW;
  const y = (us: number) => M.top + innerH - (us / top) * innerH;
  const yTicks: [number, string][] = [];
  for (let v = 0; v <= top + step / 2; v += step) yTicks.push([y(v), v === 0 ? "0" : formatUs(v)]);
  const xTicks: [number, string][] = [];
  for (let n = 0; n <= maxNines; n++) {
    xTicks.push([x(n), n === 0 ? "0%" : `${(100 - 100 / 10 ** n).toFixed(Math.max(0, n - 2))}%`]);
  }
  const line = curve.length > 0
    ? `<polyline fill="none" stroke="#1f77b4" stroke-width="2" points="${
      curve.map(([n, us]) => `${fmt(x(n))},${fmt(y(us))}`).join(" ")
    }"/>`
    : `<text x="${M.left + 20}" y="${M.top + 40}">no requests completed</text>`;
  return axes(innerW, innerH, yTicks, xTicks) + line;
}

function throughputPanel(r: BenchResult): string {
  const innerW = W - M.left - M.right;
  const innerH = PANEL_H - M.top - M.bottom;
  const per = r.timeline.interval_s;
  // the last interval is usually cut short by the end of the run: its rate is over its real width
  const count = r.timeline.requests.length;
  const width = (
    i: number,
  ) => (i < count - 1 ? per : Math.min(per, Math.max(per / 10, r.duration_s - (count - 1) * per)));
  const reqs = r.timeline.requests.map((n, i) => n / width(i));
  const errs = r.timeline.errors.map((n, i) => n / width(i));
  const n = Math.max(1, reqs.length);
  const { top, step } = niceScale(Math.max(...reqs, ...errs, 1));
  const x = (i: number) => M.left + (i / n) * innerW;
  const y = (v: number) => M.top + innerH - (v / top) * innerH;
  const yTicks: [number, string][] = [];
  for (let v = 0; v <= top + step / 2; v += step) yTicks.push([y(v), `${fmt(v)}/s`]);
  const xTicks: [number, string][] = [];
  const seconds = n * per;
  const tStep = niceScale(seconds).step;
  for (let t = 0; t <= seconds + 1e-9; t += tStep) xTicks.push([M.left + (t / seconds) * innerW, `${fmt(t)}s`]);
  const path = (vals: number[]) =>
    vals.map((v, i) => `${fmt(x(i))},${fmt(y(v))} ${fmt(x(i + 1))},${fmt(y(v))}`).join(" ");
  return axes(innerW, innerH, yTicks, xTicks) +
    `<polyline fill="none" stroke="#2ca02c" stroke-width="2" points="${path(reqs)}"/>` +
    (errs.some((e) => e > 0) ? `<polyline fill="none" stroke="#d62728" stroke-width="2" points="${path(errs)}"/>` : "");
}

/** The chart as a standalone SVG document. `xmlns` is a name, not a link: nothing is loaded from it. */
export function renderSvg(r: BenchResult, buckets: [number, number][], standalone = true): string {
  const curve = percentileCurve(buckets);
  const h = 2 * PANEL_H + 40;
  const title = `switchboard bench ${r.mode} ${r.target} (${r.runtime}): ${r.requests} requests in ${r.duration_s}s, ` +
    `${r.connections} connections` + (r.intended_rate !== null ? `, ${r.intended_rate}/s open loop` : "");
  return (standalone ? `<?xml version="1.0" encoding="UTF-8"?>\n` : "") +
    `<svg ${
      standalone ? 'xmlns="http://www.w3.org/2000/svg" ' : ""
    }width="${W}" height="${h}" viewBox="0 0 ${W} ${h}" ` +
    `font-family="sans-serif" font-size="12">` +
    `<rect width="100%" height="100%" fill="#fff"/>` +
    `<text x="${M.left}" y="22" font-size="14">${esc(title)}</text>` +
    panel("Latency by percentile", 30, latencyPanel(curve)) +
    panel(
      `Throughput (requests per second${r.timeline.errors.some((e) => e > 0) ? "; errors in red" : ""})`,
      30 + PANEL_H,
      throughputPanel(r),
    ) +
    `</svg>\n`;
}

/** An HTML page with the chart inline and the summary figures; no scripts, no external assets. */
export function renderHtml(r: BenchResult, buckets: [number, number][]): string {
  const l = r.latency_us;
  const rows: [string, string][] = [
    ["requests", `${r.requests} (${r.throughput_rps}/s)`],
    ["bytes out / in", `${r.bytes_out} / ${r.bytes_in}`],
    ["latency p50 / p90 / p99 / p99.9 / max", [l.p50, l.p90, l.p99, l.p999, l.max].map(formatUs).join(" / ")],
    ["errors", Object.entries(r.errors).map(([k, v]) => `${k} ${v}`).join(", ")],
  ];
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>switchboard bench ${esc(r.mode)} ${esc(r.target)}</title>
<style>body{font-family:sans-serif;margin:2em}td,th{padding:2px 12px;text-align:left}</style></head>
<body><h1>switchboard bench ${esc(r.mode)} ${esc(r.target)}</h1>
<table>${rows.map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(v)}</td></tr>`).join("")}</table>
${renderSvg(r, buckets, false)}</body></html>
`;
}
