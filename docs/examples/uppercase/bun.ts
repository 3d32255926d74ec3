import { framedService, textLines } from "switchboard";
import { bunHost as host, serve } from "switchboard/bun";

// Answers every line with the line in upper case: "hello" -> "HELLO".
const uppercase = framedService({
  name: "uppercase",
  decoder: (ctx) => textLines({ maxLength: ctx.options.maxFrame }),
  handle: (line: string) => line.toUpperCase(),
});

const listen = host.args[0] ?? "127.0.0.1:7070";
await serve({ listen, service: uppercase, handleSignals: true });
