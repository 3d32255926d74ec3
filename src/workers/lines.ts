// Split a text stream into lines for a worker's control channel (chunks end anywhere).

/** A function taking text chunks and calling `fn` with each complete line (without its newline). */
export function lineSplitter(fn: (line: string) => void): (chunk: string) => void {
  let rest = "";
  return (chunk) => {
    rest += chunk;
    let nl: number;
    while ((nl = rest.indexOf("\n")) >= 0) {
      const line = rest.slice(0, nl);
      rest = rest.slice(nl + 1);
      fn(line);
    }
  };
}

/** The part of a web ReadableStream reader used here (typed structurally: src/ names no runtime types). */
export interface ChunkReader {
  read(): Promise<{ done: boolean; value?: Uint8Array }>;
}

/** Read `reader` to its end, calling `fn` with each line; resolves at the end (or on a read error). */
export async function readLines(reader: ChunkReader, fn: (line: string) => void): Promise<void> {
  const decoder = new TextDecoder();
  const split = lineSplitter(fn);
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (value) split(decoder.decode(value, { stream: true }));
    }
  } catch {
    // the pipe broke: the process is gone
  }
}
