// The ordered outbound queue of one connection, for adapters whose runtime hands bytes
// to the kernel without keeping what it did not take (Bun's socket.write, Deno's
// conn.write). Runtime-agnostic: only Uint8Array. The adapter drives it: next() gives
// the piece to write, consume(n) records what the kernel took, in order.

const EMPTY = new Uint8Array(0);

export interface CoalesceLimits {
  /** A head chunk this big is written as it is; smaller ones are merged with their successors. */
  below: number;
  /** A merged piece never exceeds this many bytes. */
  max: number;
}

export class WriteQueue {
  readonly #limits: CoalesceLimits;
  // Chunks not yet taken by the kernel, in order, from #head on.
  #chunks: Uint8Array[] = [];
  #head = 0;
  #bytes = 0;
  /**
   * The head is a buffer next() merged (or what a partial write left of it): it is handed
   * out as it is until consumed, so no byte is ever copied twice (a slow reader taking a
   * little of a merged head at a time made it re-merge, copying the payload over and over).
   */
  #headMerged = false;
  #copied = 0;

  constructor(limits: CoalesceLimits) {
    this.#limits = limits;
  }

  /** Bytes queued and not yet consumed. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Bytes copied into merged pieces so far (each queued byte is copied at most once). */
  get copiedBytes(): number {
    return this.#copied;
  }

  get isEmpty(): boolean {
    return this.#head >= this.#chunks.length;
  }

  /** Queues `bytes` by reference (no copy): the caller must not modify it afterwards. */
  push(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    this.#chunks.push(bytes);
    this.#bytes += bytes.length;
  }

  /**
   * The next piece to hand to the kernel: the oldest chunk, or a run of small chunks
   * merged into one buffer (one syscall instead of many). It stays at the head of the
   * queue until consume() is told how much of it the kernel took. Queue must not be empty.
   */
  next(): Uint8Array {
    const q = this.#chunks;
    const first = q[this.#head]!;
    if (this.#headMerged || first.length >= this.#limits.below || this.#head + 1 >= q.length) return first;
    let total = 0;
    let end = this.#head;
    while (end < q.length && total + q[end]!.length <= this.#limits.max) total += q[end++]!.length;
    if (end - this.#head < 2) return first;
    const merged = new Uint8Array(total);
    let at = 0;
    for (let i = this.#head; i < end; i++) {
      merged.set(q[i]!, at);
      at += q[i]!.length;
      q[i] = EMPTY; // drop the reference to the merged part
    }
    this.#head = end - 1;
    q[this.#head] = merged;
    this.#headMerged = true;
    this.#copied += total;
    return merged;
  }

  /** The kernel took the first `n` bytes of the piece next() returned. */
  consume(n: number): void {
    if (n <= 0 || this.isEmpty) return;
    const q = this.#chunks;
    const piece = q[this.#head]!;
    this.#bytes -= Math.min(n, piece.length);
    if (n < piece.length) {
      q[this.#head] = piece.subarray(n);
      return;
    }
    q[this.#head++] = EMPTY; // let it be collected
    this.#headMerged = false;
    if (this.#head === q.length) {
      this.#chunks = [];
      this.#head = 0;
    } else if (this.#head >= 1024 && this.#head * 2 >= q.length) {
      this.#chunks = q.slice(this.#head);
      this.#head = 0;
    }
  }

  /** Drop everything queued (abort, or the socket is gone). */
  clear(): void {
    this.#chunks = [];
    this.#head = 0;
    this.#bytes = 0;
    this.#headMerged = false;
  }
}
