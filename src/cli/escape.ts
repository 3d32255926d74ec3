// Making untrusted bytes safe to print: a server's reply must not drive the user's
// terminal (escape sequences can retitle, recolour or rewrite it).

/** Printable ASCII as is, everything else as \xNN; cut at `max` characters. */
export function escapeBytes(bytes: Uint8Array, max = 400): string {
  let s = "";
  for (const b of bytes.subarray(0, max)) {
    s += b >= 0x20 && b < 0x7f && b !== 0x5c
      ? String.fromCharCode(b)
      : b === 0x5c
      ? "\\\\"
      : `\\x${b.toString(16).padStart(2, "0")}`;
  }
  return bytes.length > max ? s + `... (${bytes.length - max} more bytes)` : s;
}

// C0 controls except tab and newline, DEL, and the C1 controls (U+0080..U+009F, which some
// terminals obey as ESC sequences).
// deno-lint-ignore no-control-regex -- matching control characters is the point
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/g;

/** Text with its control characters written as \xNN; tabs and newlines kept. */
export function escapeControls(text: string): string {
  return text.replace(CONTROL, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`);
}
