// The open-file soft limit, read from Linux's /proc/self/limits text (adapters supply
// the text; this keeps the parsing in one runtime-agnostic place).

/** Parse the "Max open files" soft limit; undefined when absent or "unlimited". */
export function parseOpenFileLimit(procLimits: string): number | undefined {
  const m = /^Max open files\s+(\d+|unlimited)\s+/m.exec(procLimits);
  return m && m[1] !== "unlimited" ? Number(m[1]) : undefined;
}
