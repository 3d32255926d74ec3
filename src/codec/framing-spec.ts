// The CLI's --framing flag: a short text spec naming one of the byte-codecs.
//
//   line | crlf | fixed:N | lp:u8 | lp:u16 | lp:u32 | lp:u64 | lp:asciiN | delim:HEX | eof
//
// Names are case-insensitive. maxFrame (default 1 MiB) is the limit for every framing.

import type { Codec } from "./codec.ts";
import { delimited } from "./delimited.ts";
import { fixedLength } from "./fixed.ts";
import { asciiLengthPrefixed, lengthPrefixed } from "./length-prefixed.ts";
import type { LengthWidth } from "./length-prefixed.ts";
import { checkCount, DEFAULT_MAX_FRAME } from "./limits.ts";
import { readToEof } from "./read-to-eof.ts";

export interface FramingOptions {
  /** Maximum frame (payload) bytes. Default 1 MiB. */
  maxFrame?: number;
}

/** Every accepted spec form with a one-line description, for help text. */
export const FRAMING_SPECS: readonly { readonly spec: string; readonly description: string }[] = [
  { spec: "line", description: 'frames end with "\\n" (LF)' },
  { spec: "crlf", description: 'frames end with "\\r\\n" (CR LF)' },
  { spec: "fixed:N", description: "every frame is exactly N bytes" },
  { spec: "lp:u8", description: "1-byte big-endian length, then the payload" },
  { spec: "lp:u16", description: "2-byte big-endian length, then the payload" },
  { spec: "lp:u32", description: "4-byte big-endian length, then the payload" },
  { spec: "lp:u64", description: "8-byte big-endian length, then the payload" },
  { spec: "lp:asciiN", description: "N zero-padded ASCII decimal digits (1..20), then the payload; e.g. lp:ascii5" },
  { spec: "delim:HEX", description: "frames end with the given bytes in hex; e.g. delim:00 or delim:0d0a" },
  { spec: "eof", description: "everything up to the peer's half-close is one frame" },
];

/** The spec forms alone, e.g. for "expected one of ..." messages. */
export const FRAMING_NAMES: readonly string[] = FRAMING_SPECS.map((s) => s.spec);

const EXPECTED = "expected line, crlf, fixed:N, lp:u8|u16|u32|u64|asciiN, delim:HEX or eof";
const WIDTHS: Record<string, LengthWidth> = { u8: 1, u16: 2, u32: 4, u64: 8 };

/**
 * Validates `spec` once and returns a factory of fresh codecs (decoders keep
 * per-connection state, so each connection needs its own). Throws an Error on a bad spec.
 */
export function framingFactory(spec: string, options: FramingOptions = {}): () => Codec<Uint8Array> {
  const maxFrame = checkCount("maxFrame", options.maxFrame ?? DEFAULT_MAX_FRAME);
  const s = spec.trim().toLowerCase();
  const colon = s.indexOf(":");
  const kind = colon < 0 ? s : s.slice(0, colon);
  const arg = colon < 0 ? undefined : s.slice(colon + 1);
  const bad = (why: string) => new Error(`bad framing "${spec}": ${why}`);
  const needArg = (form: string) => {
    if (!arg) throw bad(`missing argument; expected ${form}`);
    return arg;
  };
  const noArg = () => {
    if (arg !== undefined) throw bad(`"${kind}" takes no argument`);
  };

  switch (kind) {
    case "line":
      noArg();
      return () => delimited({ delimiter: "\n", maxLength: maxFrame });
    case "crlf":
      noArg();
      return () => delimited({ delimiter: "\r\n", maxLength: maxFrame });
    case "eof":
      noArg();
      return () => readToEof({ maxLength: maxFrame });
    case "fixed": {
      const a = needArg("fixed:N");
      const n = /^[0-9]{1,16}$/.test(a) ? Number(a) : NaN;
      if (!(n >= 1 && n <= maxFrame)) throw bad(`N must be an integer from 1 to ${maxFrame} (the max frame size)`);
      return () => fixedLength(n);
    }
    case "lp": {
      const a = needArg("lp:u8, lp:u16, lp:u32, lp:u64 or lp:asciiN");
      const width = Object.hasOwn(WIDTHS, a) ? WIDTHS[a] : undefined;
      if (width !== undefined) return () => lengthPrefixed({ width, maxFrame });
      const m = /^ascii([0-9]{1,2})$/.exec(a);
      if (m) {
        const digits = Number(m[1]);
        if (digits < 1 || digits > 20) throw bad("lp:asciiN needs N from 1 to 20");
        return () => asciiLengthPrefixed({ digits, maxFrame });
      }
      throw bad("expected lp:u8, lp:u16, lp:u32, lp:u64 or lp:asciiN (N = 1..20 digits)");
    }
    case "delim": {
      const raw = needArg("delim:HEX, e.g. delim:0d0a");
      const h = raw.startsWith("0x") ? raw.slice(2) : raw;
      if (h.length === 0 || h.length % 2 !== 0 || !/^[0-9a-f]+$/.test(h)) {
        throw bad("HEX must be a non-empty, even number of hex digits, e.g. delim:0d0a");
      }
      const delimiter = new Uint8Array(h.length / 2);
      for (let i = 0; i < delimiter.length; i++) delimiter[i] = parseInt(h.slice(2 * i, 2 * i + 2), 16);
      return () => delimited({ delimiter, maxLength: maxFrame });
    }
    default:
      throw new Error(`unknown framing "${spec}"; ${EXPECTED}`);
  }
}

/** Parses a --framing spec into a fresh codec (for one connection). Throws an Error on a bad spec. */
export function parseFraming(spec: string, options: FramingOptions = {}): Codec<Uint8Array> {
  return framingFactory(spec, options)();
}
