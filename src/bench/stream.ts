// `bench --mode stream`: bulk bytes both ways. Every connection writes `size`-byte chunks
// as fast as the server takes them (waiting for drain above the high-water mark), checks
// every byte that comes back by its position, and at the end half-closes and waits for
// the rest of the echo and the server's FIN: then bytes in must equal bytes out. A chunk's
// latency is from its write to the arrival of its last echoed byte.

import type { Conn, ConnectOptions, ConnHandler, Transport } from "../transport.ts";
import { connectOptions } from "./connect-options.ts";
import { fillPattern, VerifyError } from "./exchange.ts";
import { classify } from "./request-loop.ts";
import type { BenchConfig } from "./run.ts";
import type { BenchStats, ErrorKind } from "./stats.ts";

class StreamConn implements ConnHandler {
  conn: Conn | undefined;
  sent = 0;
  received = 0;
  done = false;
  /** Write times of chunks whose echo has not fully arrived: a growable ring. */
  #times = new Float64Array(256);
  #head = 0;
  #count = 0;
  #posInChunk = 0;
  readonly #run: StreamRun;

  constructor(run: StreamRun) {
    this.#run = run;
  }

  // ours from its first event, which can come before connect() resolves
  open(conn: Conn): void {
    this.conn = conn;
  }

  pump(): void {
    const conn = this.conn;
    if (!conn || this.#run.stopping) return;
    const chunk = this.#run.chunk;
    for (;;) {
      this.#pushTime(performance.now());
      this.sent += chunk.length;
      this.#run.stats.bytes(chunk.length, 0);
      if (!conn.write(chunk)) return; // the drain handler pumps again
    }
  }

  drain(): void {
    this.pump();
  }

  data(_conn: Conn, bytes: Uint8Array): void {
    if (this.done) return;
    const stats = this.#run.stats;
    stats.bytes(0, bytes.length);
    const chunk = this.#run.chunk;
    const size = chunk.length;
    let pos = this.#posInChunk;
    for (let i = 0; i < bytes.length; i++) {
      if (bytes[i] !== chunk[pos]) {
        return this.fail(new VerifyError(`echoed byte ${this.received + i} is wrong`));
      }
      if (++pos === size) {
        pos = 0;
        const now = performance.now();
        stats.done(now, now - this.#takeTime());
      }
    }
    this.#posInChunk = pos;
    this.received += bytes.length;
    if (this.received > this.sent) this.fail(new VerifyError(`received ${this.received} bytes, sent ${this.sent}`));
  }

  end(conn: Conn): void {
    if (this.done) return;
    if (!this.#run.stopping) return this.failAs("reset", "server closed the stream early");
    if (this.received !== this.sent) {
      this.fail(new VerifyError(`received ${this.received} of ${this.sent} bytes before the server's FIN`));
    } else this.#finish();
    conn.close();
  }

  close(_conn: Conn, err?: Error): void {
    if (this.done) return;
    if (err) this.fail(err);
    else this.failAs("reset", "stream closed before the echo was complete");
  }

  fail(err: unknown): void {
    const [kind, message] = classify(err);
    this.failAs(kind, message);
  }

  failAs(kind: ErrorKind, message: string): void {
    if (this.done) return;
    this.#run.stats.error(performance.now(), kind, message);
    this.conn?.close("abort");
    this.#finish();
  }

  #finish(): void {
    this.done = true;
    this.#run.finished();
  }

  #pushTime(t: number): void {
    if (this.#count === this.#times.length) {
      const bigger = new Float64Array(this.#times.length * 2);
      for (let i = 0; i < this.#count; i++) bigger[i] = this.#times[(this.#head + i) % this.#times.length]!;
      this.#times = bigger;
      this.#head = 0;
    }
    this.#times[(this.#head + this.#count) % this.#times.length] = t;
    this.#count++;
  }

  #takeTime(): number {
    const t = this.#times[this.#head]!;
    this.#head = (this.#head + 1) % this.#times.length;
    this.#count--;
    return t;
  }
}

export class StreamRun {
  readonly stats: BenchStats;
  readonly chunk: Uint8Array;
  stopping = false;
  readonly #transport: Transport;
  readonly #c: BenchConfig;
  readonly #connect: ConnectOptions;
  readonly #conns: StreamConn[] = [];
  #pending = 0;
  #allDone: (() => void) | undefined;

  constructor(transport: Transport, c: BenchConfig, stats: BenchStats) {
    this.#transport = transport;
    this.#c = c;
    this.#connect = connectOptions(c);
    this.stats = stats;
    this.chunk = new Uint8Array(c.size);
    fillPattern(this.chunk);
  }

  start(): void {
    this.#pending = this.#c.connections;
    for (let i = 0; i < this.#c.connections; i++) {
      const s = new StreamConn(this);
      this.#conns.push(s);
      this.#transport.connect(this.#connect, s).then(
        (conn) => {
          if (this.stopping) return conn.end();
          if (!s.done) s.pump();
        },
        (err) => s.fail(err),
      );
    }
  }

  finished(): void {
    this.#pending--;
    if (this.#pending === 0) this.#allDone?.();
  }

  /** Stop writing, half-close, and wait for every echo to complete (at most waitMs more). */
  stop(): Promise<void> {
    this.stopping = true;
    for (const s of this.#conns) s.conn?.end();
    if (this.#pending === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        for (const s of this.#conns) {
          if (!s.done) s.failAs("timeout", `echo incomplete ${this.#c.waitMs} ms after the half-close`);
        }
      }, this.#c.waitMs);
      this.#allDone = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}
