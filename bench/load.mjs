// A small echo load generator on node:net, run as its own process so it does not share
// a CPU budget with the server it measures.
//   node bench/load.mjs pingpong HOST PORT CONNS SECONDS SIZE   → round trips/s
//   node bench/load.mjs stream   HOST PORT CONNS SECONDS CHUNK  → echoed MiB/s
// Prints one JSON line.
import net from "node:net";

const [mode, host, portText, connsText, secondsText, sizeText] = process.argv.slice(2);
const port = Number(portText), conns = Number(connsText), seconds = Number(secondsText), size = Number(sizeText);
const payload = Buffer.alloc(size, 0x61);
let roundTrips = 0, echoedBytes = 0, errors = 0;
const stopAt = Date.now() + seconds * 1000;
const sockets = [];

function pingpong(s) {
  let pending = 0;
  const send = () => {
    if (Date.now() >= stopAt) return s.end();
    pending = size;
    s.write(payload);
  };
  s.on("data", (b) => {
    pending -= b.length;
    echoedBytes += b.length;
    if (pending === 0) {
      roundTrips++;
      send();
    }
  });
  send();
}

function stream(s) {
  const pump = () => {
    while (Date.now() < stopAt) if (!s.write(payload)) return;
    s.end();
  };
  s.on("drain", pump);
  s.on("data", (b) => (echoedBytes += b.length));
  pump();
}

const started = Date.now();
await Promise.all(Array.from({ length: conns }, () =>
  new Promise((resolve) => {
    const s = net.connect({ host, port }, () => (mode === "pingpong" ? pingpong : stream)(s));
    s.setNoDelay(true);
    sockets.push(s);
    s.on("error", () => errors++);
    s.on("close", resolve);
  })));
const elapsed = (Date.now() - started) / 1000;
console.log(JSON.stringify({
  mode,
  conns,
  size,
  seconds: elapsed,
  errors,
  roundTripsPerSec: roundTrips / elapsed,
  mibPerSec: echoedBytes / elapsed / (1024 * 1024),
}));
