// Real TCP peers (node:net, in the test process) that misbehave the ways a client must
// survive: silence, half answers, echoing a request, refusing a request and resetting.
import * as net from "node:net";

export interface Peer {
  port: number;
  /** Connections accepted so far. */
  accepted(): number;
  /** Bytes received so far, over all connections. */
  bytesIn(): number;
  close(): Promise<void>;
}

/** Listen on 127.0.0.1 with `onConn` for every connection; every socket is destroyed on close(). */
export async function peer(onConn: (s: net.Socket) => void): Promise<Peer> {
  const sockets = new Set<net.Socket>();
  let accepted = 0;
  let bytesIn = 0;
  const server = net.createServer({ allowHalfOpen: true }, (s) => {
    accepted++;
    sockets.add(s);
    s.on("error", () => {});
    s.on("close", () => sockets.delete(s));
    s.on("data", (d: Buffer) => void (bytesIn += d.length));
    onConn(s);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    accepted: () => accepted,
    bytesIn: () => bytesIn,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Accepts, reads everything, never answers, never closes (not even after our FIN). */
export const silentPeer = (): Promise<Peer> => peer(() => {});

/** Echoes every byte and answers our FIN with its own. */
export const echoPeer = (): Promise<Peer> =>
  peer((s) => {
    s.on("data", (d: Buffer) => s.write(d));
    s.on("end", () => s.end());
  });

/** Reads everything, answers with `reply` (maybe nothing) after our FIN, then closes. */
export const replyAtEofPeer = (reply: Uint8Array | string): Promise<Peer> =>
  peer((s) => {
    s.on("data", () => {});
    s.on("end", () => s.end(reply));
  });

/** lp:u16 frames: echoes the first frame of each connection only, closes after our FIN. */
export const halfEchoPeer = (): Promise<Peer> =>
  peer((s) => {
    let buf = Buffer.alloc(0);
    let echoed = false;
    s.on("data", (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (!echoed && buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        echoed = true;
        s.write(buf.subarray(0, 2 + buf.readUInt16BE(0)));
      }
    });
    s.on("end", () => s.end());
  });

/** One app-protocol message (2-byte header length, JSON header, content). */
export function appMessage(content: Uint8Array | string, type = "text/json"): Buffer {
  const body = Buffer.from(content);
  const header = Buffer.from(JSON.stringify({
    byteorder: "little",
    "content-type": type,
    "content-encoding": type === "text/json" ? "utf-8" : "binary",
    "content-length": body.length,
  }));
  const len = Buffer.alloc(2);
  len.writeUInt16BE(header.length);
  return Buffer.concat([len, header, body]);
}

/** Answers each connection's first request (as soon as its first bytes arrive) with `reply`, closes after our FIN. */
export const appReplyPeer = (reply: Buffer): Promise<Peer> =>
  peer((s) => {
    let answered = false;
    s.on("data", () => {
      if (!answered) s.write(reply);
      answered = true;
    });
    s.on("end", () => s.end());
  });

/**
 * Refuses a request over `limit` bytes as a strict server does: an app error reply, then
 * a reset (the unread rest of the request makes the close an RST), while the client is
 * still sending.
 */
export const rejectOversizePeer = (limit: number): Promise<Peer> =>
  peer((s) => {
    let got = 0;
    let replied = false;
    s.on("data", (d: Buffer) => {
      got += d.length;
      if (replied || got <= limit) return;
      replied = true;
      const reply = appMessage(JSON.stringify({ result: "Error: request too large.", error: "content-too-large" }));
      s.write(reply, () => s.resetAndDestroy());
    });
  });
