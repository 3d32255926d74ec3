// The write-stall clock of one connection: how long the oldest byte still queued for the
// peer has been waiting. Progress does not reset it — a peer that takes a few bytes now
// and then (a slow-read attack) stalls us as surely as one that takes none, just as
// trickled input does not reset the frame deadline.
//
// It is sampled by the server's sweep, not per write: each sample that finds new bytes
// queued leaves a mark (bytes written so far, time). Once the kernel has taken fewer
// bytes than a mark counts, a byte written before that sweep is still waiting. A byte
// is dated by the first sweep after it was written, so the age is at most one sweep
// short, never long.

export class SendStall {
  /** Marks as flat pairs (written, time), oldest first from #head; only while bytes are queued. */
  #marks: number[] = [];
  #head = 0;

  /**
   * Record the connection's counters at `now` and return how long (ms) its oldest queued
   * byte has waited; 0 with nothing queued. `written`: bytes handed to the transport in
   * all; `sent`: of those, bytes the kernel has taken.
   */
  sample(written: number, sent: number, now: number): number {
    if (sent >= written) {
      if (this.#marks.length) this.#reset();
      return 0;
    }
    // Marks whose bytes have all been taken are done.
    while (this.#head < this.#marks.length && this.#marks[this.#head]! <= sent) this.#head += 2;
    if (this.#head === this.#marks.length) this.#reset();
    else if (this.#head >= 64 && this.#head * 2 >= this.#marks.length) this.#compact();
    const m = this.#marks;
    if (m.length === 0 || m[m.length - 2]! < written) m.push(written, now);
    return now - m[this.#head + 1]!;
  }

  #reset(): void {
    this.#marks = [];
    this.#head = 0;
  }

  #compact(): void {
    this.#marks = this.#marks.slice(this.#head);
    this.#head = 0;
  }
}
