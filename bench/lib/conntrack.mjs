// The kernel's connection-tracking table (netfilter conntrack), where it exists: every
// loopback connection takes an entry that lives on for two minutes after the close
// (TIME_WAIT). The connect benchmark opens tens of thousands of connections a run; with
// the table full the kernel drops new SYNs ("nf_conntrack: table full, dropping packet"
// in dmesg) and connections hang. So each connect run first waits for room.
import { readFileSync } from "node:fs";

const DIR = "/proc/sys/net/netfilter";

function read(name) {
  try {
    return Number(readFileSync(`${DIR}/${name}`, "utf8"));
  } catch {
    return undefined; // no conntrack here (module not loaded, or not Linux): nothing to wait for
  }
}

/**
 * Wait until `need` more entries fit in the table, polling every second for at most
 * `maxWaitMs`; returns how long it waited (0 when there was room, or no table).
 */
export async function waitForConntrackRoom(need, maxWaitMs = 180_000) {
  const start = Date.now();
  for (let waited = 0;; waited = Date.now() - start) {
    const [count, max] = [read("nf_conntrack_count"), read("nf_conntrack_max")];
    if (count === undefined || max === undefined || count + need <= max) return waited;
    if (Date.now() - start > maxWaitMs) {
      throw new Error(`the conntrack table stayed full (${count} of ${max} entries) for ${maxWaitMs / 1000} s`);
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
}
