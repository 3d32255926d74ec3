// Admission control at accept time: global and per-source connection caps and a
// per-source rate of new connections (a token bucket per source). A source is a
// sourceKey() (source.ts); `undefined` (unix peers, and every peer while no per-source
// limit is set) is subject to the global cap only.

import type { Addr } from "../transport.ts";
import type { PolicyReason } from "./close-reasons.ts";
import type { Limits } from "./options.ts";
import { sourceKey } from "./source.ts";

interface Bucket {
  tokens: number;
  refilledAt: number;
}

/** Fewer connections than this at EMFILE: something else holds the descriptors; capping would not help. */
const MIN_CONNS_TO_LEARN = 16;

export class Admission {
  #total = 0;
  /** A global cap learned from EMFILE, when the configured one proved too high. */
  #learnedMax = Infinity;
  readonly #perIp = new Map<string, number>();
  readonly #buckets = new Map<string, Bucket>();

  /** Whether any per-source limit is on: else connections are counted only in total. */
  readonly #perSource: boolean;

  constructor(private readonly limits: Pick<Limits, "maxConns" | "maxConnsPerIp" | "maxRatePerIp">) {
    this.#perSource = limits.maxConnsPerIp > 0 || limits.maxRatePerIp > 0;
  }

  /**
   * The source a peer is counted under (sourceKey), or undefined when nothing is counted per
   * source: unix peers, and every peer while no per-source limit is set (no key to work out
   * per accept then).
   */
  sourceOf(remote: Addr): string | undefined {
    return this.#perSource ? sourceKey(remote) : undefined;
  }

  get total(): number {
    return this.#total;
  }

  /** The global cap in force: the configured one (0 = none), or the learned one if lower. */
  get maxConns(): number {
    return Math.min(this.limits.maxConns > 0 ? this.limits.maxConns : Infinity, this.#learnedMax);
  }

  /**
   * accept() failed with EMFILE: the descriptor limit is lower than maxConns assumed
   * (e.g. the runtime could not tell it). Cap connections below what is open now, so
   * descriptors stay free to accept and refuse the excess at once instead of leaving it
   * in the kernel's backlog. Returns the new cap, or undefined if nothing changed.
   */
  descriptorsExhausted(): number | undefined {
    if (this.#total < MIN_CONNS_TO_LEARN) return undefined;
    const cap = this.#total - Math.max(8, Math.ceil(this.#total / 10));
    if (cap >= this.maxConns) return undefined;
    this.#learnedMax = cap;
    return cap;
  }

  /** Admit a new connection from source `ip`, or say which limit refuses it. */
  admit(ip: string | undefined, now: number): PolicyReason | undefined {
    const { maxConnsPerIp, maxRatePerIp } = this.limits;
    if (this.#total >= this.maxConns) return "max-conns";
    if (ip === undefined) {
      this.#total++;
      return undefined;
    }
    const fromIp = this.#perIp.get(ip) ?? 0;
    if (maxConnsPerIp > 0 && fromIp >= maxConnsPerIp) return "max-conns-per-ip";
    if (maxRatePerIp > 0 && !this.#takeToken(ip, now, maxRatePerIp)) return "max-rate-per-ip";
    this.#total++;
    this.#perIp.set(ip, fromIp + 1);
    return undefined;
  }

  release(ip: string | undefined): void {
    this.#total--;
    if (ip === undefined) return;
    const left = (this.#perIp.get(ip) ?? 1) - 1;
    if (left > 0) this.#perIp.set(ip, left);
    else this.#perIp.delete(ip);
  }

  /** Forget buckets that have refilled completely, so memory does not grow per address ever seen. */
  prune(now: number): void {
    const rate = this.limits.maxRatePerIp;
    for (const [ip, b] of this.#buckets) {
      if (b.tokens + ((now - b.refilledAt) / 1000) * rate >= rate) this.#buckets.delete(ip);
    }
  }

  #takeToken(ip: string, now: number, rate: number): boolean {
    let b = this.#buckets.get(ip);
    if (!b) {
      b = { tokens: rate, refilledAt: now };
      this.#buckets.set(ip, b);
    }
    b.tokens = Math.min(rate, b.tokens + ((now - b.refilledAt) / 1000) * rate);
    b.refilledAt = now;
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }
}
