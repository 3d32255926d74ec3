// The open-loop schedule of `bench --rate R`: request i is due at start + i/R, whatever
// happened to the requests before it. Requests due while every connection is busy wait in
// a backlog that keeps their intended send time, and latency is measured from that time,
// so a stalled server shows up as the latency it caused its users (no coordinated
// omission: the load generator does not politely wait for the server and then forget it).

export class RateSchedule {
  readonly #start: number;
  readonly #intervalMs: number;
  #issued = 0;
  // backlog of intended send times: a growable ring of numbers, no per-request objects
  #ring = new Float64Array(1024);
  #head = 0;
  #size = 0;

  /** `rate` requests per second, the first due at `startMs` (performance.now() time). */
  constructor(rate: number, startMs: number) {
    if (!(rate > 0) || !Number.isFinite(rate)) throw new Error(`rate must be a positive number, not ${rate}`);
    this.#start = startMs;
    this.#intervalMs = 1000 / rate;
  }

  /** The intended send time of request number i (0-based). */
  intendedAt(i: number): number {
    return this.#start + i * this.#intervalMs;
  }

  /** Requests scheduled so far (sent or waiting). */
  get issued(): number {
    return this.#issued;
  }

  /** Move every request due by `now` into the backlog; returns how many were added. */
  advance(now: number): number {
    if (now < this.#start) return 0;
    const due = Math.floor((now - this.#start) / this.#intervalMs) + 1;
    const added = due - this.#issued;
    for (let i = this.#issued; i < due; i++) this.#push(this.intendedAt(i));
    this.#issued = Math.max(this.#issued, due);
    return Math.max(0, added);
  }

  /** Milliseconds from `now` until the next request is due (0 if one is due already). */
  untilNext(now: number): number {
    return Math.max(0, this.intendedAt(this.#issued) - now);
  }

  /** Requests due but not yet taken. */
  get backlog(): number {
    return this.#size;
  }

  /** The intended time of the oldest waiting request, removing it; undefined when none waits. */
  take(): number | undefined {
    if (this.#size === 0) return undefined;
    const t = this.#ring[this.#head]!;
    this.#head = (this.#head + 1) % this.#ring.length;
    this.#size--;
    return t;
  }

  /** Forget every waiting request (at the end of the run); returns how many there were. */
  dropBacklog(): number {
    const n = this.#size;
    this.#size = 0;
    this.#head = 0;
    return n;
  }

  #push(t: number): void {
    if (this.#size === this.#ring.length) {
      const bigger = new Float64Array(this.#ring.length * 2);
      for (let i = 0; i < this.#size; i++) bigger[i] = this.#ring[(this.#head + i) % this.#ring.length]!;
      this.#ring = bigger;
      this.#head = 0;
    }
    this.#ring[(this.#head + this.#size) % this.#ring.length] = t;
    this.#size++;
  }
}
