// Minimal hand-written echo server on node:net: the baseline switchboard is compared to.
import net from "node:net";
const server = net.createServer({ allowHalfOpen: true }, (s) => {
  s.on("error", () => {});
  s.pipe(s); // pipe applies backpressure and ends on the peer's FIN
});
server.listen(0, "127.0.0.1", () => console.error(`listening addr=127.0.0.1:${server.address().port}`));
process.on("SIGTERM", () => process.exit(0));
