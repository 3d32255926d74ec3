// The supervisor of `serve --workers N`: starts N worker processes (all must be listening
// before the start counts), replaces a worker that dies with exponential backoff, gives up
// on a crash loop, and on a stop signal forwards it to every worker and waits until all
// have exited. Runtime-free: processes come from a `start` function (the Host's spawner in
// the CLI, a fake one in unit tests).

import type { Logger } from "../log.ts";
import type { WorkerProcess } from "../host.ts";
import { type ControlMessage, parseControlLine } from "./worker-role.ts";

export interface RestartPolicy {
  /** Delay before the first restart of a worker; doubles with each recent restart. */
  initialMs: number;
  /** Upper bound of that delay. */
  maxMs: number;
  /** More restarts of one worker than this within `windowMs` is a crash loop: give up. */
  maxRestarts: number;
  windowMs: number;
}

export const DEFAULT_RESTART: RestartPolicy = { initialMs: 100, maxMs: 5_000, maxRestarts: 5, windowMs: 60_000 };

export interface SupervisorConfig {
  count: number;
  /**
   * "reuseport": every worker binds the port itself, so workers after the first bind the
   * addresses the first one got (port 0 resolved). "cluster": the runtime shares the
   * command line's addresses among its workers.
   */
  sharing: "reuseport" | "cluster";
  /** Start worker `id`, binding `listen` instead of the command line's addresses when given. */
  start(id: number, listen: readonly string[] | undefined): WorkerProcess;
  log: Logger;
  restart?: RestartPolicy;
  now?: () => number;
  /** A control line other than "listening"/"failed" (e.g. a metrics report) from worker `id`'s process `pid`. */
  onMessage?(id: number, pid: number, msg: ControlMessage): void;
  /** Worker `id`'s process `pid` has exited (after its last control line). */
  onExit?(id: number, pid: number): void;
}

/** One worker slot as a status page shows it. */
export interface WorkerSlot {
  id: number;
  /** undefined while the slot waits for its replacement. */
  pid: number | undefined;
  listening: boolean;
  /** When the current process was started (ms since the epoch). */
  startedAt: number | undefined;
  /** Replacements of this worker since the start. */
  restarts: number;
}

/** A worker that could not start: its own error, which fails the whole start. */
export class WorkerStartError extends Error {
  constructor(readonly worker: number, message: string, readonly code: number) {
    super(message);
    this.name = "WorkerStartError";
  }
}

interface Slot {
  id: number;
  proc: WorkerProcess | undefined;
  listening: boolean;
  startedAt: number | undefined;
  /** All restarts of this slot. */
  restartCount: number;
  /** Times of this slot's restarts within the policy window. */
  restarts: number[];
  timer: ReturnType<typeof setTimeout> | undefined;
}

export class Supervisor {
  readonly #cfg: SupervisorConfig;
  readonly #policy: RestartPolicy;
  readonly #now: () => number;
  readonly #slots: Slot[] = [];
  #listen: string[] | undefined;
  #running = false;
  #stopping = false;
  #failed = false;
  #badExit = false;
  #finish!: (code: number) => void;
  /** Settles with the exit code once stopped and every worker has exited: 0 only if all exited 0. */
  readonly finished: Promise<number>;

  constructor(cfg: SupervisorConfig) {
    this.#cfg = cfg;
    this.#policy = cfg.restart ?? DEFAULT_RESTART;
    this.#now = cfg.now ?? Date.now;
    this.finished = new Promise((resolve) => (this.#finish = resolve));
  }

  /** The live workers (id and pid), e.g. for a status page or for collecting their metrics. */
  workers(): { id: number; pid: number }[] {
    return this.#slots.flatMap((s) => (s.proc ? [{ id: s.id, pid: s.proc.pid }] : []));
  }

  /** Every worker slot, in id order, with or without a process now. */
  slots(): WorkerSlot[] {
    return this.#slots.map((s) => ({
      id: s.id,
      pid: s.proc?.pid,
      listening: s.listening,
      startedAt: s.startedAt,
      restarts: s.restartCount,
    }));
  }

  /** Workers listening now. */
  listening(): number {
    return this.#slots.filter((s) => s.listening).length;
  }

  /**
   * Send SIGHUP (reload) to every worker that listens: one still starting may not handle
   * it yet (the runtime's default action would end it); it reads the files itself anyway.
   */
  reload(): number {
    const to = this.#slots.filter((s) => s.listening && s.proc);
    for (const s of to) s.proc!.kill("SIGHUP");
    return to.length;
  }

  /**
   * Start every worker; resolves with the bound addresses once all of them listen. If one
   * fails, the others are stopped and this rejects with that worker's WorkerStartError.
   */
  async start(): Promise<string[]> {
    for (let id = 1; id <= this.#cfg.count; id++) {
      this.#slots.push({
        id,
        proc: undefined,
        listening: false,
        startedAt: undefined,
        restartCount: 0,
        restarts: [],
        timer: undefined,
      });
    }
    try {
      // The first alone: with reuseport the others bind the port it got.
      const addrs = await this.#launch(this.#slots[0]!);
      if (this.#cfg.sharing === "reuseport") this.#listen = addrs;
      await Promise.all(this.#slots.slice(1).map((s) => this.#launch(s)));
      // One that listened and died while the others were still starting is not restarted
      // (restarts begin once all are up): the start fails as if it had not listened.
      const gone = this.#slots.find((s) => s.proc === undefined);
      if (gone) throw new WorkerStartError(gone.id, `worker ${gone.id} exited during start-up`, 1);
      this.#running = true;
      return addrs;
    } catch (err) {
      this.#stopping = true;
      for (const s of this.#slots) s.proc?.kill("SIGTERM");
      await Promise.all(this.#slots.map((s) => s.proc?.exited));
      throw err;
    }
  }

  /** Forward a stop signal to every worker; the first also ends restarts and starts the wait for all to exit. */
  stop(signal: "SIGINT" | "SIGTERM"): void {
    if (!this.#stopping) {
      this.#stopping = true;
      for (const s of this.#slots) clearTimeout(s.timer);
    }
    for (const s of this.#slots) s.proc?.kill(signal);
    this.#checkDone();
  }

  /** Start the process of `slot` and wait until it listens (its addresses) or fails. */
  #launch(slot: Slot): Promise<string[]> {
    const proc = this.#cfg.start(slot.id, this.#listen);
    slot.proc = proc;
    slot.listening = false;
    slot.startedAt = this.#now();
    this.#cfg.log.info("worker started", { worker: slot.id, pid: proc.pid });
    const ready = new Promise<string[]>((resolve, reject) => {
      proc.onLine((line) => {
        const m = parseControlLine(line);
        if (m?.sb === "listening") {
          if (slot.proc === proc) slot.listening = true;
          resolve(m.addrs);
        } else if (m?.sb === "failed") reject(new WorkerStartError(slot.id, m.message, m.code));
        else if (m) this.#cfg.onMessage?.(slot.id, proc.pid, m);
      });
      void proc.exited.then(({ code, signal }) =>
        reject(
          new WorkerStartError(
            slot.id,
            `worker ${slot.id} exited before listening (${signal ? `signal ${signal}` : `exit code ${code}`})`,
            1,
          ),
        )
      );
    });
    void proc.exited.then((r) => this.#exited(slot, proc, r));
    return ready;
  }

  #exited(slot: Slot, proc: WorkerProcess, r: { code: number | null; signal: string | null }): void {
    this.#cfg.onExit?.(slot.id, proc.pid);
    if (slot.proc !== proc) return;
    slot.proc = undefined;
    slot.listening = false;
    slot.startedAt = undefined;
    if (this.#stopping && r.code !== 0) this.#badExit = true; // a crash replaced earlier does not count
    if (this.#stopping || !this.#running) return this.#checkDone();
    const exitedAt = this.#now();
    this.#cfg.log.warn("worker exited", {
      worker: slot.id,
      pid: proc.pid,
      code: r.code ?? undefined,
      signal: r.signal ?? undefined,
    });
    const p = this.#policy;
    slot.restarts = slot.restarts.filter((t) => exitedAt - t < p.windowMs);
    if (slot.restarts.length >= p.maxRestarts) {
      this.#cfg.log.error("worker crash loop: giving up", {
        worker: slot.id,
        restarts: slot.restarts.length,
        window_ms: p.windowMs,
      });
      this.#failed = true;
      return this.stop("SIGTERM");
    }
    slot.restarts.push(exitedAt);
    slot.restartCount++;
    const delay = Math.min(p.maxMs, p.initialMs * 2 ** (slot.restarts.length - 1));
    this.#cfg.log.info("restarting worker", { worker: slot.id, delay_ms: delay });
    slot.timer = setTimeout(() => {
      slot.timer = undefined;
      if (this.#stopping) return;
      let ready: Promise<string[]>;
      try {
        ready = this.#launch(slot);
      } catch (err) {
        // Not a worker that died but the runtime refusing to start one: retrying will not help.
        this.#cfg.log.error("cannot restart worker: giving up", { worker: slot.id, error: String(err) });
        this.#failed = true;
        return this.stop("SIGTERM");
      }
      ready.then(
        () =>
          this.#cfg.log.info("worker replaced", {
            worker: slot.id,
            pid: slot.proc?.pid,
            restart_ms: this.#now() - exitedAt,
          }),
        () => {}, // it has exited, or will: its exit schedules the next try
      );
    }, delay);
  }

  #checkDone(): void {
    if (!this.#stopping || !this.#running) return;
    if (this.#slots.some((s) => s.proc !== undefined)) return;
    this.#finish(this.#failed || this.#badExit ? 1 : 0);
  }
}
