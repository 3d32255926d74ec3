// docs/examples as a user runs them: the package is packed and installed offline into a
// temporary copy of docs/examples (they import "switchboard" by name), `npm run build`
// type-checks them with tsc --strict, and each runs on Node (the tsc output), Bun and
// Deno (the .ts files), as real processes, talked to over TCP on loopback.
import { type ChildProcess, spawn } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { createConnection, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { CLI_RUNTIMES, type CliRuntime, killTree, listeningAddr, ROOT, runCli } from "../support/cli.ts";
import { BIN, dropNpmEnv, echoOnce, inDir, packPackage, run } from "../support/package.ts";
import { waitFor } from "../support/sockets.ts";

dropNpmEnv();
const EXAMPLES = join(ROOT, "docs/examples");
let tmp = "";
let project = "";

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), "sb-examples-"));
  const { tarball } = packPackage(tmp);
  project = join(tmp, "project");
  cpSync(EXAMPLES, project, { recursive: true, filter: (p) => !/\/(out|node_modules)$/.test(p) });
  // Offline: the examples' typescript devDependency is this repository's copy, linked in
  // after the install (npm would prune it); switchboard is the tarball.
  const pkg = JSON.parse(readFileSync(join(project, "package.json"), "utf8"));
  delete pkg.devDependencies;
  writeFileSync(join(project, "package.json"), JSON.stringify(pkg, null, 2));
  run("npm", ["install", "--offline", "--cache", join(tmp, "npm-cache"), "--no-audit", "--no-fund", tarball], project);
  symlinkSync(join(ROOT, "node_modules/typescript"), join(project, "node_modules/typescript"));
  mkdirSync(join(project, "node_modules/.bin"), { recursive: true });
  symlinkSync("../typescript/bin/tsc", join(project, "node_modules/.bin/tsc"));
  run("npm", ["run", "build"], project); // tsc --strict (the examples' tsconfig.json) into out/
}, 240_000);

afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

/** The one command that runs an example on a runtime, as docs/examples/README.md gives it. */
function command(runtime: CliRuntime, example: string, args: string[]): [string, string[]] {
  switch (runtime) {
    case "node":
      return [process.execPath, [`out/${example}/node.js`, ...args]]; // what `npm run EXAMPLE` runs after tsc
    case "bun":
      return [`${BIN}bun`, [`${example}/bun.ts`, ...args]];
    case "deno":
      return [`${BIN}deno`, ["run", "--allow-net", `${example}/deno.ts`, ...args]];
  }
}

const env = () => ({ DENO_DIR: join(tmp, "deno-dir"), NO_COLOR: "1" });

interface Example {
  child: ChildProcess;
  port: number;
  log(): string;
  /** SIGTERM (the example asked serve() to handle it): resolves with the exit code. */
  stop(): Promise<number | null>;
}

/** Start a server example on 127.0.0.1:0; resolves at its `listening` line (bounded). */
function startExample(runtime: CliRuntime, example: string): Promise<Example> {
  const [cmd, args] = command(runtime, example, ["127.0.0.1:0"]);
  const wrap = inDir(project, env());
  const child = spawn(wrap[0]!, [...wrap.slice(1), cmd, ...args], { stdio: ["ignore", "ignore", "pipe"] });
  let log = "";
  const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      killTree(child);
      reject(new Error(`${example} on ${runtime} did not start within 60 s; log:\n${log}`));
    }, 60_000);
    void exited.then((code) => reject(new Error(`${example} on ${runtime} exited (${code}); log:\n${log}`)));
    child.stderr!.setEncoding("utf8");
    child.stderr!.on("data", (text: string) => {
      log += text;
      const addr = log.split("\n").map(listeningAddr).find((a) => a !== undefined);
      if (addr === undefined) return;
      clearTimeout(timer);
      resolve({
        child,
        port: Number(addr.slice(addr.lastIndexOf(":") + 1)),
        log: () => log,
        stop: async () => {
          child.kill("SIGTERM");
          const t = setTimeout(() => killTree(child), 15_000);
          const code = await exited;
          clearTimeout(t);
          return code;
        },
      });
    });
  });
}

/** Run a client example to its end (bounded): exit code and output. */
async function runClient(runtime: CliRuntime, args: string[]) {
  const [cmd, pre] = runtime === "node"
    ? ["npm", ["run", "--silent", "client", "--", ...args]] as [string, string[]] // the npm script: tsc, then node
    : command(runtime, "client", args);
  const wrap = inDir(project, env());
  const r = await runCli(runtime, [], { command: [wrap[0]!, [...wrap.slice(1), cmd, ...pre]], timeoutMs: 60_000 });
  return { code: r.code, stdout: r.stdout.toString(), stderr: r.stderr };
}

/** Code lines: not blank, not a comment. */
const codeLines = (src: string) => src.split("\n").filter((l) => l.trim() !== "" && !l.trim().startsWith("//"));

describe("the same file on every runtime", () => {
  test.each(["uppercase", "pubsub", "client"])("%s/{node,bun,deno}.ts differ only in the entry point import", (ex) => {
    const bodies = CLI_RUNTIMES.map((rt) => {
      const src = readFileSync(join(EXAMPLES, ex, `${rt}.ts`), "utf8");
      const imports = src.split("\n").filter((l) => l.includes(`"switchboard/${rt}"`));
      expect(imports, `${ex}/${rt}.ts imports switchboard/${rt} on one line`).toHaveLength(1);
      // Take the entry's import out: what is left must be byte for byte the same.
      return src.replace(imports[0]!, "IMPORT").replace(new RegExp(`\\b${rt}(Host|Transport)\\b`, "g"), "RT$1");
    });
    expect(bodies[1]).toBe(bodies[0]);
    expect(bodies[2]).toBe(bodies[0]);
  });

  test("the uppercase server is at most a dozen lines of code", () => {
    for (const rt of CLI_RUNTIMES) {
      expect(codeLines(readFileSync(join(EXAMPLES, "uppercase", `${rt}.ts`), "utf8")).length).toBeLessThanOrEqual(12);
    }
  });
});

describe.each(CLI_RUNTIMES)("on %s", (runtime) => {
  test("uppercase answers each line; the client example talks to it; SIGTERM drains and exits 0", async () => {
    const server = await startExample(runtime, "uppercase");
    let stopped = false;
    try {
      expect(server.log()).toMatch(new RegExp(`listening .*service=uppercase runtime=${runtime}`));
      expect(await echoOnce(server.port, "hello\r\nwörld\nno newline")).toBe("HELLO\nWÖRLD\nNO NEWLINE\n");
      const client = await runClient(runtime, [`127.0.0.1:${server.port}`, "hello", "switchboard"]);
      expect(client, client.stderr).toMatchObject({ code: 0, stdout: "HELLO\nSWITCHBOARD\n" });
      expect(await server.stop()).toBe(0);
      stopped = true;
      expect(server.log()).toMatch(/shutting down signal=SIGTERM[\s\S]*stopped service=uppercase accepted=2/);
      // Nothing listens there now: the client fails by itself, saying why.
      const refused = await runClient(runtime, [`127.0.0.1:${server.port}`, "hello"]);
      expect(refused.code).not.toBe(0);
      expect(refused.stderr).toContain("ECONNREFUSED");
    } finally {
      if (!stopped) await server.stop();
    }
  });

  test("pubsub: a subscriber that does not read is cut off; the fast ones never stall", async () => {
    const server = await startExample(runtime, "pubsub");
    const peers: LinePeer[] = [];
    try {
      const fast = Array.from({ length: 5 }, () => new LinePeer(server.port));
      const slow = new LinePeer(server.port);
      const pub = new LinePeer(server.port);
      peers.push(...fast, slow, pub);
      for (const sub of [...fast, slow]) sub.send("SUB news");
      await waitFor(() => [...fast, slow].every((p) => p.count("OK subscribed") === 1), "every subscription");
      slow.socket.pause(); // reads nothing from now on: its buffers fill up
      const pad = "x".repeat(1000);
      let sent = 0;
      const allFastHave = () => fast.every((p) => p.count("MSG news") === sent);
      // Batches of 20 (about 20 KB): every fast subscriber must have every message before
      // the next batch, so none of them is ever the one behind. Bounded: at most 3000
      // batches (~60 MB).
      for (let batch = 0; !server.log().includes("slow subscriber cut off"); batch++) {
        expect(batch, "the slow subscriber was never cut off").toBeLessThan(3000);
        for (let i = 0; i < 20; i++) pub.send(`PUB news ${sent++} ${pad}`);
        await waitFor(() => allFastHave() && pub.count("OK ") === sent, `batch ${batch}`, 30_000);
      }
      expect(server.log()).toMatch(/WARN +slow subscriber cut off conn=\d+ topic=news/);
      expect(server.log().match(/slow subscriber cut off/g)).toHaveLength(1); // only the slow one
      // After the cut: the next message goes to the fast subscribers alone ("OK 5").
      pub.send(`PUB news ${sent++} after the cut`);
      await waitFor(() => allFastHave() && pub.lines.at(-1) === `OK ${fast.length}`, "a message after the cut");
      for (const p of fast) expect(p.lines.at(-1)).toBe(`MSG news ${sent - 1} after the cut`);
      // The slow one gets what was queued for it (not everything), then the connection ends.
      slow.socket.resume();
      await waitFor(() => slow.closed, "the slow subscriber's connection to end", 45_000);
      expect(slow.count("MSG news")).toBeLessThan(sent);
    } finally {
      for (const p of peers) p.socket.destroy();
      await server.stop();
    }
  });
});

/** A loopback client that counts the lines it reads (keeping only the last few). */
class LinePeer {
  readonly socket: Socket;
  readonly lines: string[] = [];
  readonly #counts = new Map<string, number>();
  #partial = "";
  closed = false;

  constructor(port: number) {
    this.socket = createConnection({ host: "127.0.0.1", port });
    this.socket.setEncoding("utf8");
    this.socket.on("data", (d: string) => {
      const parts = (this.#partial + d).split("\n");
      this.#partial = parts.pop()!;
      for (const line of parts) {
        const key = line.startsWith("MSG news") ? "MSG news" : line.startsWith("OK ") ? "OK " : line;
        this.#counts.set(key, (this.#counts.get(key) ?? 0) + 1);
        if (line.startsWith("OK subscribed")) this.#counts.set("OK subscribed", 1);
        this.lines.push(line);
        if (this.lines.length > 4) this.lines.shift();
      }
    });
    this.socket.on("error", () => {}); // a reset after the cut is an ending too
    this.socket.on("close", () => (this.closed = true));
  }

  send(line: string): void {
    this.socket.write(line + "\n");
  }

  /** Lines seen that start with `prefix` ("MSG news", "OK ", "OK subscribed"). */
  count(prefix: string): number {
    return this.#counts.get(prefix) ?? 0;
  }
}
