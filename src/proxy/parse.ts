// Reading a PROXY header (v1 or v2, told apart by the first byte) from a stream that
// may deliver it in any pieces: ProxyHeaderDecoder buffers only until the header is
// complete and hands back the bytes after it untouched (they belong to the service).

import { ProxyHeaderError } from "./errors.ts";
import type { ProxyHeader } from "./header.ts";
import { parseV1, V1_PREFIX } from "./v1.ts";
import { parseV2, V2_DEFAULT_LIMIT, V2_MAX_LENGTH, V2_SIGNATURE } from "./v2.ts";

/** Parse a header at the start of `buf` (bytes `[0, n)`): the header, undefined for "need more", or a ProxyHeaderError. */
export function parseProxyHeader(buf: Uint8Array, n = buf.length, v2Limit = V2_DEFAULT_LIMIT): ProxyHeader | undefined {
  if (n === 0) return undefined;
  if (buf[0] === V1_PREFIX[0]) return parseV1(buf, n);
  if (buf[0] === V2_SIGNATURE[0]) return parseV2(buf, n, v2Limit);
  throw new ProxyHeaderError("bad-signature", 'neither a v1 ("PROXY ") nor a v2 signature');
}

export interface Decoded {
  header: ProxyHeader;
  /** Bytes that came after the header in the same input (possibly empty): the service's. */
  rest: Uint8Array;
}

/** Incremental: push() chunks until it returns the header; end() says EOF came first. */
export class ProxyHeaderDecoder {
  #buf = new Uint8Array(0);
  #n = 0;
  #done = false;

  /** `v2Limit`: the largest v2 header taken (default 4 KiB; at most 65 551, what the length field can say). */
  constructor(private readonly v2Limit = V2_DEFAULT_LIMIT) {}

  /** The header and what followed it, or undefined while incomplete. Throws ProxyHeaderError. */
  push(chunk: Uint8Array): Decoded | undefined {
    if (this.#done) throw new Error("ProxyHeaderDecoder: header already decoded");
    if (this.#n === 0) {
      // Common case: the whole header arrives in the first chunk: no copy at all.
      const header = parseProxyHeader(chunk, chunk.length, this.v2Limit);
      if (header) return this.#finish(header, chunk.subarray(header.length));
      this.#append(chunk);
      return undefined;
    }
    const before = this.#n;
    this.#append(chunk);
    const header = parseProxyHeader(this.#buf, this.#n, this.v2Limit);
    if (!header) return undefined;
    // The header ends inside `chunk`: the rest is a view of it, never a copy. The TLVs are
    // views of the old buffer, which they keep alive.
    this.#buf = new Uint8Array(0);
    return this.#finish(header, chunk.subarray(header.length - before));
  }

  /** The peer closed before a complete header: always an error. */
  end(): never {
    throw new ProxyHeaderError("truncated", `connection ended after ${this.#n} byte(s), before a complete header`);
  }

  #finish(header: ProxyHeader, rest: Uint8Array): Decoded {
    this.#done = true;
    return { header, rest };
  }

  #append(chunk: Uint8Array): void {
    const need = this.#n + chunk.length;
    // Bounded: parsing refuses or completes once the v2 limit (or v1's 107 bytes) is in, so
    // this holds at most that plus one chunk.
    if (need > this.#buf.length) {
      const grown = new Uint8Array(Math.max(need, 2 * this.#buf.length, 128));
      grown.set(this.#buf.subarray(0, this.#n));
      this.#buf = grown;
    }
    this.#buf.set(chunk, this.#n);
    this.#n = need;
  }
}

export { V2_DEFAULT_LIMIT, V2_MAX_LENGTH };
