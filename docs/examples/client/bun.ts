import { parseAddr } from "switchboard";
import { bunHost as host, bunTransport as transport } from "switchboard/bun";
import { ask } from "./ask.ts";

// Usage: client ADDR LINE... — sends each LINE, prints each reply line, exits 0 (1 on failure).
const [addr = "127.0.0.1:7070", ...lines] = host.args;
for (const reply of await ask(transport, parseAddr(addr), lines)) {
  await host.stdout.write(reply + "\n");
}
