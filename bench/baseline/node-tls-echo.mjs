// Minimal hand-written TLS echo server on node:tls: the TLS baseline switchboard is compared to.
//   node bench/baseline/node-tls-echo.mjs CERT KEY
import { readFileSync } from "node:fs";
import tls from "node:tls";
const [cert, key] = process.argv.slice(2).map((p) => readFileSync(p));
const server = tls.createServer({ cert, key, allowHalfOpen: true }, (s) => {
  s.on("error", () => {});
  s.pipe(s);
});
server.on("tlsClientError", () => {});
server.listen(0, "127.0.0.1", () => console.error(`listening addr=127.0.0.1:${server.address().port}`));
process.on("SIGTERM", () => process.exit(0));
