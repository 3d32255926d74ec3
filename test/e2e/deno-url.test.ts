// `deno run <url>` as a user runs it. This repository is served over loopback HTTP (`.ts` as
// application/typescript, like a raw file host), and Deno runs it from an empty directory
// with a fresh DENO_DIR: no node_modules, import map, deno.json or lock file can help.
// Each case uses the permission flags the README gives for it, and no more.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server as HttpServer } from "node:http";
import { createConnection, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join, normalize, sep } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { defaultMaxConns, FALLBACK_MAX_CONNS } from "../../src/server/options.ts";
import { ROOT, runCli, startServer } from "../support/cli.ts";
import { BIN, echoOnce, inDir } from "../support/package.ts";
import { clientsOnWorkers, roundTrip } from "../support/workers.ts";

const DENO = `${BIN}deno`;
let http: HttpServer;
let url = ""; // of adapters/deno/main.ts on the loopback server
let tmp = "";
const requested = new Set<string>();

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), "sb-deno-url-"));
  http = createServer((req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname));
    requested.add(path);
    const file = join(ROOT, path);
    if (req.method !== "GET" || !file.startsWith(ROOT) || file.includes(`${sep}.`)) {
      res.writeHead(404).end();
      return;
    }
    try {
      const body = readFileSync(file);
      res.writeHead(200, { "content-type": path.endsWith(".ts") ? "application/typescript" : "text/plain" }).end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  const port = (http.address() as { port: number }).port;
  url = `http://127.0.0.1:${port}/adapters/deno/main.ts`;
});

afterAll(async () => {
  await new Promise((resolve) => http?.close(resolve));
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

/** A fresh empty working directory and Deno cache. */
function fresh(name: string): { cwd: string; env: Record<string, string> } {
  const cwd = join(tmp, name, "cwd");
  mkdirSync(cwd, { recursive: true });
  return { cwd, env: { DENO_DIR: join(tmp, name, "deno-dir") } };
}

/** `deno run FLAGS URL ARGS` in `cwd`, as a runCli command. */
function denoRun(cwd: string, env: Record<string, string>, flags: string[]): [string, string[]] {
  const [cmd, ...pre] = inDir(cwd, env);
  return [cmd!, [...pre, DENO, "run", ...flags, url]];
}

test("deno run --allow-net <url> serve: echoes over TCP, fetches only src/ and adapters/deno/, writes nothing", async () => {
  const { cwd, env } = fresh("serve");
  requested.clear();
  const server = await startServer("deno", ["--listen", "127.0.0.1:0"], {
    command: [DENO, ["run", "--allow-net", url]],
    wrap: inDir(cwd, env),
    startTimeoutMs: 60_000,
  });
  try {
    expect(server.log()).toContain("runtime=deno");
    expect(await echoOnce(server.port, "hello from a URL\n")).toBe("hello from a URL\n");
    // The client verb from the URL too.
    const sent = await runCli("deno", ["send", `127.0.0.1:${server.port}`, "and back"], {
      command: denoRun(cwd, env, ["--allow-net"]),
    });
    expect(sent.stderr).toBe("");
    expect(sent.stdout.toString()).toBe("and back\n");
  } finally {
    expect((await server.stop()).code).toBe(0);
  }
  expect(requested).toContain("/adapters/deno/main.ts");
  expect([...requested].filter((p) => !/^\/(src|adapters\/deno)\/[\w/.-]+\.ts$/.test(p))).toEqual([]);
  expect(readdirSync(cwd)).toEqual([]); // no lock file, no node_modules
});

/** The last line of stderr: the lines before it are Deno's own "Download URL" lines. */
const lastLine = (stderr: string) => stderr.trimEnd().split("\n").at(-1);

test("without a permission, serve and send fail at once with the contract's sentence and the flag to add", async () => {
  const { cwd, env } = fresh("no-net");
  const command = denoRun(cwd, env, []);
  const serve = await runCli("deno", ["serve", "--listen", "127.0.0.1:0"], { command });
  expect(serve.code).toBe(1);
  expect(lastLine(serve.stderr)).toBe(
    "switchboard: cannot listen on 127.0.0.1:0: permission denied (EACCES); run deno with --allow-net",
  );
  const send = await runCli("deno", ["send", "127.0.0.1:1", "x"], { command });
  expect(send.code).toBe(1);
  expect(lastLine(send.stderr)).toBe(
    "switchboard: cannot connect to 127.0.0.1:1: permission denied (EACCES); run deno with --allow-net",
  );
  const data = await runCli("deno", ["serve", "--service", "app", "--data", "/etc/hostname"], {
    command: denoRun(cwd, env, ["--allow-net"]),
  });
  expect(data.code).toBe(1);
  expect(lastLine(data.stderr)).toBe(
    'switchboard: --data "/etc/hostname": cannot read: permission denied (EACCES); run deno with --allow-read',
  );
});

test("a unix socket takes --allow-net --allow-read --allow-write (listening without any one of them is refused)", async () => {
  const { cwd, env } = fresh("unix");
  const path = join(tmp, "unix", "echo.sock");
  const flags = ["--allow-net", `--allow-read=${join(tmp, "unix")}`, `--allow-write=${join(tmp, "unix")}`];
  for (const missing of flags) {
    const r = await runCli("deno", ["serve", "--listen", `unix:${path}`], {
      command: denoRun(cwd, env, flags.filter((f) => f !== missing)),
    });
    expect(r.code, `without ${missing}`).toBe(1);
    expect(lastLine(r.stderr)).toContain(`permission denied (EACCES); run deno with ${missing.split("=")[0]}`);
  }
  const server = await startServer("deno", ["--listen", `unix:${path}`], {
    command: [DENO, ["run", ...flags, url]],
    wrap: inDir(cwd, env),
    startTimeoutMs: 60_000,
  });
  try {
    // The client from the URL too, with the same three flags.
    const sent = await runCli("deno", ["send", `unix:${path}`, "over a unix socket"], {
      command: denoRun(cwd, env, flags),
    });
    expect(sent.stdout.toString()).toBe("over a unix socket\n");
  } finally {
    expect((await server.stop()).code).toBe(0);
  }
});

test("serve --service app --data FILE takes --allow-read for that file; request works from the URL", async () => {
  const { cwd, env } = fresh("app");
  const file = join(tmp, "app", "words.json");
  writeFileSync(file, JSON.stringify({ switchboard: "connects calls" }));
  const server = await startServer("deno", ["--service", "app", "--data", file, "--listen", "127.0.0.1:0"], {
    command: [DENO, ["run", "--allow-net", `--allow-read=${file}`, url]],
    wrap: inDir(cwd, env),
    startTimeoutMs: 60_000,
  });
  try {
    const r = await runCli("deno", ["request", `127.0.0.1:${server.port}`, "search", "switchboard"], {
      command: denoRun(cwd, env, ["--allow-net"]),
    });
    expect(r.stdout.toString()).toBe("connects calls\n");
  } finally {
    expect((await server.stop()).code).toBe(0);
  }
  const denied = await runCli("deno", ["serve", "--service", "app", "--data", file, "--listen", "127.0.0.1:0"], {
    command: denoRun(cwd, env, ["--allow-net"]),
  });
  expect(denied.code).toBe(1);
  expect(lastLine(denied.stderr)).toBe(
    `switchboard: --data "${file}": cannot read: permission denied (EACCES); run deno with --allow-read`,
  );
});

/** Hold `n` connections to 127.0.0.1:port until each is served (its byte echoed) or refused (closed). */
async function holdConnections(port: number, n: number): Promise<{ served: number; refused: number; close(): void }> {
  const socks: Socket[] = [];
  const outcomes = await Promise.all(
    Array.from({ length: n }, () =>
      new Promise<"served" | "refused">((resolve, reject) => {
        const s = createConnection({ host: "127.0.0.1", port }, () => s.write("x"));
        socks.push(s);
        s.on("data", () => resolve("served"));
        s.on("error", () => {}); // a refusal is a reset: counted at close
        s.on("close", () => resolve("refused"));
        s.setTimeout(20_000, () => reject(new Error("a held connection was neither served nor refused in 20 s")));
      })),
  );
  for (const s of socks) s.setTimeout(0);
  return {
    served: outcomes.filter((o) => o === "served").length,
    refused: outcomes.filter((o) => o === "refused").length,
    close: () => socks.forEach((s) => s.destroy()),
  };
}

test("what -A adds: the open-file limit sizes the default --max-conns (else 4096 is assumed)", async () => {
  // Under an open-file limit of 600, -A lets the server read it and cap itself below it;
  // --allow-net alone cannot read /proc/self/limits, so all held connections are served.
  // The cap counts the descriptors Deno already holds (its module cache, and the
  // connections of the module download: a hundred or so), so it is logged, not computed.
  const limit = 600;
  const ceiling = defaultMaxConns(limit);
  const held = ceiling + 12; // above any cap, well below the descriptors left
  const { cwd, env } = fresh("all");
  for (const flags of [["-A"], ["--allow-net"]]) {
    const server = await startServer("deno", ["--listen", "127.0.0.1:0"], {
      command: ["prlimit", [`--nofile=${limit}:${limit}`, DENO, "run", ...flags, url]],
      wrap: inDir(cwd, env),
      startTimeoutMs: 60_000,
    });
    let conns: Awaited<ReturnType<typeof holdConnections>> | undefined;
    try {
      conns = await holdConnections(server.port, held);
      const cap = Number(/listening .*max_conns=(\d+)/.exec(server.log())?.[1]);
      if (flags[0] === "-A") expect(cap).toBeLessThan(ceiling); // the open descriptors were counted
      else expect(cap).toBe(FALLBACK_MAX_CONNS);
      const expected = flags[0] === "-A" ? [cap, held - cap] : [held, 0];
      expect([conns.served, conns.refused], server.log().slice(-2000)).toEqual(expected);
    } finally {
      conns?.close();
      expect((await server.stop()).code).toBe(0);
    }
  }
});

describe("deno install -g from the URL", () => {
  test("installs a `switchboard` command (with a lock file) that serves echo", async () => {
    const { cwd, env } = fresh("install");
    const root = join(tmp, "install", "root");
    // Asynchronously: a synchronous child would block this process's HTTP server.
    const [cmd, ...pre] = inDir(cwd, env);
    const installed = await runCli("deno", [], {
      command: [cmd!, [...pre, DENO, "install", "-g", "--root", root, "-n", "switchboard", "--allow-net", url]],
      timeoutMs: 120_000,
    });
    expect(installed.code, installed.stderr).toBe(0);
    const script = readFileSync(join(root, "bin", "switchboard"), "utf8");
    expect(script).toContain(`deno run --allow-net`);
    expect(readdirSync(join(root, "bin", ".switchboard"))).toContain("deno.lock"); // pins what was fetched
    // The generated script runs `deno` from PATH.
    const server = await startServer("deno", ["--listen", "127.0.0.1:0"], {
      command: ["switchboard", []],
      wrap: inDir(cwd, { ...env, PATH: `${join(root, "bin")}:${BIN}:${process.env.PATH}` }),
      startTimeoutMs: 60_000,
    });
    try {
      expect(await echoOnce(server.port, "hello from deno install\n")).toBe("hello from deno install\n");
    } finally {
      expect((await server.stop()).code).toBe(0);
    }
  });
});

test("deno run --allow-net --allow-run <url> serve --workers 2: the workers run the same URL and both serve", async () => {
  const { cwd, env } = fresh("workers");
  const args = ["--workers", "2", "--listen", "127.0.0.1:0", "--log-format", "json", "--log-level", "debug"];
  const server = await startServer("deno", args, {
    command: [DENO, ["run", "--allow-net", "--allow-run", url]],
    wrap: inDir(cwd, env),
    startTimeoutMs: 60_000,
  });
  try {
    const clients = await clientsOnWorkers(server, [1, 2], 1);
    for (const c of clients) await roundTrip(c, "from a URL, by a worker");
    for (const c of clients) c.socket.destroy();
  } finally {
    expect((await server.stop()).code).toBe(0);
  }
  expect(readdirSync(cwd)).toEqual([]);
});
