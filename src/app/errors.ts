// Why an app-protocol message was rejected. Each is a CodecError (so generic code can
// catch one class) carrying a stable `reason` that also goes into the JSON error reply.

import { CodecError } from "../codec/index.ts";

export type AppErrorReason =
  | "header-too-large" // the 2-byte header length is over the header limit
  | "empty-header" // header length 0
  | "header-not-utf8"
  | "header-not-json" // not JSON, or JSON but not an object
  | "missing-header" // a required header field is absent
  | "bad-header" // a required field has the wrong type or value
  | "bad-content-length" // negative, fractional, not a number
  | "content-too-large" // content-length over the content limit
  | "bad-content-encoding" // text/json content in an encoding we do not read
  | "content-not-utf8"
  | "content-not-json" // not JSON, or not a JSON object
  | "truncated"; // the peer half-closed inside a message

const TOO_LARGE: ReadonlySet<AppErrorReason> = new Set(["header-too-large", "content-too-large"]);

export class AppProtocolError extends CodecError {
  override name = "AppProtocolError";
  readonly reason: AppErrorReason;

  constructor(reason: AppErrorReason, message: string) {
    super(
      TOO_LARGE.has(reason) ? "FRAME_TOO_LARGE" : reason === "truncated" ? "UNEXPECTED_EOF" : "MALFORMED_FRAME",
      message,
    );
    this.reason = reason;
  }
}
