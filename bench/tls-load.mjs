// A TLS echo load generator on node:tls, run as its own process.
//   node bench/tls-load.mjs pingpong   PORT CA CONNS SECONDS SIZE   → round trips/s
//   node bench/tls-load.mjs stream     PORT CA CONNS SECONDS CHUNK  → echoed MiB/s
//   node bench/tls-load.mjs handshakes PORT CA CONNS SECONDS SIZE   → new TLS connections (+ one echo) per second
// CONNS connections at once (for handshakes: CONNS workers, each connecting again and
// again). Prints one JSON line.
import { readFileSync } from "node:fs";
import tls from "node:tls";

const [mode, portText, caPath, connsText, secondsText, sizeText] = process.argv.slice(2);
const port = Number(portText), conns = Number(connsText), seconds = Number(secondsText), size = Number(sizeText);
const ca = readFileSync(caPath);
const payload = Buffer.alloc(size, 0x61);
let roundTrips = 0, echoedBytes = 0, handshakes = 0, errors = 0;
const stopAt = Date.now() + seconds * 1000;
// No session resumption: every handshake is a full one.
const connect = () => tls.connect({ host: "127.0.0.1", port, ca, servername: "localhost", session: undefined });

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

/** One worker: connect, one echo of SIZE bytes, close; again until the time is up. */
function handshakeWorker() {
  return new Promise((resolve) => {
    const next = () => {
      if (Date.now() >= stopAt) return resolve();
      const s = connect();
      let got = 0;
      s.setNoDelay(true);
      s.on("secureConnect", () => s.write(payload));
      s.on("data", (b) => {
        got += b.length;
        if (got >= size) {
          handshakes++;
          s.destroy();
          next();
        }
      });
      s.on("error", () => {
        errors++;
        s.destroy();
        next();
      });
    };
    next();
  });
}

const started = Date.now();
if (mode === "handshakes") {
  await Promise.all(Array.from({ length: conns }, handshakeWorker));
} else {
  await Promise.all(Array.from({ length: conns }, () =>
    new Promise((resolve) => {
      const s = connect();
      s.setNoDelay(true);
      s.on("secureConnect", () => (mode === "pingpong" ? pingpong : stream)(s));
      s.on("error", () => errors++);
      s.on("close", resolve);
    })));
}
const elapsed = (Date.now() - started) / 1000;
console.log(JSON.stringify({
  mode,
  roundTripsPerSec: roundTrips / elapsed,
  mibPerSec: echoedBytes / elapsed / 1048576,
  handshakesPerSec: handshakes / elapsed,
  errors,
}));
