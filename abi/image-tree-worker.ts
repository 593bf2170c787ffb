/**
 * The worker thread of abi/image-tree.ts: hashes the chunk roots of the bytes it is given
 * (`ImageTreeJob`) into the shared roots buffer, then sets the shared flag to 1 (2 if hashing
 * failed) and wakes the waiting thread.
 */
import { workerData } from "node:worker_threads";
import { imageChunkRootsInto } from "../vm/merkle.js";
import type { ImageTreeJob } from "./image-tree.js";

const job = workerData as ImageTreeJob;
const flag = new Int32Array(job.flag);
try {
  imageChunkRootsInto("memoryLeaf", "memoryNode", new Uint8Array(job.bytes), 0, job.count, new Uint8Array(job.roots), 0);
  Atomics.store(flag, 0, 1);
} catch {
  Atomics.store(flag, 0, 2);
}
Atomics.notify(flag, 0);
