// RFC 862 echo over a raw stream: every byte received goes back, in order. The core's
// backpressure stops reading while the peer is not reading our replies.

import type { Service } from "../server/service.ts";

export const echoService: Service = {
  name: "echo",
  open(ctx) {
    return {
      data: (chunk) => void ctx.write(chunk),
      end: () => ctx.end(),
    };
  },
};
