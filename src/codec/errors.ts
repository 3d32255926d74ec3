// Typed codec errors. Every failure a decoder or encoder can report is a CodecError,
// so a connection handler can catch one class and close the connection with a reason.

export type CodecErrorCode = "FRAME_TOO_LARGE" | "MALFORMED_FRAME" | "UNEXPECTED_EOF";

/** Base class of every error a codec throws. `code` is stable; messages are for humans. */
export class CodecError extends Error {
  override name = "CodecError";
  readonly code: CodecErrorCode;

  constructor(code: CodecErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/**
 * A frame is (or would be) larger than the configured limit. Raised from the length
 * field alone, before any body byte is buffered or any frame buffer is allocated.
 * For 8-byte length fields above 2^53 - 1, `size` is the nearest double (inexact).
 */
export class FrameTooLarge extends CodecError {
  override name = "FrameTooLarge";
  readonly size: number;
  readonly limit: number;
  /** True when `size` is a lower bound (e.g. bytes buffered so far without a delimiter). */
  readonly atLeast: boolean;

  constructor(size: number, limit: number, options?: { atLeast?: boolean; what?: string }) {
    const atLeast = options?.atLeast ?? false;
    const what = options?.what ?? "frame";
    super(
      "FRAME_TOO_LARGE",
      `${what} of ${atLeast ? "at least " : ""}${formatSize(size)} bytes exceeds the ${formatSize(limit)}-byte limit`,
    );
    this.size = size;
    this.limit = limit;
    this.atLeast = atLeast;
  }
}

/** The bytes on the wire (or a frame handed to an encoder) break the framing's rules. */
export class MalformedFrame extends CodecError {
  override name = "MalformedFrame";

  constructor(message: string) {
    super("MALFORMED_FRAME", message);
  }
}

/** The peer half-closed in the middle of a frame. `bytesLeft` = bytes of the unfinished frame. */
export class UnexpectedEof extends CodecError {
  override name = "UnexpectedEof";
  readonly bytesLeft: number;

  constructor(bytesLeft: number) {
    super(
      "UNEXPECTED_EOF",
      `stream ended inside a frame: ${bytesLeft} byte${bytesLeft === 1 ? "" : "s"} of an unfinished frame left`,
    );
    this.bytesLeft = bytesLeft;
  }
}

// Integers print exactly (BigInt shows the true value of a huge double, not "1e+21").
function formatSize(n: number): string {
  return Number.isInteger(n) ? BigInt(n).toString() : String(n);
}
