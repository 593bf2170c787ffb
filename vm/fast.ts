/**
 * The JS engine's view of a run: the same module bytes in the engine's own WebAssembly (the one
 * JS host, vm/wasm-host.ts, whose host calls trap exactly like the VM's), the segment exports
 * called one by one, committing to memory and I/O after each segment. For a lint-clean module
 * the boundary hashes equal the VM's up to the VM's step budget, which the engine cannot see
 * (tests and `detml trace --ops` check the agreement). The VM decides every dispute: an exception
 * of the engine's own (its call stack, its memory) is reported as a host failure, never taken as
 * the module's trap. Memory roots are computed incrementally: each boundary rehashes only the
 * leaves that changed since the previous one.
 */
import { decodeModule, memoryTree, type DecodedModule } from "./decode.js";
import { ZERO_HASH } from "./spec/hash.js";
import { CHUNK_BYTES, padInput } from "./spec/io.js";
import type { MerkleTree } from "./merkle.js";
import { commitmentBase, type CommitmentBase } from "./state.js";
import { absorbOutput, boundaryHash, type Boundary, type BoundaryFields } from "./spec/commitments.js";
import { isModuleTrap, WasmHost } from "./wasm-host.js";

export interface FastRun {
  boundaries: Boundary[];
  /** Memory image at each boundary (when requested). */
  images?: Uint8Array[];
  /** Output bytes at each boundary (when requested). */
  outputs?: Uint8Array[];
  output: Uint8Array;
  /** Set when a segment trapped (a WebAssembly trap or a bad host call): its index and the engine's message. */
  trap?: { segment: number; message: string };
  /**
   * Set when the engine failed for a reason of its own, not the module's (its call stack, its
   * memory): the run has no boundaries from here on and the VM must decide the rest.
   */
  hostFailure?: { segment: number; message: string };
  /** Time spent inside the engine's WebAssembly (instantiation and segment calls), ms. */
  engineMs: number;
}

/** Run the segments in the JS engine and return every boundary (hash, fields, optional images). */
export function fastBoundaries(bytes: Uint8Array, input: Uint8Array, opts: {
  keepImages?: boolean; mod?: DecodedModule; base?: CommitmentBase; compiled?: WebAssembly.Module;
  /** A memory tree to reuse (synced incrementally; left at the last boundary's memory). */
  memoryTree?: MerkleTree;
  /** Run only the first n segments (the engine cannot see a step budget: a segment may never return). */
  segments?: number;
} = {}): FastRun {
  const mod = opts.mod ?? decodeModule(bytes);
  const base = opts.base ?? commitmentBase(mod, padInput(input));
  let started = performance.now();
  const engine = new WasmHost(opts.compiled ?? WasmHost.compile(bytes), input);
  if (mod.weights) engine.memoryBytes().set(mod.weights.bytes, mod.weights.offset); // the image is not in the module's data
  const run: FastRun = { boundaries: [], output: new Uint8Array(0), engineMs: performance.now() - started };
  const tree = opts.memoryTree ?? memoryTree(mod, engine.memoryBytes());
  if (opts.keepImages) {
    run.images = [];
    run.outputs = [];
  }
  let acc = ZERO_HASH;
  let absorbed = 0;
  const record = (segment: number): void => {
    tree.sync(engine.memoryBytes());
    const outBytes = engine.output();
    acc = absorbOutput(acc, outBytes.subarray(absorbed));
    absorbed = outBytes.length;
    const fields: BoundaryFields = { ...base, memoryRoot: tree.root(), outputAcc: acc, outputChunks: outBytes.length / CHUNK_BYTES, segment };
    run.boundaries.push({ fields, hash: boundaryHash(fields), export: mod.segments[segment]?.export });
    run.images?.push(engine.memoryBytes().slice());
    run.outputs?.push(outBytes);
  };
  record(0);
  for (const seg of mod.segments.slice(0, opts.segments ?? mod.segments.length)) {
    started = performance.now();
    try {
      engine.call(seg.export);
    } catch (err) {
      const failure = { segment: seg.index, message: (err as Error).message };
      if (isModuleTrap(err)) run.trap = failure;
      else run.hostFailure = failure;
      break;
    } finally {
      run.engineMs += performance.now() - started;
    }
    record(seg.index + 1);
  }
  run.output = engine.output();
  return run;
}
