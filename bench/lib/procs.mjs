// Processes for the benchmark: servers pinned to core 0, the generator to core 1, server
// CPU time and RSS read from /proc, every child killed on the way out.
import { spawn, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";

/** Every child still running: killed on the way out (capacity.mjs adds its own). */
export const children = new Set();
/** Kill every child still running (on exit, error or Ctrl-C). */
export function killAll() {
  for (const c of children) c.kill("SIGKILL");
  children.clear();
}
process.on("exit", killAll);
for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => (killAll(), process.exit(130)));

/** Fails with a clear message when a program the benchmark needs is missing. */
export function requireTool(name, why) {
  const r = spawnSync("sh", ["-c", `command -v ${name}`], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`bench needs \`${name}\` (${why}); install it (Debian: apt-get install ${name})`);
}

const TICKS = Number(spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).stdout.trim() || 100);

/** CPU seconds (user + system) the process has used so far. */
export function cpuSeconds(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" "); // fields from 3 on
  return (Number(fields[11]) + Number(fields[12])) / TICKS; // utime, stime (fields 14, 15)
}

/** Resident set size in bytes. */
export function rssBytes(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return Number(m[1]) * 1024;
}

/** Starts a server on core 0; resolves once it prints `listening ... addr=127.0.0.1:PORT`. */
export function startServer([cmd, args], label) {
  return new Promise((resolve, reject) => {
    const child = spawn("taskset", ["-c", "0", cmd, ...args], { stdio: ["ignore", "ignore", "pipe"] });
    children.add(child);
    let log = "";
    const fail = (why) => {
      clearTimeout(timer);
      child.kill("SIGKILL");
      reject(new Error(`${label}: ${why}\n${log.slice(-2000)}`));
    };
    const timer = setTimeout(() => fail("no `listening` line within 30 s"), 30_000);
    child.stderr.on("data", (b) => {
      log += b;
      const m = /listening .*?addr=127\.0\.0\.1:(\d+)/.exec(log);
      if (m && timer) {
        clearTimeout(timer);
        resolve({ child, pid: child.pid, port: Number(m[1]), label });
      }
    });
    child.on("error", (e) => fail(e.message));
    child.on("exit", (code, sig) => {
      children.delete(child);
      fail(`exited (${code ?? sig})`);
    });
  });
}

export async function stopServer(s) {
  if (s.child.exitCode !== null || s.child.signalCode !== null) return;
  const gone = new Promise((r) => s.child.once("exit", r));
  s.child.kill("SIGKILL");
  await gone;
}

/**
 * Runs the generator on core 1: `gen` is a Node script's path or a program's [path, args].
 * `onLine(line)` sees its "start"/"end"/"ready" lines as they come; resolves with its final
 * JSON line. Killed after `limitMs`.
 */
export function runGenerator(gen, args, limitMs, onLine = () => {}) {
  const [cmd, pre] = typeof gen === "string" ? [process.execPath, [gen]] : gen;
  return new Promise((resolve, reject) => {
    const child = spawn("taskset", ["-c", "1", cmd, ...pre, ...args], {
      stdio: ["pipe", "pipe", "pipe"],
    });
    children.add(child);
    let out = "", err = "", last;
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`generator ${args.join(" ")} did not finish within ${limitMs} ms`));
    }, limitMs);
    child.stdout.on("data", (b) => {
      out += b;
      let i;
      while ((i = out.indexOf("\n")) >= 0) {
        const line = out.slice(0, i);
        out = out.slice(i + 1);
        if (line.startsWith("{")) last = line;
        else onLine(line, child);
      }
    });
    child.stderr.on("data", (b) => (err += b));
    child.on("exit", (code) => {
      clearTimeout(timer);
      children.delete(child);
      if (code !== 0 || !last) reject(new Error(`generator ${args.join(" ")} failed (${code}): ${err.slice(-2000)}`));
      else resolve(JSON.parse(last));
    });
  });
}
