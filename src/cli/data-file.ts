// `serve --data FILE`: the app service's search dictionary, read and checked before the
// server binds anything. Every problem with the file is one line naming the file, exit 1
// (the command line was fine; the file is not), and the size is bounded by --max-data
// before a byte is read, because parsing costs about 15x the file's size in memory.

import type { Host } from "../host.ts";
import { parseJson } from "../json-parse.ts";
import type { Logger } from "../log.ts";
import { formatSize } from "../size.ts";
import { oneLine } from "./failure.ts";

export class DataFileError extends Error {
  override name = "DataFileError";
}

/** The largest --max-data: JSON text must fit in one string, and V8's longest is just under 512 MiB. */
export const MAX_DATA_LIMIT = 256 * 1024 * 1024;
export const DEFAULT_MAX_DATA = "16MiB";
/** From this size on, parsing takes a noticeable time (0.1 s or more): a line says it has started. */
export const PROGRESS_BYTES = 1024 * 1024;

function kindOf(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  return typeof v === "object" ? "an object" : `a ${typeof v}`;
}

/** Read, decode and parse --data FILE; resolves with the JSON object, or throws DataFileError. */
export async function loadDataFile(
  host: Host,
  path: string,
  maxBytes: number,
  log: Logger,
): Promise<Record<string, unknown>> {
  const name = `--data ${JSON.stringify(path)}`;
  const fail = (why: string) => new DataFileError(`${name}: ${oneLine(why)}`);
  const detail = (err: unknown) => err instanceof Error ? err.message : String(err);
  let size: number;
  try {
    size = await host.fileSize(path);
  } catch (err) {
    throw fail(`cannot read: ${detail(err)}`);
  }
  if (size > maxBytes) {
    throw fail(`${size} bytes is more than the --max-data limit of ${formatSize(maxBytes)} (${maxBytes} bytes)`);
  }
  const started = Date.now();
  // Parsing a large file takes seconds: say what is happening before it starts.
  if (size >= PROGRESS_BYTES) log.info("loading data file", { file: path, bytes: size });
  let bytes: Uint8Array;
  try {
    bytes = await host.readFile(path);
  } catch (err) {
    throw fail(`cannot read: ${detail(err)}`);
  }
  if (bytes.length > maxBytes) throw fail(`grew past the --max-data limit of ${formatSize(maxBytes)} while read`);
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw fail("not UTF-8 text");
  }
  let data: unknown;
  try {
    data = parseJson(text);
  } catch (err) {
    // The runtimes' messages differ and may quote the text (newlines included): kept, on one line.
    throw fail(`not valid JSON (${detail(err).slice(0, 200)})`);
  }
  if (typeof data !== "object" || data === null || Array.isArray(data)) {
    throw fail(`expected a JSON object of search term -> result, got ${kindOf(data)}`);
  }
  log.info("data file loaded", {
    file: path,
    bytes: size,
    terms: Object.keys(data).length,
    ms: Date.now() - started,
  });
  return data as Record<string, unknown>;
}
