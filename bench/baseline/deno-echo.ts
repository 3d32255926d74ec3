// Minimal hand-written echo server on Deno.listen: the baseline switchboard is compared to.
// deno-lint-ignore-file no-explicit-any
const Deno = (globalThis as any).Deno;
const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
console.error(`listening addr=127.0.0.1:${listener.addr.port}`);
Deno.addSignalListener("SIGTERM", () => Deno.exit(0));
// DENO_ECHO_READ_BUFFER (bytes, default 64 KiB): set to 1024 with bench/memory-profile.mjs to
// show Deno's own floor of memory per idle connection (docs/benchmarks.md).
const READ_BUFFER = Number(Deno.env.get("DENO_ECHO_READ_BUFFER") ?? 64 * 1024);
if (!Number.isInteger(READ_BUFFER) || READ_BUFFER < 1) throw new Error("DENO_ECHO_READ_BUFFER: a byte count ≥ 1");
async function serve(conn: any) {
  const buf = new Uint8Array(READ_BUFFER);
  try {
    for (;;) {
      const n = await conn.read(buf);
      if (n === null) break;
      let off = 0;
      while (off < n) off += await conn.write(buf.subarray(off, n));
    }
    await conn.closeWrite();
  } catch { /* peer went away */ }
  try {
    conn.close();
  } catch { /* already closed */ }
}
for await (const conn of listener) serve(conn);
