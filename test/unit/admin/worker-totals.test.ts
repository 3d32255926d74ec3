// Summing workers' counts (serve --workers --admin), portable: counts survive a control
// line, bad ones are refused, sums add every field, a worker's exit keeps its counters
// (never backwards) and turns its open connections into "worker-exit" closes, and the
// supervisor's endpoint answers /healthz, /readyz and /status.json from its workers.
import { describe, expect, test } from "vitest";
import type { WorkerProcess } from "../../../src/host.ts";
import type { Logger } from "../../../src/log.ts";
import { addCounts, type Counts, emptyCounts, parseCounts } from "../../../src/admin/counts.ts";
import { WORKER_EXIT_REASON, WorkerTotals } from "../../../src/admin/worker-totals.ts";
import { Supervisor } from "../../../src/workers/supervisor.ts";
import { controlLine, parseControlLine } from "../../../src/workers/worker-role.ts";
import { workersBinding } from "../../../src/cli/serve-workers-admin.ts";
import { RateHistory } from "../../../src/admin/history.ts";
import { resolveOptions } from "../../../src/server/options.ts";
import { renderMetrics } from "../../../src/admin/prometheus.ts";
import { sample } from "../../support/admin.ts";
import { waitFor } from "../../support/sockets.ts";

function counts(accepted: number, open: number, peerClosed: number, bytes: number): Counts {
  const c = emptyCounts();
  c.accepted = accepted;
  c.open = open;
  c.closedByReason["peer-closed"] = peerClosed;
  c.bytesIn = bytes;
  c.bytesOut = bytes;
  c.app = { "search ok": accepted };
  c.lifetime = {
    ...c.lifetime,
    counts: c.lifetime.counts.map((_, i) => (i === 0 ? peerClosed : 0)),
    count: peerClosed,
  };
  c.top = open ? [{ id: 1, peer: "127.0.0.1:5000", openedAt: 1000, bytesIn: bytes, bytesOut: 0, queuedBytes: 0 }] : [];
  c.oldestOpenedAt = open ? 1000 : null;
  return c;
}

/** Every counter field of `c` (what must never go backwards). */
function counters(c: Counts): number[] {
  return [
    c.accepted,
    c.refused,
    c.bytesIn,
    c.bytesOut,
    c.framesIn,
    c.framesOut,
    ...Object.values(c.closedByReason),
    ...Object.values(c.refusedByReason),
    ...Object.values(c.app),
    ...c.lifetime.counts,
    c.lifetime.count,
  ];
}

describe("Counts", () => {
  test("a control line carries them unchanged; malformed ones are not counts", () => {
    const c = counts(5, 2, 3, 100);
    const m = parseControlLine(controlLine({ sb: "metrics", counts: c }).trim());
    expect(m).toEqual({ sb: "metrics", counts: JSON.parse(JSON.stringify(c)) });
    expect(parseCounts({ ...c, accepted: -1 })).toBeUndefined();
    expect(parseCounts({ ...c, bytesIn: "7" })).toBeUndefined();
    expect(parseCounts({ ...c, closedByReason: { "peer-closed": NaN } })).toBeUndefined();
    expect(parseCounts({ ...c, lifetime: { ...c.lifetime, counts: [1] } })).toBeUndefined();
    expect(parseCounts(null)).toBeUndefined();
    expect(parseControlLine('{"sb":"metrics","counts":{}}')).toBeUndefined();
  });

  test("addCounts adds every counter, gauge and bucket", () => {
    const s = addCounts(counts(5, 2, 3, 100), counts(7, 1, 6, 50));
    expect(s).toMatchObject({ accepted: 12, open: 3, bytesIn: 150, app: { "search ok": 12 } });
    expect(s.closedByReason["peer-closed"]).toBe(9);
    expect(s.lifetime.counts[0]).toBe(9);
    expect(s.lifetime.count).toBe(9);
    expect(s.top.length).toBe(2);
  });
});

describe("WorkerTotals", () => {
  test("sums live workers; an exit keeps counters, drops gauges, and counts its open connections as worker-exit", () => {
    const t = new WorkerTotals();
    t.report(1, 101, counts(5, 2, 3, 100));
    t.report(2, 102, counts(7, 1, 6, 50));
    const before = t.total();
    expect(before).toMatchObject({ accepted: 12, open: 3 });
    expect(before.top.map((x) => x.worker).sort()).toEqual([1, 2]);

    t.exited(1, 999); // not worker 1's current process: nothing changes
    expect(t.total()).toEqual(before);
    t.exited(1, 101);
    const after = t.total();
    expect(after).toMatchObject({ accepted: 12, open: 1 });
    expect(after.closedByReason[WORKER_EXIT_REASON]).toBe(2);
    const [b, a] = [counters(before), counters(after)];
    expect(a.every((v, i) => v >= b[i]!), "no counter went backwards").toBe(true);
    // The replacement starts from zero; the totals go on from where they were.
    t.report(1, 103, counts(1, 1, 0, 10));
    expect(t.total()).toMatchObject({ accepted: 13, open: 2, bytesIn: 160 });
    expect(t.last(1)?.pid).toBe(103);
  });
});

class Fake implements WorkerProcess {
  static pid = 5000;
  readonly pid = Fake.pid++;
  line: (l: string) => void = () => {};
  done!: (r: { code: number | null; signal: string | null }) => void;
  readonly exited = new Promise<{ code: number | null; signal: string | null }>((r) => (this.done = r));
  onLine(fn: (l: string) => void) {
    this.line = fn;
  }
  say(msg: Parameters<typeof controlLine>[0]) {
    this.line(controlLine(msg).trim());
  }
  kill(signal: string) {
    if (signal !== "SIGHUP") queueMicrotask(() => this.done({ code: 0, signal: null }));
  }
}

const quiet: Logger = { log() {}, debug() {}, info() {}, warn() {}, error() {} };

describe("the supervisor's admin source", () => {
  test("health and readiness follow the workers; status lists each; metrics sum them", async () => {
    const procs: Fake[] = [];
    const totals = new WorkerTotals();
    const sup = new Supervisor({
      count: 2,
      sharing: "cluster",
      log: quiet,
      start: () => {
        const f = new Fake();
        procs.push(f);
        return f;
      },
      onMessage: (id, pid, m) => m.sb === "metrics" && totals.report(id, pid, m.counts),
      onExit: (id, pid) => totals.exited(id, pid),
    });
    const life = { stopping: false };
    const info = { runtime: "node", runtimeVersion: "node 20", service: "echo", memoryRss: () => 1000 };
    const binding = workersBinding({
      sup,
      totals,
      info,
      life,
      options: resolveOptions({ maxConns: 10 }),
      listeners: () => ["127.0.0.1:7"],
      startedAt: Date.now(),
    });
    const src = binding.source(new RateHistory(() => binding.totals()));
    expect(src.unhealthyReason()).toBe("no worker listening");
    expect(src.notReadyReason()).toBe("no worker listening");

    const started = sup.start();
    procs[0]!.say({ sb: "listening", addrs: ["127.0.0.1:7"] }); // the first starts alone
    await waitFor(() => procs.length === 2, "worker 2 spawned");
    expect(src.unhealthyReason()).toBeNull(); // one worker listening is alive
    procs[1]!.say({ sb: "listening", addrs: ["127.0.0.1:7"] });
    await started;
    procs[0]!.say({ sb: "metrics", counts: counts(5, 2, 3, 100) });
    procs[1]!.say({ sb: "metrics", counts: counts(7, 1, 6, 50) });
    expect(src.unhealthyReason()).toBeNull();
    expect(src.notReadyReason()).toBeNull();
    expect(binding.totals()).toEqual({ accepted: 12, closed: 9 });

    const snap = src.snapshot();
    expect(snap.status.workers!.map((w) => [w.id, w.pid, w.state, w.connections])).toEqual([
      [1, procs[0]!.pid, "listening", { open: 2, accepted: 5, closed: 3 }],
      [2, procs[1]!.pid, "listening", { open: 1, accepted: 7, closed: 6 }],
    ]);
    expect(snap.status.memory.rssBytes).toBe(1000); // the supervisor's; the fake reports carry none
    const text = renderMetrics(snap);
    expect(sample(text, "switchboard_connections_accepted_total")).toBe(12);
    expect(sample(text, 'switchboard_worker_connections_open{worker="2"}')).toBe(1);
    expect(sample(text, "switchboard_connections_max")).toBe(20); // 10 per worker, 2 listening

    life.stopping = true;
    expect(src.notReadyReason()).toBe("draining");
    sup.stop("SIGTERM");
    await sup.finished;
    expect(src.unhealthyReason()).toBe("no worker listening");
    expect(binding.totals()).toEqual({ accepted: 12, closed: 12 }); // 3 open ones closed by their exit
  });
});
