// Helpers for `serve --workers` tests: clients that know which worker served them, read
// from the workers' own JSON log lines (conn-open carries the peer address and the worker
// id; "worker started" ties each id to a process id).
import * as net from "node:net";
import type { RunningServer } from "./cli.ts";
import { waitFor } from "./sockets.ts";

export type LogRecord = Record<string, unknown>;

/** Every complete JSON line the server logged so far. */
export function records(server: RunningServer): LogRecord[] {
  const text = server.log();
  return text.slice(0, text.lastIndexOf("\n") + 1).split("\n").filter((l) => l.startsWith("{")).map((l) =>
    JSON.parse(l) as LogRecord
  );
}

/** The pid of each "worker started" line for worker `id`, in order (the last is the live one). */
export function workerPids(server: RunningServer, id: number): number[] {
  return records(server).filter((r) => r.msg === "worker started" && r.worker === id).map((r) => r.pid as number);
}

/** A client connection to the echo service, with everything it has received. */
export interface Client {
  socket: net.Socket;
  /** The worker that logged this connection's conn-open. */
  worker: number;
  received(): Buffer;
  closed: Promise<void>;
  isClosed(): boolean;
}

/** Connect and wait until a worker has logged our connection: that worker is ours. */
export async function connectClient(server: RunningServer): Promise<Client> {
  const socket = net.connect(server.port, server.host);
  let got = Buffer.alloc(0);
  let closed = false;
  socket.on("data", (b: Buffer) => (got = Buffer.concat([got, b])));
  socket.on("error", () => {});
  const closedP = new Promise<void>((r) => socket.on("close", () => ((closed = true), r())));
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("error", reject);
  });
  const peer = `127.0.0.1:${socket.localPort}`;
  let worker: number | undefined;
  await waitFor(() => {
    worker = records(server).find((r) => r.msg === "conn-open" && r.peer === peer)?.worker as number | undefined;
    return worker !== undefined;
  }, `a worker's conn-open line for ${peer}`);
  return { socket, worker: worker!, received: () => got, closed: closedP, isClosed: () => closed };
}

/** Send `text` and wait for the echo service to send it back (on top of what came before). */
export async function roundTrip(c: Client, text: string): Promise<void> {
  const before = c.received().length;
  c.socket.write(text);
  await waitFor(() => c.received().subarray(before).toString() === text, `the echo of "${text}"`);
}

/**
 * Open connections until every worker in `ids` serves at least `each` of them (the kernel
 * or the cluster primary picks; bounded by `max` connections).
 */
export async function clientsOnWorkers(
  server: RunningServer,
  ids: number[],
  each: number,
  max = 80,
): Promise<Client[]> {
  const clients: Client[] = [];
  const count = (id: number) => clients.filter((c) => c.worker === id).length;
  while (!ids.every((id) => count(id) >= each)) {
    if (clients.length >= max) {
      throw new Error(`after ${max} connections the workers served ${ids.map((id) => `${id}:${count(id)}`).join(" ")}`);
    }
    clients.push(await connectClient(server));
  }
  return clients;
}
