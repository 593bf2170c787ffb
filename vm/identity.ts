/**
 * The one identity of a module: `moduleHash` (vm/state.ts) over the constants a dispute registers
 * for it, computed from the module's own contents: its code tree, memory size, initial memory
 * (the data segments, so every weight), segment count and step budget. Custom sections, such as
 * the detml manifest, are not part of it, so a manifest can name the id of the module carrying it
 * and a loader can check that the two agree. Hashing a large module's memory tree takes a while
 * (about 1 s for 14 MB of weights), so the ids of module bytes already hashed in this process are
 * remembered, keyed by the keccak256 of the whole bytes (a tenth of the cost) and the weights
 * image's root and offset. The initial memory root is computed sparsely (vm/merkle.ts
 * `sparseRoot`): the data segments' leaves and the weights image's root, which its loader has
 * checked, so a module with its weights outside the code is identified without rehashing them.
 */
import { decodeModule, type DecodeOptions, type DecodedModule } from "./decode.js";
import { keccak256, toHex, type Hash } from "./spec/hash.js";
import { sparseRoot } from "./merkle-roots.js";
import { treeDepth } from "./spec/isa.js";
import { codeTree } from "./state.js";
import { moduleHash, type ModuleConstants } from "./spec/commitments.js";

export function moduleConstants(mod: DecodedModule): ModuleConstants {
  return {
    codeRoot: codeTree(mod.program).root(), codeSize: mod.program.length, memoryBytes: mod.memoryBytes,
    initialMemoryRoot: initialMemoryRoot(mod),
    segments: mod.segments.length, stepBudget: mod.stepBudget,
  };
}

/** The root of the module's initial memory: its data segments' leaves and its weights image's subtree root. */
export function initialMemoryRoot(mod: DecodedModule): Hash {
  const w = mod.weights;
  const segments = w ? mod.data.slice(0, -1) : mod.data;
  return sparseRoot("memoryLeaf", "memoryNode", treeDepth(mod.memoryBytes / 32), segments, w && { firstLeaf: w.offset / 32, depth: w.tree.depth, root: w.tree.root });
}

export function moduleId(mod: DecodedModule): Hash {
  return moduleHash(moduleConstants(mod));
}

/** Ids of module bytes (by keccak256 of the bytes and the step budget they were decoded with). */
const known = new Map<string, Hash>();
const KNOWN_LIMIT = 64;

function keyOf(bytes: Uint8Array, stepBudget: number, weights?: DecodedModule["weights"]): string {
  return `${toHex(keccak256(bytes))}/${stepBudget}${weights ? `/${weights.offset}/${toHex(weights.tree.root)}` : ""}`;
}

function remember(key: string, id: Hash): void {
  if (known.size >= KNOWN_LIMIT) known.delete(known.keys().next().value!);
  known.set(key, id.slice());
}

/** The id of a module given as bytes (decoded with `opts` unless `mod` is given), remembered per process. */
export function moduleIdOfBytes(bytes: Uint8Array, opts: DecodeOptions = {}, mod?: DecodedModule): Hash {
  const decoded = mod ?? decodeModule(bytes, opts);
  const key = keyOf(bytes, decoded.stepBudget, decoded.weights);
  const id = known.get(key) ?? moduleId(decoded);
  remember(key, id);
  return id.slice();
}

/** Remember the id of module bytes (with their weights image) whose id was just computed from them (the compiler's last stage). */
export function rememberModuleId(bytes: Uint8Array, stepBudget: number, id: Hash, weights?: DecodedModule["weights"]): void {
  remember(keyOf(bytes, stepBudget, weights), id);
}
