// Steady load for failover tests: W workers, each opening one connection after another,
// sending one line and checking that exactly that line comes back. Every connection is
// recorded with its local port, so a failure can be traced to the server that had it
// (the server logs the client's address, taken from the PROXY header).
import { connect } from "node:net";

export interface Outcome {
  /** The client's local port (the port the servers log), when the connection got that far. */
  port?: number;
  ok: boolean;
  error?: string;
  /** When it ended (Date.now()). */
  at: number;
}

export interface Load {
  outcomes: Outcome[];
  ok(): number;
  failed(): Outcome[];
  /** Stop starting connections; resolves once every worker's last one has ended. */
  stop(): Promise<void>;
}

/** One connection: line out, the same line back, close. Bounded by `timeoutMs`. */
function once(port: number, line: string, timeoutMs: number): Promise<Outcome> {
  return new Promise((resolve) => {
    const s = connect({ host: "127.0.0.1", port });
    let got = "";
    let localPort: number | undefined;
    let done = false;
    const finish = (ok: boolean, error?: string) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      s.destroy();
      resolve({ port: localPort, ok, error, at: Date.now() });
    };
    const timer = setTimeout(() => finish(false, `no echo within ${timeoutMs} ms`), timeoutMs);
    s.setEncoding("utf8");
    s.on("connect", () => {
      localPort = s.localPort;
      s.write(line);
    });
    s.on("data", (d: string) => {
      got += d;
      if (got.length >= line.length) {
        finish(got === line, got === line ? undefined : `wrong echo ${JSON.stringify(got)}`);
      }
    });
    s.on("error", (e) => finish(false, e.message));
    s.on("close", () => finish(false, `closed after ${JSON.stringify(got)} of ${JSON.stringify(line)}`));
  });
}

export function startLoad(port: number, workers: number, maxConnections = 100_000): Load {
  const outcomes: Outcome[] = [];
  let stopping = false;
  let started = 0;
  const run = async (w: number) => {
    for (let i = 0; !stopping && started < maxConnections; i++) {
      started++;
      outcomes.push(await once(port, `w${w}-${i}-${"x".repeat(40)}\n`, 5000));
    }
  };
  const all = Promise.all(Array.from({ length: workers }, (_, w) => run(w)));
  return {
    outcomes,
    ok: () => outcomes.filter((o) => o.ok).length,
    failed: () => outcomes.filter((o) => !o.ok),
    async stop() {
      stopping = true;
      await all;
    },
  };
}
