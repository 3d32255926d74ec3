// Readers for what Linux tells about a process and its sockets: open descriptors,
// resident memory, CPU time, and TCP socket states by port. Reliability tests assert
// on these (a leak shows here long before it shows anywhere else).
import { readdirSync, readFileSync, readlinkSync } from "node:fs";

/** Number of open file descriptors of `pid` (/proc/PID/fd). */
export function fdCount(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

/** How many of the process's descriptors are sockets. */
export function socketFdCount(pid: number): number {
  let n = 0;
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      if (readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith("socket:")) n++;
    } catch {
      // closed between readdir and readlink
    }
  }
  return n;
}

/** Resident set size of `pid` in bytes (VmRSS of /proc/PID/status). */
export function rssBytes(pid: number): number {
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  if (!m) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(m[1]) * 1024;
}

/** Clock ticks per second for /proc/PID/stat times (getconf CLK_TCK; 100 on Linux). */
export const CLK_TCK = 100;

/** User + system CPU time of `pid` (all threads) in seconds. */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // The command name (field 2) is in parentheses and may contain spaces.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // fields[0] is field 3 (state); utime and stime are fields 14 and 15.
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

/** Fraction of one core `pid` used over the next `ms` milliseconds (1 = one core busy). */
export async function cpuShare(pid: number, ms = 1000): Promise<number> {
  const t0 = performance.now();
  const c0 = cpuSeconds(pid);
  await new Promise((r) => setTimeout(r, ms));
  const c1 = cpuSeconds(pid);
  return (c1 - c0) / ((performance.now() - t0) / 1000);
}

/** When `pid` started (clock ticks after boot, field 22 of /proc/PID/stat); undefined when it is gone. */
export function startTicks(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19]);
  } catch {
    return undefined;
  }
}

/** The process exists and has not exited (a zombie, dead but not yet reaped, is not alive). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
    return state !== "Z" && state !== "X";
  } catch {
    return false;
  }
}

export type TcpState =
  | "ESTABLISHED"
  | "SYN_SENT"
  | "SYN_RECV"
  | "FIN_WAIT1"
  | "FIN_WAIT2"
  | "TIME_WAIT"
  | "CLOSE"
  | "CLOSE_WAIT"
  | "LAST_ACK"
  | "LISTEN"
  | "CLOSING"
  | "NEW_SYN_RECV";

const STATES: Record<string, TcpState> = {
  "01": "ESTABLISHED",
  "02": "SYN_SENT",
  "03": "SYN_RECV",
  "04": "FIN_WAIT1",
  "05": "FIN_WAIT2",
  "06": "TIME_WAIT",
  "07": "CLOSE",
  "08": "CLOSE_WAIT",
  "09": "LAST_ACK",
  "0A": "LISTEN",
  "0B": "CLOSING",
  "0C": "NEW_SYN_RECV",
};

export interface TcpSocket {
  localPort: number;
  remotePort: number;
  state: TcpState;
  inode: number;
  /** Bytes in the kernel's send queue (unsent or unacknowledged). */
  txQueue: number;
  /** Bytes received and not yet read by the socket's owner. */
  rxQueue: number;
}

/** Every TCP socket of this network namespace (IPv4 and IPv6). */
export function tcpSockets(): TcpSocket[] {
  const out: TcpSocket[] = [];
  for (const file of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch {
      continue;
    }
    for (const line of text.split("\n").slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10) continue;
      out.push({
        localPort: parseInt(f[1]!.split(":")[1]!, 16),
        remotePort: parseInt(f[2]!.split(":")[1]!, 16),
        state: STATES[f[3]!] ?? "CLOSE",
        inode: Number(f[9]),
        txQueue: parseInt(f[4]!.split(":")[0]!, 16),
        rxQueue: parseInt(f[4]!.split(":")[1]!, 16),
      });
    }
  }
  return out;
}

/** The server side of connections on `port` (local port = port), counted by state; LISTEN excluded. */
export function serverSideStates(port: number): Partial<Record<TcpState, number>> {
  const counts: Partial<Record<TcpState, number>> = {};
  for (const s of tcpSockets()) {
    if (s.localPort !== port || s.state === "LISTEN") continue;
    counts[s.state] = (counts[s.state] ?? 0) + 1;
  }
  return counts;
}

/** Server-side sockets on `port` that still hold resources (anything but LISTEN and TIME_WAIT). */
export function liveServerSockets(port: number): number {
  let n = 0;
  for (const [state, count] of Object.entries(serverSideStates(port))) if (state !== "TIME_WAIT") n += count;
  return n;
}

/**
 * Whether the server process still holds its socket of the connection to `clientPort`.
 * A socket the process has closed may live on in the kernel (FIN_WAIT2, TIME_WAIT) but
 * with inode 0: it no longer belongs to anyone.
 */
export function serverHoldsConnection(port: number, clientPort: number): boolean {
  return tcpSockets().some((s) => s.localPort === port && s.remotePort === clientPort && s.inode !== 0);
}

/**
 * Whether the server on `serverPort` has read everything `client` sent: our socket has
 * nothing left to send and the server's end of the connection has an empty receive queue.
 * Each adapter hands what it read to the session in the same callback, so once this holds
 * a signal sent to the server finds those bytes in the session (a partial frame, not an
 * idle connection). Linux /proc; IPv4 or IPv6 loopback.
 */
export function serverHasRead(serverPort: number, client: { localPort?: number; writableLength: number }): boolean {
  return client.writableLength === 0 &&
    tcpSockets().some((t) =>
      t.localPort === serverPort && t.remotePort === client.localPort && t.state === "ESTABLISHED" && t.rxQueue === 0
    );
}
