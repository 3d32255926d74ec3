// ByteQueue: the received-but-not-yet-decoded bytes of one connection.
//
// Chunks are kept as they arrived (push takes ownership, no copy). Consumption moves an
// offset into the head chunk and a head index into the chunk list, so taking a frame is
// O(1) amortized: no array shifting per frame and no re-copying of the leftover.
// A frame that lies inside one chunk comes out as a zero-copy subarray; only frames that
// straddle chunks are copied, once. Unless the runtime says small copies are cheaper
// (`copyBelow`, from Transport.copyFramesBelow): on Bun, JavaScriptCore keeps a small fresh
// array's bytes inline, and its first view moves them into a buffer of their own, which
// costs more than copying a few hundred bytes (measured: 3 µs per length-prefixed echo).

const EMPTY = new Uint8Array(0);
const TWO_POW_32 = 0x1_0000_0000;

export interface ByteQueueOptions {
  /**
   * Frames shorter than this taken from within one chunk are copied rather than viewed
   * (a performance hint; default 0: always views). Chunks must then be Uint8Arrays, whose
   * `slice` copies (a Node Buffer's `slice` is a view, which is still correct, only no faster).
   */
  copyBelow?: number;
}

export class ByteQueue {
  readonly #copyBelow: number;
  #chunks: Uint8Array[] = [];
  #head = 0; // index in #chunks of the first live chunk
  #offset = 0; // bytes already consumed from the head chunk
  #length = 0;
  // Where the last lookup landed: chunk index and the queue index of its first live byte.
  // Decoders scan forward (a line trickling in a byte per chunk), so starting from here
  // instead of the head keeps a scan at position p from walking all chunks before p.
  #hintIndex = 0;
  #hintBase = 0;

  constructor(options: ByteQueueOptions = {}) {
    this.#copyBelow = options.copyBelow ?? 0;
  }

  /** Bytes currently buffered. */
  get length(): number {
    return this.#length;
  }

  /** Number of chunks currently holding live bytes (for tests and diagnostics). */
  get chunkCount(): number {
    return this.#chunks.length - this.#head;
  }

  /** Appends a chunk. The queue takes ownership: the caller must not modify it afterwards. */
  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.#chunks.push(chunk);
    this.#length += chunk.length;
  }

  /** Drops every buffered byte. */
  clear(): void {
    this.#chunks = [];
    this.#head = 0;
    this.#offset = 0;
    this.#length = 0;
    this.#hintIndex = 0;
    this.#hintBase = 0;
  }

  /** The byte at index i (0 = next unread byte). Throws RangeError if i is out of range. */
  byteAt(i: number): number {
    this.#checkRange(i, 1);
    const ci = this.#locate(i);
    return this.#chunks[ci]![this.#localStart(ci) + (i - this.#hintBase)]!;
  }

  /**
   * Index (relative to the next unread byte) of the first occurrence of `seq` that starts
   * at or after `from`, or -1. Matches may straddle chunk boundaries. Each chunk is
   * searched with the native Uint8Array.indexOf for the first byte of `seq`; only the
   * remaining bytes of a candidate are compared by hand.
   */
  indexOf(seq: Uint8Array, from = 0): number {
    const m = seq.length;
    from = from > 0 ? Math.floor(from) : 0;
    if (m === 0) return from <= this.#length ? from : -1;
    if (from + m > this.#length) return -1;
    const first = seq[0]!;
    const chunks = this.#chunks;
    let ci = this.#locate(from);
    let base = this.#hintBase; // queue index of the first live byte of chunk ci
    for (; ci < chunks.length; ci++) {
      const chunk = chunks[ci]!;
      const start = this.#localStart(ci);
      let pos = start + Math.max(0, from - base);
      for (;;) {
        const hit = chunk.indexOf(first, pos);
        if (hit < 0) break;
        const qi = base + (hit - start);
        if (qi + m > this.#length) return -1;
        if (m === 1 || this.#matchesAt(seq, ci, hit + 1)) return qi;
        pos = hit + 1;
      }
      base += chunk.length - start;
    }
    return -1;
  }

  /**
   * Removes and returns the next n bytes. Zero-copy (a subarray of the received chunk)
   * when they lie in one chunk (or a copy, under `copyBelow`); otherwise copied once into
   * a new array.
   */
  take(n: number): Uint8Array {
    this.#checkRange(0, n);
    if (n === 0) return EMPTY.slice();
    const head = this.#chunks[this.#head]!;
    const avail = head.length - this.#offset;
    if (n <= avail) {
      const from = this.#offset;
      const out = from === 0 && n === head.length
        ? head
        : n < this.#copyBelow
        ? head.slice(from, from + n)
        : head.subarray(from, from + n);
      this.#advance(n);
      return out;
    }
    const out = new Uint8Array(n);
    let written = 0;
    while (written < n) {
      const chunk = this.#chunks[this.#head]!;
      const k = Math.min(chunk.length - this.#offset, n - written);
      out.set(chunk.subarray(this.#offset, this.#offset + k), written);
      written += k;
      this.#advance(k);
    }
    return out;
  }

  /**
   * Returns the next n bytes without consuming them: zero-copy when they lie in one
   * chunk, otherwise a copy. The result must be treated as read-only.
   */
  peek(n: number): Uint8Array {
    this.#checkRange(0, n);
    if (n === 0) return EMPTY.slice();
    const head = this.#chunks[this.#head]!;
    if (n <= head.length - this.#offset) return head.subarray(this.#offset, this.#offset + n);
    const out = new Uint8Array(n);
    let written = 0;
    for (let ci = this.#head; written < n; ci++) {
      const chunk = this.#chunks[ci]!;
      const start = ci === this.#head ? this.#offset : 0;
      const k = Math.min(chunk.length - start, n - written);
      out.set(chunk.subarray(start, start + k), written);
      written += k;
    }
    return out;
  }

  /** Discards the next n bytes. */
  skip(n: number): void {
    this.#checkRange(0, n);
    let left = n;
    while (left > 0) {
      const k = Math.min(this.#chunks[this.#head]!.length - this.#offset, left);
      this.#advance(k);
      left -= k;
    }
  }

  /**
   * Reads an unsigned big-endian integer of `width` bytes at `offset` without consuming.
   * For width 8 the exact value is returned when it is at most Number.MAX_SAFE_INTEGER;
   * above that the nearest double is returned, which is always > MAX_SAFE_INTEGER, so
   * `!Number.isSafeInteger(v)` (or simply `v > limit`) signals "too large" with no
   * allocation.
   */
  readUint(offset: number, width: 1 | 2 | 4 | 8): number {
    this.#checkRange(offset, width);
    let ci = this.#locate(offset);
    let chunk = this.#chunks[ci]!;
    let pos = this.#localStart(ci) + (offset - this.#hintBase);
    // Fast path: the whole field is in one chunk.
    if (pos + width <= chunk.length) {
      if (width === 1) return chunk[pos]!;
      if (width === 2) return (chunk[pos]! << 8) | chunk[pos + 1]!;
      const hi = word(chunk[pos]!, chunk[pos + 1]!, chunk[pos + 2]!, chunk[pos + 3]!);
      if (width === 4) return hi;
      return combine(hi, word(chunk[pos + 4]!, chunk[pos + 5]!, chunk[pos + 6]!, chunk[pos + 7]!));
    }
    // Straddles chunks: at most 8 bytes, assembled one by one.
    let hi = 0;
    let lo = 0;
    for (let k = 0; k < width; k++) {
      while (pos >= chunk.length) {
        pos -= chunk.length;
        chunk = this.#chunks[++ci]!;
      }
      const b = chunk[pos++]!;
      if (width === 8 && k < 4) hi = hi * 256 + b;
      else lo = lo * 256 + b;
    }
    return width === 8 ? combine(hi, lo) : lo;
  }

  // Compares seq[1..] with the bytes starting at chunk ci, local position pos.
  #matchesAt(seq: Uint8Array, ci: number, pos: number): boolean {
    const chunks = this.#chunks;
    let chunk = chunks[ci]!;
    for (let k = 1; k < seq.length; k++) {
      while (pos >= chunk.length) {
        pos -= chunk.length;
        chunk = chunks[++ci]!;
      }
      if (chunk[pos++] !== seq[k]) return false;
    }
    return true;
  }

  // Consumes k bytes, all within the head chunk.
  #advance(k: number): void {
    this.#offset += k;
    this.#length -= k;
    // Queue indexes shift down by k; the head chunk's live part still starts at 0.
    if (this.#hintIndex > this.#head) this.#hintBase -= k;
    else this.#hintBase = 0;
    const chunks = this.#chunks;
    if (this.#offset < chunks[this.#head]!.length) return;
    // Head chunk fully consumed: release it so its memory can be collected.
    chunks[this.#head] = EMPTY;
    this.#head++;
    this.#offset = 0;
    if (this.#hintIndex < this.#head) {
      this.#hintIndex = this.#head;
      this.#hintBase = 0;
    }
    if (this.#head === chunks.length) {
      // Common case: everything consumed. Reset without reallocating.
      chunks.length = 0;
      this.#head = 0;
      this.#hintIndex = 0;
    } else if (this.#head >= 64 && this.#head * 2 >= chunks.length) {
      // Many dead slots: compact (amortized O(1) per consumed chunk).
      this.#chunks = chunks.slice(this.#head);
      this.#hintIndex -= this.#head;
      this.#head = 0;
    }
  }

  // Index of the chunk holding queue index pos (< length); leaves #hintIndex/#hintBase on it.
  #locate(pos: number): number {
    const chunks = this.#chunks;
    let ci = this.#head;
    let base = 0;
    if (this.#hintBase <= pos && this.#hintIndex >= this.#head) {
      ci = this.#hintIndex;
      base = this.#hintBase;
    }
    for (;;) {
      const live = chunks[ci]!.length - this.#localStart(ci);
      if (pos < base + live) break;
      base += live;
      ci++;
    }
    this.#hintIndex = ci;
    this.#hintBase = base;
    return ci;
  }

  // Offset of the first live byte within chunk ci.
  #localStart(ci: number): number {
    return ci === this.#head ? this.#offset : 0;
  }

  #checkRange(offset: number, n: number): void {
    if (!Number.isInteger(offset) || !Number.isInteger(n) || offset < 0 || n < 0 || offset + n > this.#length) {
      throw new RangeError(`ByteQueue: range [${offset}, ${offset + n}) is outside the ${this.#length} buffered bytes`);
    }
  }
}

function word(a: number, b: number, c: number, d: number): number {
  return a * 0x100_0000 + ((b << 16) | (c << 8) | d);
}

function combine(hi: number, lo: number): number {
  // Exact while hi < 2^21; from there on the result is >= 2^53, i.e. not a safe integer,
  // which is the "too large" signal (rounding is fine: only the comparison matters).
  return hi * TWO_POW_32 + lo;
}
