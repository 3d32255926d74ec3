// Writes a batch of encoded pieces, joining runs of small ones: 100 small frames decoded
// from one read then cost one write (one syscall), not 100. Large pieces go out as-is.

/** Pieces at least this long are written on their own, without copying. */
const JOIN_BELOW = 16 * 1024;
/** A joined write grows to at most about this. */
const JOIN_UP_TO = 64 * 1024;

/** Writes every piece in order; returns what the last write returned (false = buffer full). */
export function writePieces(write: (bytes: Uint8Array) => boolean, pieces: readonly Uint8Array[]): boolean {
  let ok = true;
  let run: Uint8Array[] = [];
  let runBytes = 0;
  const flush = () => {
    if (run.length === 1) ok = write(run[0]!);
    else if (run.length > 1) {
      const joined = new Uint8Array(runBytes);
      let at = 0;
      for (const p of run) {
        joined.set(p, at);
        at += p.length;
      }
      ok = write(joined);
    }
    run = [];
    runBytes = 0;
  };
  for (const p of pieces) {
    if (p.length === 0) continue;
    if (p.length >= JOIN_BELOW) {
      flush();
      ok = write(p);
      continue;
    }
    if (runBytes + p.length > JOIN_UP_TO) flush();
    run.push(p);
    runBytes += p.length;
  }
  flush();
  return ok;
}
