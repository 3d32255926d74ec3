// The frames a client received and nobody has taken yet, handed to waiting readers in
// order; `onFull` tells the client to stop and restart reading at a bound.

export class FrameInbox<F> {
  #frames: F[] = [];
  #head = 0;
  #waiters: { resolve(f: F | undefined): void; reject(err: Error): void }[] = [];
  #done = false;
  #error: Error | undefined;
  #full = false;

  constructor(private readonly max: number, private readonly onFull: (full: boolean) => void) {}

  /** Buffered frames reached the bound: reading is paused. */
  get full(): boolean {
    return this.#full;
  }

  /** No frame will come any more and all were taken. */
  get done(): boolean {
    return this.#done && this.#size() === 0;
  }

  push(frame: F): void {
    if (this.#done) return;
    const w = this.#waiters.shift();
    if (w) return w.resolve(frame);
    this.#frames.push(frame);
    this.#check();
  }

  /** The stream ended cleanly: readers get what is buffered, then undefined. */
  finish(): void {
    if (this.#done) return;
    this.#done = true;
    for (const w of this.#waiters.splice(0)) w.resolve(undefined);
  }

  /** The stream failed: readers get what is buffered, then `err`. */
  fail(err: Error): void {
    if (this.#done) return;
    this.#done = true;
    this.#error = err;
    for (const w of this.#waiters.splice(0)) w.reject(err);
  }

  next(): Promise<F | undefined> {
    if (this.#size() > 0) {
      const frame = this.#frames[this.#head]!;
      this.#frames[this.#head++] = undefined as F; // let it be collected
      if (this.#head > 1024 && this.#head * 2 > this.#frames.length) {
        this.#frames = this.#frames.slice(this.#head);
        this.#head = 0;
      }
      this.#check();
      return Promise.resolve(frame);
    }
    if (this.#error) return Promise.reject(this.#error);
    if (this.#done) return Promise.resolve(undefined);
    return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }));
  }

  #size(): number {
    return this.#frames.length - this.#head;
  }

  #check(): void {
    const full = !this.#done && this.#size() >= this.max;
    if (full === this.#full) return;
    this.#full = full;
    this.onFull(full);
  }
}
