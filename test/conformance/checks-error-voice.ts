// Conformance checks for the voice of errors: each failure is provoked for real, and the
// error must carry the contract's code and the exact message of src/net-errors.ts's table,
// whatever the runtime said ("write EPIPE" on Node, "Broken pipe (os error 32)" on Deno,
// "EPIPE: broken pipe, read" on Bun). The expected texts are written out here on purpose:
// they are what a script reading switchboard's stderr relies on.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Addr, type Conn, NetError } from "../../src/transport.ts";
import { assert, type Check, type CheckContext } from "./check-kit.ts";
import { LOOPBACK, sleep, startEchoServer, waitFor, withTimeout } from "../support/sockets.ts";

/** Throws unless `err` is a contract error of class `name` with exactly this code and message. */
function expectNetError(what: string, err: unknown, name: string, code: string, message: string): void {
  const e = err as { name?: string; code?: unknown; message?: string } | undefined;
  const ok = err instanceof NetError && e!.name === name && e!.code === code && e!.message === message;
  assert(
    ok,
    `${what}: got ${e?.name ?? String(err)} "${e?.message ?? ""}" (code ${String(e?.code)}), ` +
      `want ${name} "${message}" (code ${code})`,
  );
}

/** A connect that must fail without firing any handler event; resolves to its rejection. */
async function failedConnect(ctx: CheckContext, addr: Addr): Promise<unknown> {
  let events = 0;
  const err = await withTimeout(
    ctx.t.connect({ addr }, {
      open: () => void events++,
      data: () => void events++,
      close: () => void events++,
    }).then((c) => {
      c.close("abort");
      return "connected";
    }, (e: unknown) => e),
    ctx.timeoutMs,
    "the connect attempt to settle",
  );
  assert(err !== "connected", `connect to ${JSON.stringify(addr)} succeeded`);
  await sleep(20);
  assert(events === 0, `${events} handler events fired for a failed connect`);
  return err;
}

/** A listen that must fail; resolves to its rejection. */
async function failedListen(ctx: CheckContext, addr: Addr): Promise<unknown> {
  return await ctx.t.listen({ addr }, { data() {} }).then(async (l) => {
    await l.close();
    throw new Error(`listening on ${JSON.stringify(addr)} succeeded`);
  }, (e: unknown) => e);
}

/** A fresh directory that is removed again, so a path inside it surely does not exist. */
function missingDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "sb-voice-"));
  rmSync(dir, { recursive: true });
  return join(dir, "nested");
}

/**
 * A server connection that writes to its peer once `goAway` made the peer leave, until it
 * closes; resolves to the `err` of its close(conn, err).
 */
async function closeErrorAfterPeerLeft(
  ctx: CheckContext,
  listenAddr: Addr,
  goAway: (addr: Addr, served: () => Promise<void>) => Promise<void>,
): Promise<Error | undefined> {
  let server: Conn | undefined;
  let closed = false;
  let closeErr: Error | undefined;
  const chunk = new Uint8Array(16 * 1024).fill(0x61);
  const listener = await ctx.t.listen({ addr: listenAddr }, {
    open(c) {
      server = c;
      c.write(new Uint8Array([0x21])); // the peer waits for this byte before leaving
    },
    data() {},
    end() {}, // the peer's FIN: stay open for writing
    close(_c, err) {
      closed = true;
      closeErr = err;
    },
  });
  try {
    // Served: the server connection is open and its first byte is with the kernel.
    const served = () =>
      waitFor(() => server !== undefined && server.queued === 0, "the server connection", ctx.timeoutMs);
    await goAway(listener.addr, served);
    await waitFor(() => server !== undefined, "the server connection", ctx.timeoutMs);
    const until = Date.now() + ctx.timeoutMs;
    while (!closed && Date.now() < until) {
      if (server!.queued < 1024 * 1024) server!.write(chunk);
      await sleep(1);
    }
    await waitFor(() => closed, "the server connection to close after its peer left", ctx.timeoutMs);
  } finally {
    await listener.close();
  }
  return closeErr;
}

/** A peer (this adapter) that reads the first byte, then closes (FIN) with nothing left unread. */
async function adapterPeerCloses(ctx: CheckContext, addr: Addr): Promise<void> {
  let got = false;
  let closed = false;
  const c = await ctx.t.connect({ addr }, {
    data: () => void (got = true),
    close: () => void (closed = true),
  });
  await waitFor(() => got, "the peer to receive the first byte", ctx.timeoutMs);
  c.close();
  await waitFor(() => closed, "the peer to close", ctx.timeoutMs);
}

/**
 * A peer (this adapter) that never reads and leaves with our first byte unread: the kernel
 * resets the connection. (A unix peer that leaves with nothing unread is just a clean close
 * on Bun, which drops the socket on the hangup before any write could fail.)
 */
async function adapterPeerLeavesUnread(ctx: CheckContext, addr: Addr, served: () => Promise<void>): Promise<void> {
  let closed = false;
  const c = await ctx.t.connect({ addr }, {
    open: (c) => c.pause(),
    data() {},
    close: () => void (closed = true),
  });
  await served();
  c.close("abort");
  await waitFor(() => closed, "the peer to close", ctx.timeoutMs);
}

/** A python peer that reads the first byte, then resets (SO_LINGER 0: RST, no FIN). */
async function pythonPeerResets(ctx: CheckContext, addr: Addr): Promise<void> {
  if (addr.transport !== "tcp") throw new Error("tcp only");
  const script = [
    "import socket, struct, sys",
    "s = socket.create_connection(('127.0.0.1', int(sys.argv[1])))",
    "s.recv(1)",
    "s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))",
    "s.close()",
  ].join("\n");
  const py = spawn("python3", ["-c", script, String(addr.port)], { stdio: "ignore" });
  const code = await withTimeout(
    new Promise<number | null>((resolve, reject) => {
      py.on("error", (err) => reject(new Error(`the check needs python3 for a resetting peer: ${err.message}`)));
      py.on("exit", (c) => resolve(c));
    }),
    ctx.timeoutMs,
    "python peer to reset the connection",
  );
  assert(code === 0, `the python peer failed (exit ${code})`);
}

/**
 * A python listener whose accept queue is full (backlog 0, filled, never accepted): the
 * kernel drops further SYNs, so a connect hangs until the caller's timeout. Resolves to
 * its port and a function that ends it.
 */
async function fullBacklog(ctx: CheckContext): Promise<{ port: number; stop: () => void }> {
  const script = [
    "import socket, sys",
    "s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(0)",
    "port = s.getsockname()[1]",
    "fill = []",
    "for i in range(8):",
    "    c = socket.socket(); c.setblocking(False)",
    "    try: c.connect(('127.0.0.1', port))",
    "    except BlockingIOError: pass",
    "    fill.append(c)",
    "print(port, flush=True)",
    "sys.stdin.read()  # until the check closes our stdin",
  ].join("\n");
  const py = spawn("python3", ["-c", script], { stdio: ["pipe", "pipe", "ignore"] });
  let out = "";
  py.stdout.on("data", (b: Uint8Array) => (out += new TextDecoder().decode(b)));
  const failed = new Promise<never>((_, reject) => {
    py.on(
      "error",
      (err) => reject(new Error(`the check needs python3 for a listener with a full backlog: ${err.message}`)),
    );
    py.on("exit", (c) => reject(new Error(`the python listener exited (${c}) before it was ready`)));
  });
  await withTimeout(
    Promise.race([waitFor(() => out.includes("\n"), "python listener", ctx.timeoutMs), failed]),
    ctx.timeoutMs,
    "python listener",
  );
  failed.catch(() => {}); // it exits when stopped
  return { port: Number(out.trim()), stop: () => py.stdin.end() };
}

const RESET = "connection reset by peer (ECONNRESET)";

export const errorVoiceChecks: Record<string, Check> = {
  "a refused connect reads: cannot connect to ADDR: connection refused (ECONNREFUSED)": async (ctx) => {
    const { listener } = await startEchoServer(ctx.t);
    const addr = listener.addr;
    await listener.close(); // a port that was just closed
    const port = addr.transport === "tcp" ? addr.port : 0;
    expectNetError(
      "refused connect",
      await failedConnect(ctx, addr),
      "ConnectError",
      "ECONNREFUSED",
      `cannot connect to 127.0.0.1:${port}: connection refused (ECONNREFUSED)`,
    );
  },

  "a connect to port 0 is refused (ECONNREFUSED), as Linux says": async (ctx) => {
    expectNetError(
      "connect to port 0",
      await failedConnect(ctx, { transport: "tcp", hostname: "127.0.0.1", port: 0 }),
      "ConnectError",
      "ECONNREFUSED",
      "cannot connect to 127.0.0.1:0: connection refused (ECONNREFUSED)",
    );
  },

  "a connect to an unknown host (.invalid) reads: host not found (ENOTFOUND)": async (ctx) => {
    // RFC 6761: names under .invalid never resolve; the resolver answers at once, offline too.
    expectNetError(
      "connect to an unknown host",
      await failedConnect(ctx, { transport: "tcp", hostname: "switchboard-test.invalid", port: 7 }),
      "ConnectError",
      "ENOTFOUND",
      "cannot connect to switchboard-test.invalid:7: host not found (ENOTFOUND)",
    );
  },

  "a connect to a unix socket in a missing directory reads: no such file or directory (ENOENT)": async (ctx) => {
    const path = join(missingDir(), "s.sock");
    expectNetError(
      "connect to a unix socket in a missing directory",
      await failedConnect(ctx, { transport: "unix", path }),
      "ConnectError",
      "ENOENT",
      `cannot connect to unix:${path}: no such file or directory (ENOENT)`,
    );
  },

  "a connect that times out reads: timed out after N ms (ETIMEDOUT)": async (ctx) => {
    const { port, stop } = await fullBacklog(ctx);
    try {
      const addr: Addr = { transport: "tcp", hostname: "127.0.0.1", port };
      const err = await withTimeout(
        ctx.t.connect({ addr, timeoutMs: 300 }, { data() {} }).then((c) => {
          c.close("abort");
          return "connected";
        }, (e: unknown) => e),
        ctx.timeoutMs,
        "the connect attempt to time out",
      );
      expectNetError(
        "connect to a listener with a full backlog",
        err,
        "ConnectError",
        "ETIMEDOUT",
        `cannot connect to 127.0.0.1:${port}: timed out after 300 ms (ETIMEDOUT)`,
      );
    } finally {
      stop();
    }
  },

  "listening on a busy port reads: cannot listen on ADDR: address already in use (EADDRINUSE)": async (ctx) => {
    const { listener } = await startEchoServer(ctx.t);
    try {
      const port = listener.addr.transport === "tcp" ? listener.addr.port : 0;
      expectNetError(
        "listen on a busy port",
        await failedListen(ctx, { transport: "tcp", hostname: "127.0.0.1", port }),
        "ListenError",
        "EADDRINUSE",
        `cannot listen on 127.0.0.1:${port}: address already in use (EADDRINUSE)`,
      );
    } finally {
      await listener.close();
    }
  },

  "listening on a unix socket in a missing directory reads: no such file or directory (ENOENT)": async (ctx) => {
    // Node (libuv) reports EACCES here, although bind(2) said ENOENT.
    const path = join(missingDir(), "s.sock");
    expectNetError(
      "listen on a unix socket in a missing directory",
      await failedListen(ctx, { transport: "unix", path }),
      "ListenError",
      "ENOENT",
      `cannot listen on unix:${path}: no such file or directory (ENOENT)`,
    );
  },

  "listening on an address no interface has reads: address not available (EADDRNOTAVAIL)": async (ctx) => {
    // 192.0.2.1 is TEST-NET-1 (RFC 5737): documentation only, on no interface here.
    expectNetError(
      "listen on 192.0.2.1",
      await failedListen(ctx, { transport: "tcp", hostname: "192.0.2.1", port: 0 }),
      "ListenError",
      "EADDRNOTAVAIL",
      "cannot listen on 192.0.2.1:0: address not available (EADDRNOTAVAIL)",
    );
  },

  "writing to a peer that left ends in close(conn, err) with ECONNRESET: connection reset by peer": async (ctx) => {
    // Natively: EPIPE after the peer's FIN ("write EPIPE", "Broken pipe (os error 32)"),
    // ECONNRESET after its RST, either on a unix socket. The contract says ECONNRESET for all.
    const cases: [string, Addr, (addr: Addr, served: () => Promise<void>) => Promise<void>][] = [
      ["a peer that closed (FIN), then we wrote", LOOPBACK, (addr) => adapterPeerCloses(ctx, addr)],
      ["a peer that reset (RST)", LOOPBACK, (addr) => pythonPeerResets(ctx, addr)],
      [
        "a peer that left with our bytes unread",
        LOOPBACK,
        (addr, served) => adapterPeerLeavesUnread(ctx, addr, served),
      ],
      [
        "a unix peer that left with our bytes unread",
        { transport: "unix", path: "" },
        (addr, served) => adapterPeerLeavesUnread(ctx, addr, served),
      ],
    ];
    for (const [what, addr0, goAway] of cases) {
      let addr = addr0;
      let dir: string | undefined;
      if (addr.transport === "unix") {
        dir = mkdtempSync(join(tmpdir(), "sb-voice-"));
        addr = { transport: "unix", path: join(dir, "s.sock") };
      }
      try {
        const err = await closeErrorAfterPeerLeft(ctx, addr, goAway);
        expectNetError(what, err, "ConnError", "ECONNRESET", RESET);
      } finally {
        if (dir) rmSync(dir, { recursive: true, force: true });
      }
    }
  },
};
