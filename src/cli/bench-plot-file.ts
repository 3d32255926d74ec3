// `bench --plot FILE`: SVG or HTML by the file's extension, written through the Host.

import type { Host } from "../host.ts";
import { renderHtml, renderSvg } from "../bench/plot.ts";
import type { BenchResult } from "../bench/report.ts";
import type { BenchStats } from "../bench/stats.ts";

export async function writePlot(host: Host, path: string, result: BenchResult, stats: BenchStats): Promise<void> {
  const buckets = stats.latency.buckets();
  const text = /\.svg$/i.test(path) ? renderSvg(result, buckets) : renderHtml(result, buckets);
  if (!host.writeFile) throw new Error(`--plot: this runtime's host cannot write files`);
  try {
    await host.writeFile(path, new TextEncoder().encode(text));
  } catch (err) {
    throw new Error(`--plot: cannot write ${path}: ${err instanceof Error ? err.message : String(err)}`);
  }
}
