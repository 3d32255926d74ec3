// An HDR-style latency histogram: log-linear buckets, fixed memory, about 3 significant
// digits. Values are whole nanoseconds. Below 2048 every value has its own bucket; above,
// each power of two is split into 1024 equal buckets, so a bucket is at most 1/1024 of
// its values wide (relative error < 0.1%). Recording is one index computation and one
// increment: no allocation, whatever the number of samples.

const SUB_BITS = 11; // 2048 exact buckets, then 1024 per power of two
const SUB_COUNT = 1 << SUB_BITS;
const HALF = SUB_COUNT >> 1;
/** Values up to 2^MAX_BITS - 1 ns (about 2.4 hours) are tracked; larger ones are clamped. */
const MAX_BITS = 43;
const MAX_VALUE = 2 ** MAX_BITS - 1;
const BUCKETS = SUB_COUNT + (MAX_BITS - SUB_BITS) * HALF;

/** The bucket of a non-negative integer value. */
function indexOf(v: number): number {
  if (v < SUB_COUNT) return v;
  // shift so that v >> shift lies in [1024, 2047]
  const shift = Math.floor(Math.log2(v)) - (SUB_BITS - 1);
  let sub = Math.floor(v / 2 ** shift);
  // log2 of values just under a power of two can round up: correct by one step
  let s = shift;
  if (sub < HALF) {
    s -= 1;
    sub = Math.floor(v / 2 ** s);
  } else if (sub >= SUB_COUNT) {
    s += 1;
    sub = Math.floor(v / 2 ** s);
  }
  return SUB_COUNT + (s - 1) * HALF + (sub - HALF);
}

/** The smallest and largest value that fall in bucket `i`. */
function bucketRange(i: number): [number, number] {
  if (i < SUB_COUNT) return [i, i];
  const s = Math.floor((i - SUB_COUNT) / HALF) + 1;
  const sub = ((i - SUB_COUNT) % HALF) + HALF;
  const low = sub * 2 ** s;
  return [low, low + 2 ** s - 1];
}

export class Histogram {
  #counts = new Float64Array(BUCKETS);
  #count = 0;
  #sum = 0;
  #min = Infinity;
  #max = 0;

  /** Record one value in nanoseconds (rounded; negative counts as 0). */
  record(ns: number): void {
    let v = Math.round(ns);
    if (!(v > 0)) v = 0;
    else if (v > MAX_VALUE) v = MAX_VALUE;
    this.#counts[indexOf(v)]!++;
    this.#count++;
    this.#sum += v;
    if (v < this.#min) this.#min = v;
    if (v > this.#max) this.#max = v;
  }

  get count(): number {
    return this.#count;
  }
  get min(): number {
    return this.#count === 0 ? 0 : this.#min;
  }
  get max(): number {
    return this.#max;
  }
  get mean(): number {
    return this.#count === 0 ? 0 : this.#sum / this.#count;
  }

  /**
   * Nearest rank, as src/latency.ts: the smallest recorded value with at least p% of the
   * samples at or below it, given as the top of its bucket (never above the max seen), so
   * it is at least the exact percentile and at most 1/1024 above it. 0 when empty.
   */
  percentile(p: number): number {
    if (this.#count === 0) return 0;
    const rank = Math.min(this.#count, Math.max(1, Math.ceil((p / 100) * this.#count)));
    let seen = 0;
    const counts = this.#counts;
    for (let i = 0; i < BUCKETS; i++) {
      seen += counts[i]!;
      if (seen >= rank) return Math.min(bucketRange(i)[1], this.#max);
    }
    return this.#max;
  }

  /** Add every sample of `other` to this one. */
  add(other: Histogram): void {
    const a = this.#counts;
    const b = other.#counts;
    for (let i = 0; i < BUCKETS; i++) a[i]! += b[i]!;
    this.#count += other.#count;
    this.#sum += other.#sum;
    if (other.#count > 0) {
      this.#min = Math.min(this.#min, other.#min);
      this.#max = Math.max(this.#max, other.#max);
    }
  }

  reset(): void {
    this.#counts.fill(0);
    this.#count = 0;
    this.#sum = 0;
    this.#min = Infinity;
    this.#max = 0;
  }

  /** Non-empty buckets as [upper value, count], ascending: the distribution, for plots. */
  buckets(): [number, number][] {
    const out: [number, number][] = [];
    const counts = this.#counts;
    for (let i = 0; i < BUCKETS; i++) if (counts[i]! > 0) out.push([bucketRange(i)[1], counts[i]!]);
    return out;
  }
}
