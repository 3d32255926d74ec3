// Conformance checks for endpoints: addresses, IPv6 and unix sockets, listening and
// connecting, and the errors when either fails.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Addr, ConnectError, type Listener, ListenError } from "../../src/transport.ts";
import { assert, type Check, echoRoundTrip, withEchoServer, withServer } from "./check-kit.ts";
import { exchange, pattern, sleep, startEchoServer, waitFor, withTimeout } from "../support/sockets.ts";

/**
 * A unix listener that never accepts, with its backlog (listen(0)) filled by connects; on a
 * line of stdin it accepts one and checks that a fresh connect to the path reaches it.
 */
const BACKLOG_FULL_LISTENER = [
  "import socket, sys",
  "path = sys.argv[1]",
  "srv = socket.socket(socket.AF_UNIX); srv.bind(path); srv.listen(0); srv.settimeout(10)",
  "held = []",
  "while True:",
  "    c = socket.socket(socket.AF_UNIX); c.setblocking(False)",
  "    try: c.connect(path)",
  "    except BlockingIOError: c.close(); break",
  "    held.append(c)",
  "    if len(held) > 1000: sys.exit('the backlog never filled')",
  "print('full', len(held), flush=True)",
  "sys.stdin.readline()",
  "srv.accept()",
  "fresh = socket.socket(socket.AF_UNIX); fresh.settimeout(10); fresh.connect(path)",
  "srv.accept()",
  "print('accepted', flush=True)",
].join("\n");

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), "sb-conf-"));
}

export const endpointChecks: Record<string, Check> = {
  "reports bound and peer addresses": async (ctx) => {
    let remote: Addr | undefined;
    // Read first in the close event: an address read on demand from a closed socket would be unknown.
    let localAtClose: Addr | undefined;
    let remoteAtClose: Addr | undefined;
    await withServer(ctx, {
      open(c) {
        remote = c.remote;
      },
      data() {},
      close(c) {
        localAtClose = c.local;
        remoteAtClose = c.remote;
      },
    }, async (addr) => {
      assert(
        addr.transport === "tcp" && addr.port > 0 && addr.hostname === "127.0.0.1",
        `listener addr ${JSON.stringify(addr)}`,
      );
      await withTimeout(exchange(ctx.t, addr, new Uint8Array(0)), ctx.timeoutMs, "exchange");
      assert(
        remote!.transport === "tcp" && remote!.hostname === "127.0.0.1" && remote!.port > 0,
        `remote ${JSON.stringify(remote)}`,
      );
      await waitFor(() => localAtClose !== undefined, "the server side's close event", ctx.timeoutMs);
      assert(
        localAtClose!.transport === "tcp" && localAtClose!.hostname === "127.0.0.1" && localAtClose!.port === addr.port,
        `local, first read at close: ${JSON.stringify(localAtClose)} (listening on ${JSON.stringify(addr)})`,
      );
      assert(
        JSON.stringify(remoteAtClose) === JSON.stringify(remote),
        `remote at close ${JSON.stringify(remoteAtClose)}`,
      );
    });
  },

  "a connection's local address is the one the client dialled, on wildcard and one-address listeners": async (
    ctx,
  ) => {
    // [listen on, dial]: a wildcard listener's connections each have their own local address
    // (127.0.0.2 is loopback too, and not what the listener reports).
    const cases: [string, string][] = [["0.0.0.0", "127.0.0.2"], ["::", "::1"], ["127.0.0.3", "127.0.0.3"]];
    for (const [host, dial] of cases) {
      let local: Addr | undefined;
      const listener = await ctx.t.listen({ addr: { transport: "tcp", hostname: host, port: 0 } }, {
        open(c) {
          local = c.local;
        },
        data() {},
      });
      try {
        const port = (listener.addr as Addr & { transport: "tcp" }).port;
        await withTimeout(
          exchange(ctx.t, { transport: "tcp", hostname: dial, port }, new Uint8Array(0)),
          ctx.timeoutMs,
          "exchange",
        );
        assert(
          local?.transport === "tcp" && local.hostname === dial && local.port === port,
          `listening on ${host}, dialled ${dial}:${port}: local ${JSON.stringify(local)}`,
        );
      } finally {
        await listener.close();
      }
    }
  },

  "serves over IPv6 loopback (::1)": async (ctx) => {
    await withEchoServer(ctx, { transport: "tcp", hostname: "::1", port: 0 }, async (addr) => {
      assert(addr.transport === "tcp" && addr.hostname === "::1", `bound to ${JSON.stringify(addr)}`);
      await echoRoundTrip(ctx, addr, pattern(70_000, 6));
    });
  },

  "listens on the wildcard addresses and a hostname, reporting the port it got": async (ctx) => {
    // [listen on, connect to]: the wildcards are reached over loopback; a hostname is
    // reported as the address it resolved to, which is what a client dials.
    const cases: [string, string | undefined][] = [["0.0.0.0", "127.0.0.1"], ["::", "::1"], ["localhost", undefined]];
    for (const [host, dial] of cases) {
      await withEchoServer(ctx, { transport: "tcp", hostname: host, port: 0 }, async (addr) => {
        assert(addr.transport === "tcp" && addr.port > 0, `listening on ${host}: bound to ${JSON.stringify(addr)}`);
        const target = dial ?? addr.hostname;
        assert(
          dial !== undefined || target === "127.0.0.1" || target === "::1",
          `"localhost" reported as ${JSON.stringify(target)}, not a loopback address`,
        );
        await echoRoundTrip(ctx, { transport: "tcp", hostname: target, port: addr.port }, pattern(20_000, 9));
      });
    }
  },

  "serves over a unix socket, replacing a stale socket file": async (ctx) => {
    const dir = tempDir();
    const path = join(dir, "sb.sock");
    try {
      // A crashed run leaves its socket file behind: make one with a process that exits
      // without unlinking it.
      const py = spawnSync("python3", [
        "-c",
        "import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])",
        path,
      ]);
      assert(py.status === 0 && existsSync(path), "could not create a stale socket file");
      await withEchoServer(ctx, { transport: "unix", path }, async (addr) => {
        assert(addr.transport === "unix" && addr.path === path, `bound to ${JSON.stringify(addr)}`);
        await echoRoundTrip(ctx, addr, pattern(300_000, 12));
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },

  "refuses to replace a unix socket someone is listening on": async (ctx) => {
    const dir = tempDir();
    const path = join(dir, "sb.sock");
    try {
      const first = await ctx.t.listen({ addr: { transport: "unix", path } }, { data() {} });
      try {
        const second = await ctx.t.listen({ addr: { transport: "unix", path } }, { data() {} }).then(
          (l) => l,
          (err: Error) => err,
        );
        if (!(second instanceof Error)) {
          await second.close();
          throw new Error("a second listener took over a live unix socket");
        }
      } finally {
        await first.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },

  "does not replace a live unix socket whose backlog is full (ListenError EADDRINUSE)": async (ctx) => {
    // The Node adapter took any failed probe (EAGAIN from a full backlog included) for a
    // stale file, deleted a live server's socket and listened in its place. A python
    // listener that never accepts, its backlog filled, is the live server here.
    const dir = tempDir();
    const path = join(dir, "sb.sock");
    const py = spawn("python3", ["-c", BACKLOG_FULL_LISTENER, path], { stdio: ["pipe", "pipe", "pipe"] });
    let out = "";
    let errText = "";
    py.stdout.on("data", (b: Buffer) => (out += b.toString()));
    py.stderr.on("data", (b: Buffer) => (errText += b.toString()));
    const exited = new Promise<number | null>((resolve) => {
      py.on("exit", (code) => resolve(code));
      py.on("error", () => resolve(-1));
    });
    try {
      await waitFor(
        () => out.includes("full") || py.exitCode !== null,
        "python listener to fill its backlog",
        ctx.timeoutMs,
      );
      assert(out.includes("full"), `the python listener failed: ${errText.trim()}`);
      const second = await ctx.t.listen({ addr: { transport: "unix", path } }, { data() {} }).then(
        (l) => l,
        (err: unknown) => err,
      );
      if (!(second instanceof Error)) {
        await (second as Listener).close();
        throw new Error("a second listener took over a live unix socket whose backlog was full");
      }
      assert(
        second instanceof ListenError && second.code === "EADDRINUSE",
        `second listen: got ${second.name} "${second.message}", want ListenError EADDRINUSE`,
      );
      assert(existsSync(path), "the live listener's socket file was removed");
      py.stdin.end("go\n"); // the live listener accepts now, and takes a fresh connect by its path
      const code = await withTimeout(exited, ctx.timeoutMs, "python listener to accept");
      assert(
        code === 0 && out.includes("accepted"),
        `the live listener no longer accepts on its path (exit ${code}): ${errText.trim()}`,
      );
    } finally {
      if (py.exitCode === null) py.kill();
      rmSync(dir, { recursive: true, force: true });
    }
  },

  "closing a listener frees the port for a new listener": async (ctx) => {
    const first = await startEchoServer(ctx.t);
    const port = (first.listener.addr as { port: number }).port;
    await echoRoundTrip(ctx, first.listener.addr, pattern(10, 1));
    await first.listener.close();
    const again = await startEchoServer(ctx.t, { transport: "tcp", hostname: "127.0.0.1", port });
    try {
      await echoRoundTrip(ctx, again.listener.addr, pattern(10, 2));
    } finally {
      await again.listener.close();
    }
  },

  "a refused connect rejects with ConnectError ECONNREFUSED and fires no events": async (ctx) => {
    const { listener } = await startEchoServer(ctx.t);
    const addr = listener.addr;
    await listener.close();
    let events = 0;
    const err = await ctx.t.connect({ addr }, {
      open: () => void events++,
      data: () => void events++,
      close: () => void events++,
    }).then(() => undefined, (e: unknown) => e);
    assert(err instanceof ConnectError, `expected ConnectError, got ${String(err)}`);
    assert((err as ConnectError).code === "ECONNREFUSED", `code ${(err as ConnectError).code}`);
    await sleep(50);
    assert(events === 0, `${events} handler events fired for a failed connect`);
  },

  "reusePort is reported truthfully: two listeners share the port exactly when it says so": async (ctx) => {
    const { listener: first } = await startEchoServer(ctx.t);
    await first.close();
    const addr = first.addr; // a port known to be free now
    const a = await ctx.t.listen({ addr, reusePort: true }, { data: (c, b) => void c.write(b), end: (c) => c.end() });
    try {
      const b = await ctx.t.listen({ addr, reusePort: true }, { data: (c, b) => void c.write(b), end: (c) => c.end() })
        .then(
          (l) => l,
          (e: { code?: string }) => e,
        );
      if (a.reusePort) {
        assert(
          !(b instanceof Error) && "close" in b,
          `reusePort claimed, but a second listener failed: ${(b as Error).message}`,
        );
        try {
          for (let i = 0; i < 20; i++) await echoRoundTrip(ctx, addr, pattern(100, i + 1));
        } finally {
          await (b as { close(): Promise<void> }).close();
        }
      } else {
        assert(!("close" in b), "reusePort reported off, yet a second listener bound the same port");
        assert((b as { code?: string }).code === "EADDRINUSE", `code ${(b as { code?: string }).code}`);
      }
    } finally {
      await a.close();
    }
  },

  "a listen on a busy port rejects with ListenError EADDRINUSE": async (ctx) => {
    const { listener } = await startEchoServer(ctx.t);
    try {
      const err = await ctx.t.listen({ addr: listener.addr }, { data() {} }).then(
        async (l) => {
          await l.close();
          return undefined;
        },
        (e: unknown) => e,
      );
      assert(err !== undefined, "a second listener bound a busy port");
      assert((err as { code?: string }).code === "EADDRINUSE", `code ${(err as { code?: string }).code}`);
    } finally {
      await listener.close();
    }
  },
};
