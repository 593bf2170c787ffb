/**
 * The Merkle tree of a large weights image, hashed in two threads. A weights image's tree is
 * computed once per machine (abi/manifest.ts `checkedImageTree`, at compile time or on a first
 * load) and hashing is nearly all of that work: 29 M keccak permutations for GPT-2 small's
 * 471 MiB. Images of at least PARALLEL_MIN_BYTES are split at a chunk boundary: a worker thread
 * (image-tree-worker.ts) hashes the first half's chunk roots from a shared copy of its bytes while
 * this thread hashes the second half, then the levels above the chunks are hashed here
 * (vm/merkle.ts `imageChunkRootsInto`, `imageTreeFromChunkRoots`: the same roots as `imageTree`).
 * The caller stays synchronous: this thread waits on an Atomics flag the worker sets. A worker
 * that fails, or does not answer within a bound set by this thread's own time, only costs
 * hashing its half here. The worker runs compiled JavaScript, so under a TypeScript loader (the
 * tests) the image is hashed in this thread alone.
 */
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { CHUNK_LEAVES, imageChunkRootsInto, imageDepth, imageTree, imageTreeFromChunkRoots, zeroHashes, type ImageTree } from "../vm/merkle.js";

/** Images smaller than this are hashed in one thread (starting a worker costs tens of ms). */
export const PARALLEL_MIN_BYTES = 64 << 20;
const CHUNK_BYTES = 32 * CHUNK_LEAVES;
const WORKER = new URL("./image-tree-worker.js", import.meta.url);

/** Worker input: its bytes (a shared copy of the first `count` chunks), where to write their roots, and the done flag (1 done, 2 failed). */
export interface ImageTreeJob {
  bytes: SharedArrayBuffer;
  roots: SharedArrayBuffer;
  flag: SharedArrayBuffer;
  count: number;
}

/**
 * The memory tree of a weights image (docs/abi.md), as `imageTree("memoryLeaf", "memoryNode",
 * bytes)` gives it. `report.threads` tells how many threads hashed it (2 when the worker's half
 * was used).
 */
export function weightsImageTree(bytes: Uint8Array, minBytes = PARALLEL_MIN_BYTES, report: { threads?: number } = {}): ImageTree {
  report.threads = 1;
  const depth = imageDepth(bytes.length);
  const workerFile = WORKER.protocol === "file:" ? fileURLToPath(WORKER) : "";
  if (bytes.length < Math.max(minBytes, 2 * CHUNK_BYTES) || !workerFile.endsWith(".js") || !existsSync(workerFile)) {
    return imageTree("memoryLeaf", "memoryNode", bytes);
  }
  const chunks = 2 ** (depth - Math.log2(CHUNK_LEAVES));
  const dataChunks = Math.ceil(bytes.length / CHUNK_BYTES);
  const split = Math.floor(dataChunks / 2);
  const job: ImageTreeJob = { bytes: new SharedArrayBuffer(split * CHUNK_BYTES), roots: new SharedArrayBuffer(split * 32), flag: new SharedArrayBuffer(4), count: split };
  new Uint8Array(job.bytes).set(bytes.subarray(0, split * CHUNK_BYTES));
  // No inherited flags (an --input-type or --eval of the parent would stop the worker from starting);
  // a failing worker is not an error of the caller's: its half is then hashed here (below).
  const worker = new Worker(workerFile, { workerData: job, execArgv: [] });
  worker.on("error", () => undefined);
  worker.unref();

  const roots = new Uint8Array(chunks * 32);
  const started = performance.now();
  imageChunkRootsInto("memoryLeaf", "memoryNode", bytes, split, dataChunks - split, roots, split * 32);
  const zeroChunk = zeroHashes("memoryLeaf", "memoryNode", Math.log2(CHUNK_LEAVES))[Math.log2(CHUNK_LEAVES)];
  for (let c = dataChunks; c < chunks; c++) roots.set(zeroChunk, c * 32);

  // The worker had the same amount of work: give it as long again, and a few seconds to start.
  const flag = new Int32Array(job.flag);
  Atomics.wait(flag, 0, 0, 2 * (performance.now() - started) + 5000);
  if (Atomics.load(flag, 0) === 1) {
    roots.set(new Uint8Array(job.roots), 0);
    report.threads = 2;
  } else {
    void worker.terminate();
    imageChunkRootsInto("memoryLeaf", "memoryNode", bytes, 0, split, roots, 0);
  }
  return imageTreeFromChunkRoots("memoryNode", depth, roots);
}
