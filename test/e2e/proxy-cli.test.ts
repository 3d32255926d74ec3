// serve --proxy-protocol with send/request --proxy, as users run them, on every runtime:
// the address in the header is the one the server logs and limits; a connection without
// a valid header, or from an untrusted source, is refused with a log line saying why.
import { afterAll, describe, expect, test } from "vitest";
import { CLI_RUNTIMES, runCli, type RunningServer, startServer } from "../support/cli.ts";
import { waitFor } from "../support/sockets.ts";

const running: RunningServer[] = [];
afterAll(async () => {
  await Promise.all(running.map((s) => s.stop()));
});

async function serve(rt: (typeof CLI_RUNTIMES)[number], args: string[]): Promise<RunningServer> {
  const s = await startServer(rt, ["--listen", "127.0.0.1:0", "--log-level", "debug", "--proxy-protocol", ...args]);
  running.push(s);
  return s;
}

describe.each(CLI_RUNTIMES)("PROXY protocol on %s", (rt) => {
  test("send --proxy v1/v2 --proxy-source: echoed, and logged under the announced client", async () => {
    const s = await serve(rt, []);
    for (const [v, src] of [["v1", "203.0.113.7:5555"], ["v2", "[2001:db8::7]:6666"]] as const) {
      const r = await runCli(rt, ["send", `127.0.0.1:${s.port}`, "--proxy", v, "--proxy-source", src, `hi ${v}`]);
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      expect(r.stdout.toString()).toBe(`hi ${v}\n`);
      await waitFor(() => s.log().includes(`conn-open peer=${src}`), `a conn-open line for ${src}`);
    }
    expect(s.log()).toMatch(/proxy header peer=203\.0\.113\.7:5555 via=127\.0\.0\.1:\d+ version=1/);
    expect(s.log()).toMatch(/proxy header peer=\[2001:db8::7\]:6666 via=127\.0\.0\.1:\d+ version=2/);
  });

  test("request --proxy v2 to the app service", async () => {
    const s = await serve(rt, ["--service", "app"]);
    const r = await runCli(rt, [
      "request",
      `127.0.0.1:${s.port}`,
      "--proxy",
      "v2",
      "--proxy-source",
      "198.51.100.3:4000",
      "search",
      "ring",
    ]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout.toString()).toContain("Misty Mountains"); // the dictionary's entry for "ring"
    await waitFor(
      () => s.log().includes("conn-open peer=198.51.100.3:4000"),
      "the app session under the client's address",
    );
  });

  test("no header: the client fails, the server says who and why, and serves the next one", async () => {
    const s = await serve(rt, []);
    const bad = await runCli(rt, ["send", `127.0.0.1:${s.port}`, "--framing", "line", "no header"]);
    // A reset or a bare close, by runtime: either way no reply frame came back.
    expect(bad.stdout.toString()).toBe("");
    expect(bad.code).toBe(1);
    await waitFor(
      () => /reason=proxy-header peer=127\.0\.0\.1:\d+ error="bad PROXY header \(bad-signature\)/.test(s.log()),
      "the refusal line",
    );
    const good = await runCli(rt, ["send", `127.0.0.1:${s.port}`, "--proxy", "v2", "ok"]);
    expect(good.stdout.toString()).toBe("ok\n");
  });

  test("--proxy-trusted: an untrusted balancer is refused", async () => {
    const s = await serve(rt, ["--proxy-trusted", "10.0.0.0/8,192.168.0.0/16"]);
    const r = await runCli(rt, ["send", `127.0.0.1:${s.port}`, "--framing", "line", "--proxy", "v1", "x"]);
    expect(r.code).toBe(1);
    await waitFor(() => /reason=proxy-untrusted peer=127\.0\.0\.1:\d+/.test(s.log()), "the untrusted refusal line");
  });

  test("--drain-delay: SIGTERM first fails health checks; a second signal ends the delay at once", async () => {
    const s = await serve(rt, ["--drain-delay", "10m"]);
    s.child.kill("SIGTERM");
    await waitFor(() => s.log().includes("failing health checks before draining"), "the delay to begin");
    // A signal within 0.5 s of the first counts as the same one (stop-signals.ts): wait that out.
    const first = Date.now();
    await waitFor(() => Date.now() - first > 600, "the repeat window to pass");
    s.child.kill("SIGTERM");
    const r = await s.exited; // well before the 10 minutes: the test's own timeout bounds it
    expect(r.code).toBe(0);
    expect(s.log()).toContain("second signal: closing all connections now");
  });

  test("usage errors exit 2 and name the flag", async () => {
    const cases: [string[], RegExp][] = [
      [["send", ":1", "--proxy", "v3", "x"], /--proxy: expected one of v1, v2/],
      [["send", ":1", "--proxy-source", "1.2.3.4:5", "x"], /--proxy-source needs --proxy/],
      [["request", ":1", "--proxy", "v1", "--proxy-source", "example.com:5", "search", "x"], /must be an IP address/],
      [["serve", "--proxy-trusted", "10.0.0.0/8"], /--proxy-trusted needs --proxy-protocol/],
      [["serve", "--drain-delay", "1s"], /--drain-delay needs --proxy-protocol/],
      [["serve", "--proxy-protocol", "--proxy-trusted", "10.0.0.0/33"], /--proxy-trusted: bad network "10.0.0.0\/33"/],
      [["send", ":1", "--tls", "--proxy", "v2", "x"], /--proxy with --tls: not supported/],
      [["request", ":1", "--tls", "--proxy", "v1", "search", "x"], /--proxy with --tls: not supported/],
      // The header would come in clear before a handshake the adapters start at accept.
      [
        ["serve", "--proxy-protocol", "--tls-cert", "c.pem", "--tls-key", "k.pem"],
        /--proxy-protocol with --tls-cert: not/,
      ],
    ];
    for (const [args, want] of cases) {
      const r = await runCli(rt, args);
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.stderr).toMatch(want);
    }
  });
});
