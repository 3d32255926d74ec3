// How much load one `switchboard bench` process can drive (issue 10 §1: the generator must
// not be the bottleneck): closed loop against the C epoll server, bench pinned to core 1,
// its own CPU per request from its --json report; and the client's cost per round trip at
// one connection next to sockperf (Debian's ping-pong tool, C, blocking sockets), each
// against a server on core 0.
import { spawn } from "node:child_process";
import { createServer } from "node:net";
import { children, cpuSeconds } from "./procs.mjs";

/** Runs a command on core 1 to its end; resolves with its stdout, rejects on a non-zero exit. */
function onCore1(cmd, args, limitMs) {
  return new Promise((resolve, reject) => {
    const child = spawn("taskset", ["-c", "1", cmd, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    children.add(child);
    let out = "", err = "";
    const timer = setTimeout(() => child.kill("SIGKILL"), limitMs);
    child.stdout.on("data", (b) => (out += b));
    child.stderr.on("data", (b) => (err += b));
    child.on("exit", (code, sig) => {
      clearTimeout(timer);
      children.delete(child);
      if (code === 0) resolve({ out, pid: child.pid });
      else reject(new Error(`${cmd} ${args.join(" ")} failed (${code ?? sig}): ${err.slice(-2000)}`));
    });
  });
}

/** `switchboard bench` (argv prefix `cli`) against `server`: its rate and both sides' CPU per request. */
export async function benchCapacity(cli, server, { conns, warmup, seconds }) {
  const [cmd, pre] = cli;
  const args = [...pre, "bench", `127.0.0.1:${server.port}`, "-c", String(conns), "-d", `${seconds}s`];
  args.push("--warmup", `${warmup}s`, "--json", "--pid", String(server.pid));
  const { out } = await onCore1(cmd, args, (warmup + seconds + 60) * 1000);
  const r = JSON.parse(out);
  if (r.requests === 0) throw new Error(`bench against ${server.label}: no request completed`);
  return {
    value: r.throughput_rps,
    gen_us: r.bench_cpu_s_per_request * 1e6,
    gen_share: r.bench_cpu_share,
    server_us: r.server_cpu_s_per_request * 1e6,
  };
}

async function freePort() {
  const s = createServer();
  await new Promise((r) => s.listen(0, "127.0.0.1", r));
  const { port } = s.address();
  await new Promise((r) => s.close(r));
  return port;
}

/** sockperf's own server on core 0 (it only answers sockperf's message format). */
export async function startSockperfServer() {
  const port = await freePort();
  const child = spawn("taskset", ["-c", "0", "sockperf", "server", "--tcp", "-i", "127.0.0.1", "-p", String(port)], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.add(child);
  let log = "";
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`sockperf server: not listening within 10 s\n${log}`)), 10_000);
    const seen = (b) => {
      log += b;
      if (/PORT = \d+/.test(log)) (clearTimeout(timer), resolve());
    };
    child.stdout.on("data", seen);
    child.stderr.on("data", seen);
    child.on("exit", (code) => reject(new Error(`sockperf server exited (${code})\n${log}`)));
  });
  return { child, pid: child.pid, port, label: "sockperf server" };
}

/**
 * sockperf ping-pong, one connection, as fast as replies come: round trips/s and the client's
 * CPU per round trip. Its CPU is read from /proc just before it exits (sockperf runs its
 * `-t` seconds plus a 0.4 s warm-up; C start-up is negligible), over all messages sent.
 */
export async function sockperfClient(server, { seconds }) {
  const args = ["ping-pong", "--tcp", "-i", "127.0.0.1", "-p", String(server.port), "-t", String(seconds)];
  args.push("-m", "64", "--mps=max");
  const child = spawn("taskset", ["-c", "1", "sockperf", ...args], { stdio: ["ignore", "pipe", "pipe"] });
  children.add(child);
  let out = "", cpu = 0;
  // The last reading before the exit: sampled every 50 ms (a 10 ms tick clock; error under 2%).
  const sampler = setInterval(() => {
    try {
      cpu = cpuSeconds(child.pid);
    } catch { /* gone */ }
  }, 50);
  child.stdout.on("data", (b) => (out += b));
  child.stderr.on("data", (b) => (out += b));
  const code = await new Promise((r) => child.on("exit", r));
  clearInterval(sampler);
  children.delete(child);
  const total = /\[Total Run\] RunTime=([\d.]+) sec;.*ReceivedMessages=(\d+)/.exec(out);
  if (code !== 0 || !total) throw new Error(`sockperf ping-pong failed (${code}): ${out.slice(-2000)}`);
  const [runTime, received] = [Number(total[1]), Number(total[2])];
  return { value: received / runTime, gen_us: (cpu / received) * 1e6 };
}
