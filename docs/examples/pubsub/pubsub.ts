// A publish/subscribe server over text lines, on any runtime (it imports only the core).
//
//   SUB topic            -> OK subscribed topic      then: MSG topic text, for every PUB to it
//   PUB topic text...    -> OK n                     n = subscribers it was queued for
//   anything else        -> ERR ...
//
// Fan-out with backpressure: a message is queued for every subscriber at once, never
// waiting for one. A subscriber whose write buffer is full (the server's `writeBuffer`
// option; its socket buffers are full too) is not keeping up: it is unsubscribed at once
// and its connection closed after what is queued (the write deadline cuts it if it never
// reads). So a slow subscriber cannot stall the others, and costs at most its buffer.

import { framedService, type Service, type SessionContext, textLines } from "switchboard";

export function pubsub(): Service {
  const topics = new Map<string, Set<SessionContext>>();
  const subscriptions = new Map<SessionContext, Set<string>>();
  const bytes = new TextEncoder();

  const forget = (ctx: SessionContext) => {
    for (const topic of subscriptions.get(ctx) ?? []) {
      topics.get(topic)?.delete(ctx);
      if (topics.get(topic)?.size === 0) topics.delete(topic);
    }
    subscriptions.delete(ctx);
  };

  const subscribe = (ctx: SessionContext, topic: string) => {
    if (!topics.has(topic)) topics.set(topic, new Set());
    topics.get(topic)!.add(ctx);
    if (!subscriptions.has(ctx)) subscriptions.set(ctx, new Set());
    subscriptions.get(ctx)!.add(topic);
  };

  const publish = (topic: string, text: string): number => {
    const subscribers = [...(topics.get(topic) ?? [])];
    const message = bytes.encode(`MSG ${topic} ${text}\n`); // one copy, shared by every subscriber
    for (const sub of subscribers) {
      if (sub.write(message)) continue;
      sub.log.warn("slow subscriber cut off", { conn: sub.id, topic });
      forget(sub);
      sub.close();
    }
    return subscribers.length;
  };

  return framedService({
    name: "pubsub",
    decoder: (ctx) => textLines({ maxLength: ctx.options.maxFrame }),
    handle: (line: string, ctx) => {
      const [command, topic, ...words] = line.split(" ");
      if (command === "SUB" && topic) {
        subscribe(ctx, topic);
        return `OK subscribed ${topic}`;
      }
      if (command === "PUB" && topic) {
        return `OK ${publish(topic, words.join(" "))}`;
      }
      return "ERR expected SUB topic or PUB topic text";
    },
    onClose: forget,
  });
}
