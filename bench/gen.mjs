// The benchmark's load generator (Node, node:net), run as its own process pinned to its
// own core by bench/run.mjs. Every mode prints "start" when its measured window opens and
// "end" when it closes (run.mjs samples the server's CPU from /proc at those lines), then
// one JSON line of results for the window only. (Stream throughput has its own generator in
// C, bench/baseline/stream-client.c: this one would be the bottleneck.)
//   rate KIND HOST PORT CONNS RATE WARMUP SECONDS   open loop: RATE requests/s in all over CONNS
//        connections (KIND echo | lp | app; 64-byte echo/lp requests) → replies in the window
//   connect HOST PORT CONCURRENCY WARMUP SECONDS    closed loop: connect, 64 B there and back,
//        close → completed connections in the window
//   pingpong HOST PORT CONNS WARMUP SECONDS         closed loop, 64 B round trips → round trips
//        and this generator's own CPU time (its capacity)
//   idle HOST PORT N                                 open N connections, one 64 B round trip
//        each, print "ready", hold them until stdin closes
import net from "node:net";

const [mode, ...args] = process.argv.slice(2);
const MSG = 64;

const now = () => performance.now();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
let errors = 0;

function connect(host, port) {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host, port });
    s.setNoDelay(true);
    s.once("connect", () => resolve(s));
    s.once("error", reject);
  });
}

/** One request of each kind, and a counter of the replies in the bytes that come back. */
function protocol(kind) {
  if (kind === "echo") return { request: Buffer.alloc(MSG, 0x61), replies: fixedReplies };
  if (kind === "lp") {
    const b = Buffer.alloc(MSG, 0x61);
    b.writeUInt32BE(MSG - 4, 0);
    return { request: b, replies: fixedReplies };
  }
  if (kind === "app") {
    const content = Buffer.from(JSON.stringify({ action: "search", value: "morpheus" }));
    const header = Buffer.from(JSON.stringify({
      byteorder: "little",
      "content-type": "text/json",
      "content-encoding": "utf-8",
      "content-length": content.length,
    }));
    const len = Buffer.alloc(2);
    len.writeUInt16BE(header.length);
    return { request: Buffer.concat([len, header, content]), replies: appReplies };
  }
  throw new Error(`unknown kind ${kind}`);
}

// Echo and lp replies are exactly MSG bytes: count bytes.
function fixedReplies(state, chunk) {
  state.bytes = (state.bytes ?? 0) + chunk.length;
  const n = Math.floor(state.bytes / MSG);
  state.bytes -= n * MSG;
  return n;
}

// App replies: u16 header length, JSON header, content-length bytes.
function appReplies(state, chunk) {
  let buf = state.buf ? Buffer.concat([state.buf, chunk]) : chunk;
  let n = 0;
  for (;;) {
    if (buf.length < 2) break;
    const hl = buf.readUInt16BE(0);
    if (buf.length < 2 + hl) break;
    const m = /"content-length":\s*(\d+)/.exec(buf.toString("latin1", 2, 2 + hl));
    if (!m) throw new Error("reply header without content-length");
    const end = 2 + hl + Number(m[1]);
    if (buf.length < end) break;
    buf = buf.subarray(end);
    n++;
  }
  state.buf = buf.length ? buf : undefined;
  return n;
}

/** Runs `warmup` seconds, then a window of `seconds` marked by start/end lines; returns the window's counts. */
async function windowed(warmup, seconds, counter) {
  await sleep(warmup * 1000);
  const before = counter();
  const cpu0 = process.cpuUsage();
  const t0 = now();
  console.log("start");
  await sleep(seconds * 1000);
  const after = counter();
  const elapsed = (now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  console.log("end");
  return { before, after, elapsed, genCpu: (cpu.user + cpu.system) / 1e6 };
}

async function rate([kind, host, port, conns, rps, warmup, seconds]) {
  const { request, replies } = protocol(kind);
  const socks = [];
  let received = 0, sent = 0;
  for (let i = 0; i < Number(conns); i++) {
    const s = await connect(host, Number(port));
    const state = {};
    s.on("data", (b) => (received += replies(state, b)));
    s.on("error", () => errors++);
    socks.push(s);
  }
  const batches = new Map();
  const t0 = now();
  let running = true;
  let next = 0;
  const tick = () => {
    if (!running) return;
    const due = Math.floor(((now() - t0) / 1000) * Number(rps));
    for (; sent < due; sent++) batches.set(next, (batches.get(next) ?? 0) + 1), next = (next + 1) % socks.length;
    for (const [i, k] of batches) socks[i].write(k === 1 ? request : Buffer.concat(Array(k).fill(request)));
    batches.clear();
    setTimeout(tick, 1);
  };
  tick();
  const w = await windowed(Number(warmup), Number(seconds), () => received);
  running = false;
  for (const s of socks) s.destroy();
  return {
    replies: w.after - w.before,
    sent_total: sent,
    rps: (w.after - w.before) / w.elapsed,
    seconds: w.elapsed,
  };
}

/** A connect-mode connection the server has not closed by then is cut and counted as stuck. */
const STUCK_MS = 5000;

async function connectLoop([host, port, concurrency, warmup, seconds]) {
  let done = 0, running = true, stuck = 0;
  const payload = Buffer.alloc(MSG, 0x61);
  const one = () =>
    new Promise((resolve) => {
      const s = net.connect({ host, port: Number(port) }, () => s.end(payload));
      let got = 0;
      const timer = setTimeout(() => {
        stuck++;
        errors++;
        console.error(`stuck: port ${s.localPort} got ${got} of ${MSG} bytes and no close in ${STUCK_MS} ms`);
        s.destroy();
      }, STUCK_MS);
      s.on("data", (b) => (got += b.length));
      s.on("error", () => errors++);
      s.on("close", () => (clearTimeout(timer), got >= MSG && done++, resolve()));
    });
  const loops = Array.from({ length: Number(concurrency) }, async () => {
    while (running) await one();
  });
  const w = await windowed(Number(warmup), Number(seconds), () => done);
  running = false;
  await Promise.all(loops);
  return { connections: w.after - w.before, per_s: (w.after - w.before) / w.elapsed, seconds: w.elapsed, stuck };
}

async function pingpong([host, port, conns, warmup, seconds]) {
  const payload = Buffer.alloc(MSG, 0x61);
  let trips = 0, running = true;
  const socks = [];
  for (let i = 0; i < Number(conns); i++) {
    const s = await connect(host, Number(port));
    let pending = 0;
    s.on("data", (b) => {
      pending -= b.length;
      if (pending > 0) return;
      trips++;
      if (running) (pending = MSG), s.write(payload);
    });
    s.on("error", () => errors++);
    socks.push(s);
    pending = MSG;
    s.write(payload);
  }
  const w = await windowed(Number(warmup), Number(seconds), () => trips);
  running = false;
  for (const s of socks) s.destroy();
  const n = w.after - w.before;
  return { round_trips: n, rps: n / w.elapsed, gen_cpu_s: w.genCpu, gen_cpu_us_per_req: (w.genCpu / n) * 1e6 };
}

async function idle([host, port, count]) {
  const payload = Buffer.alloc(MSG, 0x61);
  const socks = [];
  for (let i = 0; i < Number(count); i++) {
    const s = await connect(host, Number(port));
    s.on("error", () => errors++);
    await new Promise((resolve) => {
      let got = 0;
      s.on("data", (b) => (got += b.length) >= MSG && resolve());
      s.write(payload);
    });
    socks.push(s);
  }
  console.log("ready");
  process.stdin.resume();
  await new Promise((r) => process.stdin.on("end", r));
  for (const s of socks) s.destroy();
  return { connections: socks.length };
}

const modes = { rate, connect: connectLoop, pingpong, idle };
if (!modes[mode]) {
  console.error(`usage: gen.mjs rate|connect|pingpong|idle ... (got ${mode})`);
  process.exit(2);
}
const result = await modes[mode](args);
console.log(JSON.stringify({ mode, errors, ...result }));
process.exit(0);
