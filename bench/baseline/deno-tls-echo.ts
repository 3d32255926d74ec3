// Minimal hand-written TLS echo server on Deno.listenTls: the TLS baseline switchboard is compared to.
//   deno run -A bench/baseline/deno-tls-echo.ts CERT KEY
// deno-lint-ignore-file no-explicit-any
const Deno = (globalThis as any).Deno;
const [certPath, keyPath] = Deno.args;
const listener = Deno.listenTls({
  hostname: "127.0.0.1",
  port: 0,
  cert: Deno.readTextFileSync(certPath),
  key: Deno.readTextFileSync(keyPath),
});
console.error(`listening addr=127.0.0.1:${listener.addr.port}`);
Deno.addSignalListener("SIGTERM", () => Deno.exit(0));
async function serve(conn: any) {
  const buf = new Uint8Array(64 * 1024);
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
