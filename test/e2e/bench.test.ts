// `switchboard bench` on every runtime, against real `switchboard serve` children and
// purpose-built bad servers (test/support/bench-peers.ts): every mode completes with the
// documented JSON, a corrupted byte is caught, an open-loop run holds its rate against a
// slow server and shows the latency a stall caused, a server that never answers ends in
// timeouts, and the command line's mistakes are usage errors.
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
  CLI_RUNTIMES,
  cliCommand,
  type CliRuntime,
  ROOT,
  runCli,
  type RunningServer,
  startServer,
} from "../support/cli.ts";
import { echoPeer, type Peer, peer, silentPeer } from "../support/misbehaving-peers.ts";
import { corruptingEchoPeer, slowEchoPeer, stallingEchoPeer } from "../support/bench-peers.ts";

const ERROR_KINDS = ["connect", "reset", "timeout", "verify", "other"];

interface Result {
  mode: string;
  target: string;
  connections: number;
  duration_s: number;
  warmup_s: number;
  requests: number;
  bytes: number;
  bytes_out: number;
  bytes_in: number;
  throughput_rps: number;
  throughput_bytes_s: number;
  latency_us: Record<"min" | "p50" | "p90" | "p99" | "p999" | "max" | "mean", number>;
  errors: Record<string, number>;
  error_examples: string[];
  intended_rate: number | null;
  unsent: number;
  timeline: { interval_s: number; requests: number[]; errors: number[] };
  connections_opened?: number;
  connections_alive?: number;
  server_cpu_s?: number;
  server_cpu_s_per_request?: number | null;
  bench_cpu_s?: number;
  bench_cpu_s_per_request?: number | null;
  bench_cpu_share?: number;
}

/** Parse --json output and check the documented shape (docs/bench.md). */
function parseResult(stdout: Buffer): Result {
  const text = stdout.toString();
  expect(text.endsWith("}\n")).toBe(true);
  const r = JSON.parse(text) as Result;
  for (
    const f of ["connections", "duration_s", "requests", "bytes", "throughput_rps", "throughput_bytes_s"] as const
  ) {
    expect(typeof r[f], f).toBe("number");
  }
  expect(Object.keys(r.errors).sort()).toEqual([...ERROR_KINDS].sort());
  const l = r.latency_us;
  expect(l.min).toBeLessThanOrEqual(l.p50);
  expect(l.p50).toBeLessThanOrEqual(l.p90);
  expect(l.p90).toBeLessThanOrEqual(l.p99);
  expect(l.p99).toBeLessThanOrEqual(l.p999);
  expect(l.p999).toBeLessThanOrEqual(l.max);
  expect(typeof l.mean).toBe("number");
  expect(r.bytes).toBe(r.bytes_out + r.bytes_in);
  // the timeline accounts for every request and error counted
  expect(r.timeline.requests.reduce((a, b) => a + b, 0)).toBe(r.requests);
  expect(r.timeline.errors.reduce((a, b) => a + b, 0)).toBe(ERROR_KINDS.reduce((n, k) => n + r.errors[k]!, 0));
  return r;
}

describe.each(CLI_RUNTIMES)("bench on %s", (runtime: CliRuntime) => {
  const servers: RunningServer[] = [];
  const peers: Peer[] = [];
  let echo: string;
  let framed: string;
  let app: string;
  let echoPid: number;
  beforeAll(async () => {
    const [e, f, a] = await Promise.all([
      startServer("node", ["--listen", "127.0.0.1:0"]),
      startServer("node", ["--listen", "127.0.0.1:0", "--framing", "lp:u32"]),
      startServer("node", ["--listen", "127.0.0.1:0", "--service", "app"]),
    ]);
    servers.push(e, f, a);
    [echo, framed, app] = [e, f, a].map((s) => `127.0.0.1:${s.port}`) as [string, string, string];
    echoPid = e.child.pid!;
  });
  afterAll(async () => {
    for (const s of servers) await s.stop();
    for (const p of peers) await p.close();
  });
  const started = async (p: Promise<Peer>) => {
    const one = await p;
    peers.push(one);
    return `127.0.0.1:${one.port}`;
  };

  test("every mode against a real server: exit 0, every reply verified, the documented JSON", async () => {
    const runs: [string, string[]][] = [
      [echo, ["--mode", "echo"]],
      [echo, ["--mode", "echo", "--warmup", "200ms"]],
      [echo, ["--mode", "stream", "--size", "16KiB"]],
      [echo, ["--mode", "connect"]],
      [echo, ["--mode", "hold"]],
      [framed, ["--mode", "framed", "--framing", "lp:u32", "--size", "1KiB"]],
      [app, ["--mode", "app"]],
      [app, ["--mode", "app", "--new-conn"]],
    ];
    for (const [addr, args] of runs) {
      const r = await runCli(runtime, ["bench", addr, ...args, "-c", "3", "-d", "500ms", "--json"]);
      expect({ args, code: r.code, err: r.stderr }).toEqual({ args, code: 0, err: "" });
      const res = parseResult(r.stdout);
      expect(res.mode).toBe(args[1]);
      expect(res.connections).toBe(3);
      expect(res.requests).toBeGreaterThan(0);
      expect(res.errors).toEqual({ connect: 0, reset: 0, timeout: 0, verify: 0, other: 0 });
      expect(res.intended_rate).toBeNull();
      if (args.includes("--warmup")) expect(res.warmup_s).toBe(0.2);
      if (args[1] === "hold") expect([res.connections_opened, res.connections_alive]).toEqual([3, 3]);
      if (args[1] === "stream") expect(res.bytes_in).toBe(res.bytes_out); // every byte came back
    }
  });

  test("hold counts the connections a server drops as errors, exit 1", async () => {
    // a server that closes every connection as soon as it accepts it: its FIN can come
    // before bench's connect has resolved, and must still count
    const closer = await started(peer((sock) => sock.end()));
    const r = await runCli(runtime, ["bench", closer, "--mode", "hold", "-c", "3", "-d", "500ms", "--json"]);
    expect(r.code).toBe(1);
    const res = parseResult(r.stdout);
    expect([res.connections_opened, res.connections_alive, res.errors.other]).toEqual([3, 0, 3]);
    expect(res.error_examples).toEqual(["other: server closed a held connection"]);

    // a real server's idle timeout (100 ms, against a 2 s hold)
    const strict = await startServer("node", ["--listen", "127.0.0.1:0", "--idle-timeout", "100ms"]);
    servers.push(strict);
    const idle = await runCli(runtime, [
      "bench",
      `127.0.0.1:${strict.port}`,
      "--mode",
      "hold",
      "-c",
      "3",
      "-d",
      "2s",
      "--json",
    ]);
    expect(idle.code).toBe(1);
    const held = parseResult(idle.stdout);
    expect([held.connections_opened, held.connections_alive, held.errors.other]).toEqual([3, 0, 3]);
  });

  test("a unix-socket target", async () => {
    const path = join(tmpdir(), `sb-bench-${runtime}-${process.pid}.sock`);
    const server = await startServer("node", ["--listen", `unix:${path}`]);
    servers.push(server);
    const r = await runCli(runtime, ["bench", `unix:${path}`, "-c", "2", "-d", "300ms", "--json"]);
    expect({ code: r.code, err: r.stderr }).toEqual({ code: 0, err: "" });
    const res = parseResult(r.stdout);
    expect(res.target).toBe(`unix:${path}`);
    expect(res.requests).toBeGreaterThan(0);
  });

  test("the human summary names throughput, latency percentiles and errors by kind", async () => {
    const r = await runCli(runtime, ["bench", echo, "-c", "2", "-d", "300ms"]);
    expect(r.code).toBe(0);
    const out = r.stdout.toString();
    expect(out).toMatch(/^bench echo 127\.0\.0\.1:\d+ \(\w+\): 2 connections, [\d.]+s, closed loop\n/);
    expect(out).toMatch(/requests +\d+ \([\d.]+\/s\)/);
    expect(out).toMatch(/latency +p50 \S+ +p90 \S+ +p99 \S+ +p99\.9 \S+ +max \S+/);
    expect(out).toMatch(/errors +0 \(connect 0, reset 0, timeout 0, verify 0, other 0\)/);
    expect(r.stderr).toBe(""); // no progress line when stderr is not a terminal
  });

  test("on a terminal, a progress line on stderr (rate, errors, p99 so far), cleared before the summary", async () => {
    // script(1) (util-linux) runs bench on a pseudo-terminal; stdout and stderr both reach it
    const [cmd, pre] = cliCommand(runtime);
    const line = [cmd, ...pre, "bench", echo, "-c", "2", "-d", "3500ms"].map((a) => `'${a}'`).join(" ");
    const tty = await runCli(runtime, [], { command: ["script", ["-q", "-e", "-c", line, "/dev/null"]] }).catch(
      (err: Error) => {
        throw new Error(`this test needs script(1) from util-linux: ${err.message}`);
      },
    );
    expect(tty.code, tty.stderr).toBe(0);
    const out = tty.stdout.toString();
    const ESC = "\u001b"; // the terminal escape the progress line starts with
    const drawn = out.match(new RegExp(String.raw`\r${ESC}\[K\d+s {2}\d+ req/s {2}errors 0 {2}p99 \S+`, "g")) ?? [];
    expect(drawn.length, out).toBeGreaterThanOrEqual(2); // once a second, redrawn in place
    expect(out).toMatch(new RegExp(String.raw`\r${ESC}\[Kbench echo `)); // cleared, then the summary
  });

  test("a server that corrupts one byte: verify errors, exit 1, the report still printed", async () => {
    const bad = await started(corruptingEchoPeer(100)); // byte 100: inside the second 64-byte request
    const r = await runCli(runtime, ["bench", bad, "-c", "2", "-d", "300ms", "--json"]);
    expect(r.code).toBe(1);
    const res = parseResult(r.stdout);
    expect(res.errors.verify).toBeGreaterThanOrEqual(1);
    expect(res.error_examples.join("\n")).toMatch(/verify: reply byte 36 is 0x\w\w, sent 0x\w\w/);

    const s = await runCli(runtime, ["bench", bad, "--mode", "stream", "-c", "1", "-d", "300ms", "--json"]);
    expect(s.code).toBe(1);
    const streamed = parseResult(s.stdout);
    expect(streamed.errors.verify).toBe(1);
    expect(streamed.error_examples).toEqual(["verify: echoed byte 100 is wrong"]);
  });

  test("--rate holds its rate against a slow server, and latency includes the server's delay", async () => {
    const slow = await started(slowEchoPeer(20)); // capacity 4 connections / 20 ms = 200/s
    const r = await runCli(runtime, ["bench", slow, "--rate", "40", "-c", "4", "-d", "2s", "--json"]);
    expect(r.code).toBe(0);
    const res = parseResult(r.stdout);
    expect(res.intended_rate).toBe(40);
    // requests fall due at 40 per second from the start, the first at once, whatever the
    // server does (duration_s is rounded to the millisecond: allow that much more)
    expect(res.requests + res.unsent).toBeLessThanOrEqual(Math.floor(40 * (res.duration_s + 0.001)) + 1);
    // and the server kept up: about 80 answered in 2 s; at least half is the loose bound
    expect(res.requests).toBeGreaterThanOrEqual(40);
    expect(res.latency_us.min).toBeGreaterThanOrEqual(20_000); // the server holds every reply 20 ms
  });

  test("open loop: a server's stall shows as the latency it caused every request due meanwhile", async () => {
    // one connection, 50 requests/s; the 10th request's reply is held for a second, so
    // about 50 requests fall due during the stall and wait behind it
    const stalled = await started(stallingEchoPeer(10, 1000));
    const r = await runCli(runtime, ["bench", stalled, "--rate", "50", "-c", "1", "-d", "2s", "--json"]);
    expect(r.code).toBe(0);
    const open = parseResult(r.stdout);
    expect(open.latency_us.max).toBeGreaterThanOrEqual(1_000_000);
    // a quarter of the requests waited half the stall or more: p90 sees it
    expect(open.latency_us.p90).toBeGreaterThanOrEqual(500_000);

    // closed loop waits for the server and records the stall once: the percentiles hide it
    const again = await started(stallingEchoPeer(10, 1000));
    const c = await runCli(runtime, ["bench", again, "-c", "1", "-d", "2s", "--json"]);
    expect(c.code).toBe(0);
    const closed = parseResult(c.stdout);
    expect(closed.latency_us.max).toBeGreaterThanOrEqual(1_000_000);
    expect(closed.latency_us.p90).toBeLessThan(open.latency_us.p90);
  });

  test("Ctrl-C: the report so far, then exit 130", async () => {
    const target = await echoPeer();
    peers.push(target);
    const [cmd, pre] = cliCommand(runtime);
    const child = spawn(cmd, [...pre, "bench", `127.0.0.1:${target.port}`, "-c", "2", "-d", "60s", "--json"]);
    let out = "";
    let err = "";
    child.stdout.on("data", (b: Buffer) => (out += b.toString()));
    child.stderr.on("data", (b: Buffer) => (err += b.toString()));
    const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
    // wait (bounded) until the load is flowing: both connections open and bytes arriving
    const deadline = Date.now() + 20_000;
    while (!(target.accepted() >= 2 && target.bytesIn() > 0)) {
      if (Date.now() > deadline) {
        child.kill("SIGKILL");
        throw new Error(`bench never started sending; stderr: ${err}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    child.kill("SIGINT");
    const killer = setTimeout(() => child.kill("SIGKILL"), 20_000);
    const code = await exited;
    clearTimeout(killer);
    expect({ code, err }).toEqual({
      code: 130,
      err: "switchboard: bench interrupted; the report covers the run so far\n",
    });
    const res = parseResult(Buffer.from(out));
    expect(res.requests).toBeGreaterThan(0);
    expect(res.duration_s).toBeLessThan(60); // it ended at the signal, not at -d
  });

  test("a server that never answers: timeout errors, and bench ends by itself", async () => {
    const silent = await started(silentPeer());
    const r = await runCli(runtime, ["bench", silent, "-c", "2", "-d", "300ms", "-w", "300ms", "--json"], {
      timeoutMs: 30_000,
    });
    expect(r.signal).toBeNull();
    expect(r.code).toBe(1);
    const res = parseResult(r.stdout);
    expect(res.requests).toBe(0);
    expect(res.errors.timeout).toBeGreaterThanOrEqual(2);
    expect(res.error_examples).toContain("timeout: no reply within 300 ms");
  });

  test("nothing listening: connect errors, exit 1", async () => {
    const gone = await silentPeer();
    const addr = `127.0.0.1:${gone.port}`;
    await gone.close();
    const r = await runCli(runtime, ["bench", addr, "-c", "1", "-d", "200ms", "--json"]);
    expect(r.code).toBe(1);
    const res = parseResult(r.stdout);
    expect(res.errors.connect).toBeGreaterThanOrEqual(1);
    expect(res.error_examples[0]).toMatch(/^connect: cannot connect to 127\.0\.0\.1:\d+: connection refused/);
  });

  test("--pid adds the server's CPU time per request (bench's own is always there); an unknown pid is a clear error", async () => {
    const r = await runCli(runtime, ["bench", echo, "-c", "2", "-d", "500ms", "--pid", String(echoPid), "--json"]);
    expect(r.code).toBe(0);
    const res = parseResult(r.stdout);
    expect(typeof res.server_cpu_s).toBe("number");
    expect(res.server_cpu_s).toBeGreaterThanOrEqual(0);
    expect(res.server_cpu_s_per_request).toBeCloseTo(res.server_cpu_s! / res.requests, 2);
    // bench's own CPU, from the runtime (every runtime can tell): closed loop keeps it busy
    expect(res.bench_cpu_s).toBeGreaterThan(0);
    expect(res.bench_cpu_s_per_request).toBeCloseTo(res.bench_cpu_s! / res.requests, 2);
    expect(res.bench_cpu_share).toBeGreaterThan(0);
    const text = await runCli(runtime, ["bench", echo, "-c", "1", "-d", "200ms", "--pid", String(echoPid)]);
    expect(text.stdout.toString()).toMatch(/server cpu +[\d.]+s/);
    expect(text.stdout.toString()).toMatch(/bench cpu +[\d.]+s \(.+ per request, \d+% of one core\)/);

    const none = await runCli(runtime, ["bench", echo, "-d", "200ms", "--pid", "2147483646"]);
    expect(none.code).toBe(1);
    expect(none.stderr).toBe("switchboard: --pid 2147483646: no such process\n");
    expect(none.stdout.toString()).toBe("");
  });

  test("the README's bench reference is the real --help", async () => {
    const readme = readFileSync(join(ROOT, "README.md"), "utf8");
    const block = /```\n([\s\S]*?)```\n/.exec(readme.slice(readme.indexOf("### `switchboard bench`")))?.[1];
    const h = await runCli(runtime, ["bench", "--help"]);
    expect(h.code).toBe(0);
    expect(block).toBe(h.stdout.toString());
  });

  test("command-line mistakes are usage errors (exit 2, one line)", async () => {
    const cases: [string[], RegExp][] = [
      [["bench"], /needs the server's address/],
      [["bench", echo, "--mode", "nope"], /--mode: expected one of echo, stream, connect, hold, framed, app/],
      [["bench", echo, "--rate", "0"], /--rate: expected requests per second/],
      [["bench", echo, "-c", "0"], /--connections: expected a whole number from 1/],
      [["bench", echo, "-d", "0"], /--duration: must be longer than 0/],
      [["bench", echo, "--framing", "line"], /--framing: only with --mode framed/],
      [["bench", echo, "--mode", "framed"], /needs --framing/],
      [["bench", echo, "--mode", "framed", "--framing", "lp:u8", "--size", "300"], /--size 300 with --framing lp:u8/],
      [["bench", echo, "--mode", "stream", "--rate", "10"], /--rate: not for stream mode/],
      [["bench", echo, "--plot", "out.png"], /--plot: the file name must end in .svg or .html/],
      [["bench", echo, "-w", "0"], /--wait: must be longer than 0/],
    ];
    for (const [args, want] of cases) {
      const r = await runCli(runtime, args);
      expect({ args, code: r.code }).toEqual({ args, code: 2 });
      expect(r.stderr).toMatch(want);
      expect(r.stderr.trimEnd().split("\n")).toHaveLength(1);
    }
  });
});

describe.each(CLI_RUNTIMES)("bench --plot on %s", (runtime: CliRuntime) => {
  let server: RunningServer;
  let dir: string;
  beforeAll(async () => {
    server = await startServer("node", ["--listen", "127.0.0.1:0"]);
    dir = mkdtempSync(join(tmpdir(), "sb-bench-plot-"));
  });
  afterAll(async () => {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test("the SVG is XML with an <svg> root, drawing both charts; the HTML holds it inline and loads nothing", async () => {
    const svg = join(dir, `run-${runtime}.svg`);
    const html = join(dir, `run-${runtime}.html`);
    const addr = `127.0.0.1:${server.port}`;
    for (const file of [svg, html]) {
      const r = await runCli(runtime, ["bench", addr, "-c", "2", "-d", "500ms", "--rate", "400", "--plot", file]);
      expect({ code: r.code, err: r.stderr }).toEqual({ code: 0, err: "" });
    }
    // a real XML parser (Python's), not a regular expression
    const parsed = spawnSync("python3", [
      "-c",
      "import sys, xml.etree.ElementTree as E; r = E.parse(sys.argv[1]).getroot(); " +
      "print(r.tag, len(r.findall('.//{http://www.w3.org/2000/svg}polyline')))",
      svg,
    ], { encoding: "utf8" });
    if (parsed.error) throw new Error(`this test needs python3 to parse the SVG: ${parsed.error.message}`);
    expect(parsed.stderr).toBe("");
    expect(parsed.stdout.trim()).toBe("{http://www.w3.org/2000/svg}svg 2"); // latency curve and throughput
    const svgText = readFileSync(svg, "utf8");
    expect(svgText).not.toMatch(/\b(href|src)\s*=|<script|<image|@import|url\(/i);
    expect(svgText.match(/https?:\/\/[^"]*/g)).toEqual(["http://www.w3.org/2000/svg"]); // the namespace name only

    const page = readFileSync(html, "utf8");
    expect(page.startsWith("<!DOCTYPE html>")).toBe(true);
    expect(page).toContain("<svg ");
    expect(page).toMatch(/<th>latency p50 \/ p90 \/ p99 \/ p99\.9 \/ max<\/th>/);
    expect(page).not.toMatch(/https?:|\b(href|src)\s*=|<script|<link|<image|@import|url\(/i);
  });

  test("a plot that cannot be written: the report is printed, then exit 1 naming the file", async () => {
    const bad = join(dir, "missing-dir", "x.svg");
    const r = await runCli(runtime, ["bench", `127.0.0.1:${server.port}`, "-c", "1", "-d", "200ms", "--plot", bad]);
    expect(r.code).toBe(1);
    expect(r.stdout.toString()).toMatch(/^bench echo /);
    expect(r.stderr).toBe(`switchboard: --plot: cannot write ${bad}: no such file or directory (ENOENT)\n`);
  });
});
