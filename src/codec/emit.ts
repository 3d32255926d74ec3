// How encoders hand a header/trailer plus payload to `out`.
// Small frames are coalesced into one array (one write beats two syscalls); large
// payloads go out as-is, zero-copy, next to their header or trailer.

/** Payloads up to this size are copied next to their header/trailer. */
export const COALESCE_LIMIT = 1024;

export function emitWithHeader(out: (bytes: Uint8Array) => void, header: Uint8Array, payload: Uint8Array): void {
  if (payload.length > COALESCE_LIMIT) {
    out(header);
    out(payload);
    return;
  }
  const bytes = new Uint8Array(header.length + payload.length);
  bytes.set(header, 0);
  bytes.set(payload, header.length);
  out(bytes);
}

export function emitWithTrailer(out: (bytes: Uint8Array) => void, payload: Uint8Array, trailer: Uint8Array): void {
  if (payload.length > COALESCE_LIMIT) {
    out(payload);
    // A copy: the receiver may hold on to it, and the codec's own delimiter must stay private.
    out(trailer.slice());
    return;
  }
  const bytes = new Uint8Array(payload.length + trailer.length);
  bytes.set(payload, 0);
  bytes.set(trailer, payload.length);
  out(bytes);
}
