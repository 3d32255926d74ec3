// Minimal hand-written echo server on Bun.listen: the baseline switchboard is compared to.
// deno-lint-ignore-file no-explicit-any
// Bun's write() takes only what the kernel accepts, so the remainder waits for drain.
const Bun = (globalThis as any).Bun;
type S = {
  data: { queue: Uint8Array[]; ending: boolean };
  write(b: Uint8Array): number;
  end(): void;
  pause?(): void;
  resume?(): void;
};
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
process.on("SIGTERM", () => process.exit(0));
