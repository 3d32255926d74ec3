// A framed client on the Transport: sends lines, collects one reply line per line sent,
// and gives up after `timeoutMs` (connecting included). Runtime-free: pass any Transport.

import { type Addr, ByteQueue, type Conn, decodeFrames, textLines, type Transport } from "switchboard";

export function ask(
  transport: Transport,
  addr: Addr,
  lines: string[],
  timeoutMs = 5000,
): Promise<string[]> {
  const codec = textLines();
  const input = new ByteQueue();
  const replies: string[] = [];
  let conn: Conn | undefined;
  return new Promise((resolve, reject) => {
    const fail = (err: Error) => {
      clearTimeout(timer);
      conn?.close("abort");
      reject(err);
    };
    const timer = setTimeout(
      () => fail(new Error(`no reply from the server within ${timeoutMs} ms`)),
      timeoutMs,
    );
    const done = (c: Conn) => {
      clearTimeout(timer);
      c.close();
      resolve(replies);
    };
    transport.connect({ addr, timeoutMs }, {
      open: (c) => void (conn = c),
      data(c, chunk) {
        input.push(chunk);
        try {
          for (const line of decodeFrames(codec, input)) replies.push(line);
        } catch (err) {
          return fail(err as Error); // not lines: a CodecError says why
        }
        if (replies.length >= lines.length) done(c);
      },
      close(_c, err) {
        if (replies.length < lines.length) {
          fail(err ?? new Error("the server closed the connection early"));
        }
      },
    }).then((c) => {
      if (lines.length === 0) return done(c);
      for (const line of lines) codec.encode(line, (b) => c.write(b)); // the Transport queues all of it
      c.end(); // nothing more to send; the replies still come
    }, fail);
  });
}
