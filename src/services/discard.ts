// RFC 863 discard: everything received is thrown away; nothing is ever sent. When the
// peer half-closes we close too.

import type { Service } from "../server/service.ts";

export const discardService: Service = {
  name: "discard",
  open(ctx) {
    return {
      data: () => {},
      end: () => ctx.end(),
    };
  },
};
