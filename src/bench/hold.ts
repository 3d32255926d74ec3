// `bench --mode hold`: open N connections, send nothing, and count how many are still open
// when the duration ends (a server's connection capacity and idle policy). Every
// connection that could not be opened, or that the server closed or reset, is an error.
// The connect time of each is its latency.

import type { Conn, ConnectOptions, ConnHandler, Transport } from "../transport.ts";
import { connectOptions } from "./connect-options.ts";
import { classify } from "./request-loop.ts";
import type { BenchConfig } from "./run.ts";
import type { BenchStats } from "./stats.ts";

export class HoldRun implements ConnHandler {
  opened = 0;
  alive = 0;
  readonly #transport: Transport;
  readonly #c: BenchConfig;
  readonly #connect: ConnectOptions;
  readonly #stats: BenchStats;
  readonly #conns = new Set<Conn>();
  #stopping = false;

  constructor(transport: Transport, c: BenchConfig, stats: BenchStats) {
    this.#transport = transport;
    this.#c = c;
    this.#connect = connectOptions(c);
    this.#stats = stats;
  }

  #startedAt = 0;

  start(): void {
    this.#startedAt = performance.now();
    for (let i = 0; i < this.#c.connections; i++) {
      this.#transport.connect(this.#connect, this).then(
        () => {}, // open() counted it
        (err) => {
          const [kind, message] = classify(err);
          this.#stats.error(performance.now(), kind, message);
        },
      );
    }
  }

  // Counted at its first event, not when connect() resolves: a server that closes at once
  // sends its FIN before that, and the loss must be seen.
  open(conn: Conn): void {
    const now = performance.now();
    if (this.#stopping) return conn.close();
    this.opened++;
    this.alive++;
    this.#conns.add(conn);
    this.#stats.done(now, now - this.#startedAt);
  }

  data(_conn: Conn, chunk: Uint8Array): void {
    this.#stats.bytes(0, chunk.length);
  }

  end(conn: Conn): void {
    this.#lost(conn, "other", "server closed a held connection");
  }

  close(conn: Conn, err?: Error): void {
    if (err) {
      const [kind, message] = classify(err);
      this.#lost(conn, kind, message);
    } else this.#lost(conn, "other", "held connection closed");
  }

  #lost(conn: Conn, kind: "connect" | "reset" | "timeout" | "verify" | "other", message: string): void {
    // at the end we close them ourselves: `alive` keeps the count they ended with
    if (!this.#conns.delete(conn) || this.#stopping) return;
    this.alive--;
    this.#stats.error(performance.now(), kind, message);
    conn.close("abort");
  }

  stop(): Promise<void> {
    this.#stopping = true;
    for (const conn of this.#conns) conn.close();
    return Promise.resolve();
  }
}
