import { pubsub } from "./pubsub.ts";
import { bunHost as host, serve } from "switchboard/bun";

await serve({
  listen: host.args[0] ?? "127.0.0.1:7071",
  service: pubsub(),
  writeBuffer: 64 * 1024, // a subscriber this far behind is cut off (see pubsub.ts)
  idleMs: 0, // subscribers may wait quietly; TCP keepalive still finds peers that vanished
  handleSignals: true,
});
