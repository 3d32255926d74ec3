// node:net allocates a fresh buffer for every read (64 KiB while streaming), and so does
// the Deno adapter once reads fill their buffer (the chunk is the receiver's); V8 frees
// them at a later garbage collection. (Bun allocates with mimalloc: not concerned.)
// glibc's malloc gives memory back to the kernel when more than its trim threshold lies
// free at the top of the heap; a process that keeps the default (128 KiB) trims after
// nearly every collection and page-faults the next reads' buffers back in. Measured on
// this machine (docs/benchmarks.md): a node:net echo server streamed at 330–880 MiB/s
// depending on the process, whether it had happened to free a large block yet. glibc
// raises its thresholds (mmap: the block's size, trim: twice that) the first time a block
// it mapped on its own is freed, so one 16 MiB buffer dropped at once puts the process in
// the fast case. The cost is that up to 32 MiB of freed heap may stay resident (2 KB more
// per idle connection, measured), so it is done only once bulk data flows: at the first
// large read. Elsewhere (musl, other systems) this is one short-lived allocation that is
// never touched.

/** Above glibc's dynamic ceiling (32 MiB) the thresholds would not move at all. */
const PRIMER_BYTES = 16 * 1024 * 1024;
let primed = false;

/** A read this large means bulk data is flowing. */
const BULK_READ = 32 * 1024;

/** Called with each read's size: primes once per process, at the first read of BULK_READ bytes or more. */
export function primeMallocThresholdOnBulkRead(readBytes: number): void {
  if (primed || readBytes < BULK_READ) return;
  primed = true;
  // Unreachable at once: freed (and glibc's thresholds raised) by the next collection.
  new Uint8Array(PRIMER_BYTES);
}
