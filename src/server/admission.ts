// Admission control at accept time: global and per-source connection caps and a
// per-source rate of new connections (a token bucket per address).

import type { PolicyReason } from "./close-reasons.ts";
import type { Limits } from "./options.ts";

interface Bucket {
  tokens: number;
  refilledAt: number;
}

export class Admission {
  #total = 0;
  readonly #perIp = new Map<string, number>();
  readonly #buckets = new Map<string, Bucket>();

  constructor(private readonly limits: Pick<Limits, "maxConns" | "maxConnsPerIp" | "maxRatePerIp">) {}

  get total(): number {
    return this.#total;
  }

  /** Admit a new connection from `ip`, or say which limit refuses it. */
  admit(ip: string, now: number): PolicyReason | undefined {
    const { maxConns, maxConnsPerIp, maxRatePerIp } = this.limits;
    if (this.#total >= maxConns) return "max-conns";
    const fromIp = this.#perIp.get(ip) ?? 0;
    if (maxConnsPerIp > 0 && fromIp >= maxConnsPerIp) return "max-conns-per-ip";
    if (maxRatePerIp > 0 && !this.#takeToken(ip, now, maxRatePerIp)) return "max-rate-per-ip";
    this.#total++;
    this.#perIp.set(ip, fromIp + 1);
    return undefined;
  }

  release(ip: string): void {
    this.#total--;
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
