// Minimal hand-written TLS echo server on Bun.listen with tls: the TLS baseline switchboard
// is compared to. Bun's write() takes only what it can, so the remainder waits for drain.
//   bun bench/baseline/bun-tls-echo.ts CERT KEY
// deno-lint-ignore-file no-explicit-any
const Bun = (globalThis as any).Bun;
const [certPath, keyPath] = (globalThis as any).process.argv.slice(2);
type S = { data: { queue: Uint8Array[]; ending: boolean }; write(b: Uint8Array): number; end(): void };
function flush(s: S) {
  const q = s.data.queue;
  while (q.length) {
    const head = q[0]!;
    const n = s.write(head);
    if (n < head.length) {
      q[0] = head.subarray(n);
      return;
    }
    q.shift();
  }
  if (s.data.ending) s.end();
}
const server = Bun.listen({
  hostname: "127.0.0.1",
  port: 0,
  allowHalfOpen: true,
  tls: { cert: Bun.file(certPath), key: Bun.file(keyPath) },
  socket: {
    open(s: S) {
      s.data = { queue: [], ending: false };
    },
    data(s: S, chunk: Uint8Array) {
      if (s.data.queue.length) {
        s.data.queue.push(chunk.slice());
        return;
      }
      const n = s.write(chunk);
      if (n < chunk.length) s.data.queue.push(chunk.slice(n));
    },
    drain(s: S) {
      flush(s);
    },
    end(s: S) {
      s.data.ending = true;
      flush(s);
    },
    error() {},
  },
});
console.error(`listening addr=127.0.0.1:${server.port}`);
(globalThis as any).process.on("SIGTERM", () => (globalThis as any).process.exit(0));
