// The one error the PROXY header codec throws: a refusal with a stable reason code,
// so the server can log "which source, which reason" and close.

export type ProxyHeaderReason =
  | "bad-signature"
  | "too-long"
  | "bad-syntax"
  | "bad-address"
  | "bad-version"
  | "bad-command"
  | "bad-family"
  | "bad-length"
  | "tlv-overrun"
  | "bad-tlv"
  | "bad-crc"
  | "truncated";

/** A PROXY header (v1 or v2) that is not valid per proxy-protocol.txt. */
export class ProxyHeaderError extends Error {
  override name = "ProxyHeaderError";
  constructor(readonly reason: ProxyHeaderReason, message: string) {
    super(`bad PROXY header (${reason}): ${message}`);
  }
}
