// Helpers a scenario starts (probe workers, client crowds, timers, sockets) register an
// undo here; the suite's afterEach runs whatever a failed or thrown test left behind,
// next to killing its servers. A helper stopped normally unregisters itself.

const pending = new Set<() => unknown>();

/** Register `undo` to run after the current test unless the returned function is called first. */
export function defer(undo: () => unknown): () => void {
  pending.add(undo);
  return () => void pending.delete(undo);
}

/** An interval cleared after the test at the latest; the returned function clears it now. */
export function interval(fn: () => void, ms: number): () => void {
  const timer = setInterval(fn, ms);
  const forget = defer(() => clearInterval(timer));
  return () => {
    clearInterval(timer);
    forget();
  };
}

/** Run every registered undo (each bounded by `timeoutMs`); rethrows the first failure after all ran. */
export async function runCleanups(timeoutMs = 10_000): Promise<void> {
  const undos = [...pending].reverse();
  pending.clear();
  const errors: unknown[] = [];
  for (const undo of undos) {
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      await Promise.race([
        Promise.resolve().then(undo),
        new Promise((
          _,
          reject,
        ) => (timer = setTimeout(() => reject(new Error(`cleanup did not finish in ${timeoutMs} ms`)), timeoutMs))),
      ]);
    } catch (e) {
      errors.push(e);
    } finally {
      clearTimeout(timer);
    }
  }
  if (errors.length) throw errors[0];
}
