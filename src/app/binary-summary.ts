// What the app server answers to a binary request: its length and SHA-256, as ASCII
// ("length=13 sha256=<64 hex digits>"), so a client can check that every byte arrived.

import { sha256Hex } from "./sha256.ts";

export interface BinarySummary {
  length: number;
  sha256: string;
}

const encoder = new TextEncoder();
const SUMMARY = /^length=(\d+) sha256=([0-9a-f]{64})$/;

export function summarize(content: Uint8Array): BinarySummary {
  return { length: content.length, sha256: sha256Hex(content) };
}

export function formatSummary(s: BinarySummary): Uint8Array {
  return encoder.encode(`length=${s.length} sha256=${s.sha256}`);
}

/** Reads a summary back; undefined when `content` is not one (e.g. another server's reply). */
export function parseSummary(content: Uint8Array): BinarySummary | undefined {
  if (content.length > 100) return undefined;
  const m = SUMMARY.exec(new TextDecoder().decode(content));
  return m ? { length: Number(m[1]), sha256: m[2]! } : undefined;
}
