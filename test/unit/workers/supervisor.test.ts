// The supervisor's rules with fake worker processes (the real ones: test/e2e/workers.test.ts):
// start order and addresses, all-or-nothing start, restarts with doubling delays, the
// crash-loop cap, signal forwarding and the exit code.
import { describe, expect, test } from "vitest";
import type { WorkerProcess } from "../../../src/host.ts";
import type { LogFields, Logger, LogLevel } from "../../../src/log.ts";
import { type RestartPolicy, Supervisor, WorkerStartError } from "../../../src/workers/supervisor.ts";
import { controlLine, parseControlLine, takeWorkerRole, workerArgs } from "../../../src/workers/worker-role.ts";
import { lineSplitter } from "../../../src/workers/lines.ts";
import { emptyCounts } from "../../../src/admin/counts.ts";
import { waitFor } from "../../support/sockets.ts";

class FakeWorker implements WorkerProcess {
  static nextPid = 1000;
  readonly pid = FakeWorker.nextPid++;
  readonly signals: string[] = [];
  #line: (line: string) => void = () => {};
  #exit!: (r: { code: number | null; signal: string | null }) => void;
  readonly exited = new Promise<{ code: number | null; signal: string | null }>((r) => (this.#exit = r));
  constructor(readonly id: number, readonly listen: readonly string[] | undefined, readonly stopCode: number) {}
  onLine(fn: (line: string) => void): void {
    this.#line = fn;
  }
  say(text: string): void {
    this.#line(text.replace(/\n$/, ""));
  }
  listening(addrs = ["127.0.0.1:4000"]): void {
    this.say(controlLine({ sb: "listening", addrs }));
  }
  exit(code: number | null, signal: string | null = null): void {
    this.#exit({ code, signal });
  }
  kill(signal: "SIGINT" | "SIGTERM" | "SIGHUP" | "SIGKILL"): void {
    this.signals.push(signal);
    if (signal === "SIGHUP") return; // a reload: the worker carries on
    if (signal !== "SIGKILL") queueMicrotask(() => this.exit(this.stopCode)); // a drain that ends at once
  }
}

function recorder(): Logger & { lines: { level: LogLevel; msg: string; fields: LogFields }[] } {
  const lines: { level: LogLevel; msg: string; fields: LogFields }[] = [];
  const log = (level: LogLevel, msg: string, fields: LogFields = {}) => void lines.push({ level, msg, fields });
  return {
    lines,
    log,
    debug: (m, f) => log("debug", m, f),
    info: (m, f) => log("info", m, f),
    warn: (m, f) => log("warn", m, f),
    error: (m, f) => log("error", m, f),
  };
}

const FAST: RestartPolicy = { initialMs: 1, maxMs: 4, maxRestarts: 3, windowMs: 60_000 };

function setup(sharing: "reuseport" | "cluster", count = 2, stopCode = 0, restart = FAST) {
  const started: FakeWorker[] = [];
  const log = recorder();
  const sup = new Supervisor({
    count,
    sharing,
    log,
    restart,
    start: (id, listen) => {
      const w = new FakeWorker(id, listen, stopCode);
      started.push(w);
      return w;
    },
  });
  return { sup, started, log };
}

/** Start and make every worker report listening as soon as it is started. */
async function startAll(s: ReturnType<typeof setup>): Promise<string[]> {
  const p = s.sup.start();
  await waitFor(() => s.started.length >= 1, "worker 1");
  s.started[0]!.listening(["127.0.0.1:4000"]);
  await waitFor(() => s.started.length >= 2, "worker 2");
  for (const w of s.started.slice(1)) w.listening(["127.0.0.1:4000"]);
  return await p;
}

describe("Supervisor", () => {
  test("reload() sends SIGHUP to listening workers only; slots() shows state and restarts", async () => {
    const s = setup("reuseport", 2);
    const p = s.sup.start();
    expect(s.sup.reload()).toBe(0); // worker 1 not listening yet: a SIGHUP could end it
    expect(s.sup.slots().map((w) => [w.id, w.listening])).toEqual([[1, false], [2, false]]);
    s.started[0]!.listening();
    await waitFor(() => s.started.length === 2, "worker 2");
    expect(s.sup.listening()).toBe(1);
    s.started[1]!.listening();
    await p;
    expect(s.sup.reload()).toBe(2);
    expect(s.started.map((w) => w.signals)).toEqual([["SIGHUP"], ["SIGHUP"]]);
    s.started[0]!.exit(null, "SIGKILL");
    await waitFor(() => s.started.length === 3, "the replacement");
    expect(s.sup.slots()[0]).toMatchObject({ id: 1, pid: s.started[2]!.pid, listening: false, restarts: 1 });
    expect(s.sup.reload()).toBe(1);
    s.started[2]!.listening();
    expect(s.sup.slots()[0]).toMatchObject({ listening: true, restarts: 1 });
    s.sup.stop("SIGTERM");
    expect(await s.sup.finished).toBe(0);
  });

  test("control lines other than listening/failed reach onMessage; every exit reaches onExit", async () => {
    const got: string[] = [];
    const started: FakeWorker[] = [];
    const sup = new Supervisor({
      count: 1,
      sharing: "cluster",
      log: recorder(),
      restart: FAST,
      start: (id, listen) => {
        const w = new FakeWorker(id, listen, 0);
        started.push(w);
        return w;
      },
      onMessage: (id, pid, m) => got.push(`${id} ${pid === started.at(-1)!.pid} ${m.sb}`),
      onExit: (id, pid) => got.push(`${id} exit ${pid === started[0]!.pid}`),
    });
    const p = sup.start();
    started[0]!.listening();
    await p;
    started[0]!.say(controlLine({ sb: "metrics", counts: emptyCounts() }));
    started[0]!.say('{"sb":"metrics","counts":{"accepted":-1}}'); // not counts: ignored
    started[0]!.say("not json");
    sup.stop("SIGTERM");
    await sup.finished;
    expect(got).toEqual(["1 true metrics", "1 exit true"]);
  });

  test("reuseport: the first worker starts alone; the others bind the addresses it got", async () => {
    const s = setup("reuseport", 3);
    const p = s.sup.start();
    expect(s.started.length).toBe(1);
    expect(s.started[0]!.listen).toBeUndefined();
    s.started[0]!.listening(["127.0.0.1:4321"]);
    await waitFor(() => s.started.length === 3, "workers 2 and 3");
    expect(s.started.slice(1).map((w) => w.listen)).toEqual([["127.0.0.1:4321"], ["127.0.0.1:4321"]]);
    let done = false;
    void p.then(() => (done = true));
    s.started[1]!.listening(["127.0.0.1:4321"]);
    await new Promise((r) => setTimeout(r, 5));
    expect(done, "not started while worker 3 is not listening").toBe(false);
    s.started[2]!.listening(["127.0.0.1:4321"]);
    expect(await p).toEqual(["127.0.0.1:4321"]);
    expect(s.sup.workers().map((w) => w.id)).toEqual([1, 2, 3]);
  });

  test("cluster: every worker gets the command line's addresses", async () => {
    const s = setup("cluster", 2);
    await startAll(s);
    expect(s.started.map((w) => w.listen)).toEqual([undefined, undefined]);
  });

  test("a worker that fails fails the start with its own error; the others are stopped", async () => {
    const s = setup("reuseport", 3);
    const p = s.sup.start();
    s.started[0]!.listening();
    await waitFor(() => s.started.length === 3, "all workers");
    s.started[2]!.say(controlLine({ sb: "failed", code: 1, message: "cannot listen on 127.0.0.1:4000: boom" }));
    s.started[2]!.exit(1);
    const err = await p.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkerStartError);
    expect((err as WorkerStartError).message).toBe("cannot listen on 127.0.0.1:4000: boom");
    expect((err as WorkerStartError).worker).toBe(3);
    expect(s.started[0]!.signals).toEqual(["SIGTERM"]);
    expect(s.started[1]!.signals).toEqual(["SIGTERM"]);
  });

  test("a worker that listened and died while another was still starting fails the start", async () => {
    const s = setup("cluster", 2);
    const p = s.sup.start();
    s.started[0]!.listening();
    await waitFor(() => s.started.length === 2, "worker 2");
    s.started[0]!.exit(null, "SIGKILL");
    await waitFor(() => s.sup.workers().length === 1, "worker 1 gone");
    s.started[1]!.listening();
    await expect(p).rejects.toThrow("worker 1 exited during start-up");
    expect(s.started[1]!.signals).toEqual(["SIGTERM"]);
  });

  test("a worker that exits before listening, without a word, fails the start saying so", async () => {
    const s = setup("cluster", 1);
    const p = s.sup.start();
    s.started[0]!.exit(null, "SIGKILL");
    await expect(p).rejects.toThrow("worker 1 exited before listening (signal SIGKILL)");
  });

  test("a dead worker is replaced after a doubling delay, keeping its id; a crash loop stops everything with 1", async () => {
    const s = setup("reuseport", 2);
    await startAll(s);
    for (let i = 0; i < FAST.maxRestarts; i++) {
      const n = s.started.length;
      s.started.filter((w) => w.id === 1).at(-1)!.exit(null, "SIGKILL");
      await waitFor(() => s.started.length === n + 1, `replacement ${i + 1}`);
      const repl = s.started.at(-1)!;
      expect(repl.id).toBe(1);
      expect(repl.listen).toEqual(["127.0.0.1:4000"]);
      repl.listening();
      await waitFor(
        () => s.log.lines.filter((l) => l.msg === "worker replaced").length === i + 1,
        `replacement ${i + 1} reported`,
      );
    }
    const delays = s.log.lines.filter((l) => l.msg === "restarting worker").map((l) => l.fields.delay_ms);
    expect(delays).toEqual([1, 2, 4]);
    expect(s.log.lines.filter((l) => l.msg === "worker replaced").length).toBe(3);
    s.started.at(-1)!.exit(1); // the 4th death within the window: one too many
    expect(await s.sup.finished).toBe(1);
    expect(s.log.lines.some((l) => l.level === "error" && l.msg === "worker crash loop: giving up")).toBe(true);
    expect(s.started[1]!.signals).toEqual(["SIGTERM"]);
  });

  test("a replacement the runtime refuses to start stops everything with 1 (no crash of the supervisor)", async () => {
    const log = recorder();
    const started: FakeWorker[] = [];
    const sup = new Supervisor({
      count: 2,
      sharing: "cluster",
      log,
      restart: FAST,
      start: (id, listen) => {
        if (started.length === 2) throw new Error("Requires run access");
        const w = new FakeWorker(id, listen, 0);
        started.push(w);
        queueMicrotask(() => w.listening());
        return w;
      },
    });
    await sup.start();
    started[0]!.exit(null, "SIGKILL");
    expect(await sup.finished).toBe(1);
    expect(log.lines.find((l) => l.msg === "cannot restart worker: giving up")?.fields).toMatchObject({
      worker: 1,
      error: "Error: Requires run access",
    });
    expect(started[1]!.signals).toEqual(["SIGTERM"]);
  });

  test("delays stop growing at maxMs", async () => {
    const s = setup("cluster", 1);
    const sup = new Supervisor({
      count: 1,
      sharing: "cluster",
      log: s.log,
      restart: { initialMs: 1, maxMs: 3, maxRestarts: 10, windowMs: 60_000 },
      start: (id, listen) => {
        const w = new FakeWorker(id, listen, 0);
        s.started.push(w);
        queueMicrotask(() => w.listening());
        return w;
      },
    });
    await sup.start();
    for (let i = 0; i < 4; i++) {
      const n = s.started.length;
      s.started.at(-1)!.exit(1);
      await waitFor(() => s.started.length === n + 1, "a replacement");
    }
    expect(s.log.lines.filter((l) => l.msg === "restarting worker").map((l) => l.fields.delay_ms)).toEqual([
      1,
      2,
      3,
      3,
    ]);
  });

  test("stop forwards the signal to every worker (each time) and exits 0 once all exited 0", async () => {
    const s = setup("cluster", 2);
    await startAll(s);
    s.sup.stop("SIGTERM");
    expect(await s.sup.finished).toBe(0);
    expect(s.started.map((w) => w.signals)).toEqual([["SIGTERM"], ["SIGTERM"]]);
  });

  test("a worker that does not exit 0 from its drain makes the exit code 1", async () => {
    const s = setup("cluster", 2, 1);
    await startAll(s);
    s.sup.stop("SIGINT");
    expect(await s.sup.finished).toBe(1);
  });

  test("a restart pending at stop is dropped; an earlier crash does not spoil a clean stop", async () => {
    const s = setup("cluster", 2, 0, { ...FAST, initialMs: 60_000, maxMs: 60_000 }); // still pending at the stop
    await startAll(s);
    s.started[0]!.exit(null, "SIGKILL");
    await waitFor(() => s.log.lines.some((l) => l.msg === "restarting worker"), "restart scheduled");
    s.sup.stop("SIGTERM");
    expect(await s.sup.finished).toBe(0);
    expect(s.started.length).toBe(2);
    expect(s.sup.workers()).toEqual([]);
  });
});

describe("worker role and control lines", () => {
  test("the role rides in front of the serve arguments and comes back off them", () => {
    const args = workerArgs({ id: 2, listen: ["127.0.0.1:9"], reusePort: true }, ["--service", "echo"]);
    expect(args[0]).toBe("serve");
    const { role, argv } = takeWorkerRole(args.slice(1));
    expect(role).toEqual({ id: 2, listen: ["127.0.0.1:9"], reusePort: true });
    expect(argv).toEqual(["--service", "echo"]);
    expect(takeWorkerRole(["--service", "echo"])).toEqual({ argv: ["--service", "echo"] });
  });

  test("control lines parse back; other lines are ignored", () => {
    expect(parseControlLine(controlLine({ sb: "listening", addrs: ["[::1]:1"] }).trim())).toEqual({
      sb: "listening",
      addrs: ["[::1]:1"],
    });
    expect(parseControlLine("hello")).toBeUndefined();
    expect(parseControlLine('{"sb":"other"}')).toBeUndefined();
  });

  test("lines split anywhere are put back together", () => {
    const got: string[] = [];
    const split = lineSplitter((l) => got.push(l));
    for (const chunk of ["a", "b\nc", "\n\nd"]) split(chunk);
    expect(got).toEqual(["ab", "c", ""]);
  });
});
