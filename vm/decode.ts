/**
 * The decoder: checks a .wasm module against the provable subset (the rules of vm/subset.ts)
 * and flattens it into the VM's program (vm/spec/isa.ts, function bodies by vm/flatten.ts). The
 * program starts with two instructions per segment, `CALL segment_function; HALT`, so the state
 * at the start of segment k is canonical: pc = 2k, empty stack, no frames.
 * `decodeModule` throws the first SubsetError; `lintModule` lists every violation. A module
 * compiled with its weights outside the code is decoded with its weights image (given by its
 * loader, abi/), which becomes part of its initial memory (docs/vm-state.md section 5).
 */
import { checkCallBounds } from "./call-bounds.js";
import { Emitter, flattenFunction, Violations, type Context, type FunctionInfo } from "./flatten.js";
import { Op, type Program } from "./spec/isa.js";
import { I32, REASON, SubsetError, checkModuleRules, segmentExports } from "./subset.js";
import { DEFAULT_STEP_BUDGET, PAGE_BYTES, STEP_BUDGET_EXPORT, stepBudgetRefusal } from "./spec/limits.js";
import { readModule, type FuncType } from "./wasm-binary.js";
import { imageDepth, imageTree, MerkleTree, type ImageTree } from "./merkle.js";

export type { FunctionInfo };

export interface Segment {
  index: number;
  export: string;
  funcIndex: number;
  /** pc of the segment's stub `CALL`; the segment's HALT is at entryPc + 1. */
  entryPc: number;
}

export interface DecodedModule {
  program: Program;
  functions: FunctionInfo[];
  segments: Segment[];
  memoryPages: number;
  memoryBytes: number;
  /** Steps a segment may execute (docs/vm-state.md section 2); part of the module's identity. */
  stepBudget: number;
  /** Whether the budget is committed in the module bytes (else it came from the decode options). */
  stepBudgetEmbedded: boolean;
  /**
   * Active data segments (offsets resolved), then the weights image when the module has one:
   * applied in order over zeros, they make the initial memory.
   */
  data: { offset: number; bytes: Uint8Array }[];
  /** The weights image (also the last entry of `data`), with its memory subtree. */
  weights?: { offset: number; bytes: Uint8Array; tree: ImageTree };
  customSections: { name: string; bytes: Uint8Array }[];
}

export interface DecodeOptions {
  /** Step budget for a module that does not carry one (a module that carries one must agree). */
  stepBudget?: number;
  /**
   * Skip the static call bounds (vm/call-bounds.ts), to exercise the VM's own CALL_DEPTH and
   * STACK_OVERFLOW traps in tests. A module that needs this is outside the provable subset: no
   * command of detml sets it.
   */
  skipCallBounds?: boolean;
  /** The module's weights image, as its loader read it (abi/ loadWeightsImage). */
  weights?: WeightsImage;
}

/**
 * A weights image placed at `offset` (a multiple of its padded size, docs/abi.md). `tree` is its
 * subtree (root and chunk roots) as the loader checked it against the bytes; without it the
 * decoder hashes the bytes itself.
 */
export interface WeightsImage {
  offset: number;
  bytes: Uint8Array;
  tree?: ImageTree;
}

/** The module's step budget: its exported global, else the option, else the default. */
function stepBudgetOf(raw: ReturnType<typeof readModule>, globals: { value: bigint }[], opts: DecodeOptions, v: Violations): { stepBudget: number; stepBudgetEmbedded: boolean } {
  const given = opts.stepBudget;
  if (given !== undefined && stepBudgetRefusal(given)) throw new SubsetError(stepBudgetRefusal(given)!);
  const exp = raw.exports.find((x) => x.name === STEP_BUDGET_EXPORT);
  if (!exp) return { stepBudget: given ?? DEFAULT_STEP_BUDGET, stepBudgetEmbedded: false };
  const g = exp.kind === 3 ? globals[exp.index] : undefined;
  const refusal = g ? stepBudgetRefusal(g.value) : `the export ${STEP_BUDGET_EXPORT} must be an immutable integer global`;
  if (refusal) {
    v.add(`${STEP_BUDGET_EXPORT}: ${refusal}`);
    return { stepBudget: given ?? DEFAULT_STEP_BUDGET, stepBudgetEmbedded: false };
  }
  const stepBudget = Number(g!.value);
  if (given !== undefined && given !== stepBudget) throw new SubsetError(`the module commits to a step budget of ${stepBudget}; the requested budget ${given} differs`);
  return { stepBudget, stepBudgetEmbedded: true };
}

function decode(bytes: Uint8Array, v: Violations, opts: DecodeOptions = {}): DecodedModule {
  const raw = readModule(bytes);
  const { pages, globals } = checkModuleRules(raw, (message) => v.add(message));
  const budget = stepBudgetOf(raw, globals, opts, v);
  const nImports = raw.imports.length;
  const exportNames = new Map<number, string>();
  for (const x of raw.exports) if (x.kind === 0 && !exportNames.has(x.index)) exportNames.set(x.index, x.name);
  const funcType = (f: number): FuncType => raw.types[f < nImports ? raw.imports[f].typeIndex : raw.funcTypes[f - nImports]];
  const localCount = (f: number): number => {
    if (f < nImports) return 0;
    return funcType(f).params.length + raw.bodies[f - nImports].locals.reduce((s, l) => s + l.count, 0);
  };
  const ctx: Context = {
    raw, bytes, nImports, funcType, localCount, globals, memoryPages: pages, v, calls: [],
    funcName: (f) => exportNames.get(f) ?? raw.names.get(f) ?? `func[${f}]`,
  };
  let segmentNames: string[] = [];
  try {
    segmentNames = segmentExports(raw.exports.filter((x) => x.kind === 0).map((x) => x.name));
  } catch (err) {
    if (!(err instanceof SubsetError)) throw err;
    v.add(err.message);
  }
  const e = new Emitter();
  const segments: Segment[] = segmentNames.map((name, index) => {
    const funcIndex = raw.exports.find((x) => x.kind === 0 && x.name === name)!.index;
    const t = funcType(funcIndex);
    if (funcIndex < nImports) v.add(`segment ${name} is an import`);
    else if (t.params.length !== 0 || t.results.length !== 0) v.add(`segment function '${name}' must have type () -> ()`);
    const entryPc = e.pc;
    ctx.calls.push({ at: e.emit(Op.CALL, 0, 0, localCount(funcIndex)), func: funcIndex, from: -1, height: 0 });
    e.emit(Op.HALT);
    return { index, export: name, funcIndex, entryPc };
  });
  const functions: FunctionInfo[] = raw.imports.filter((i) => i.kind === 0).map((imp, index) => ({
    index, name: `${imp.module}.${imp.name}`, params: funcType(index).params.length, results: 0, locals: 0, entryPc: -1, maxStack: 0,
    endPc: -1, localTypes: funcType(index).params, host: `${imp.module}.${imp.name}`,
  }));
  for (let f = nImports; f < nImports + raw.bodies.length; f++) functions.push(flattenFunction(ctx, f, e));
  for (const { at, func } of ctx.calls) {
    if (func < nImports) continue;
    e.a[at] = functions[func].entryPc;
    e.imm[at] = BigInt(functions[func].maxStack);
  }
  if (!opts.skipCallBounds) checkCallBounds(functions, ctx.calls, segments, v);
  const data = raw.data.map((d, i) => {
    if (d.flags === 1) v.add(`data segment ${i} is passive (${REASON.bulk})`);
    let offset = 0;
    if (d.offset && d.offset.op === 0x41) offset = Number(BigInt.asUintN(32, d.offset.value));
    else if (d.offset && d.offset.op === 0x23 && globals[Number(d.offset.value)]?.type === I32) offset = Number(BigInt.asUintN(32, globals[Number(d.offset.value)].value));
    else if (d.flags !== 1) v.add(`data segment ${i} has a non-constant offset`);
    if (offset + d.bytes.length > pages * PAGE_BYTES) v.add(`data segment ${i} [${offset}, ${offset + d.bytes.length}) lies outside the memory`);
    return { offset, bytes: d.bytes };
  });
  const weights = opts.weights && placeImage(opts.weights, data, pages * PAGE_BYTES);
  if (weights) data.push({ offset: weights.offset, bytes: weights.bytes });
  return { program: e.freeze(), functions, segments, memoryPages: pages, memoryBytes: pages * PAGE_BYTES, ...budget, data, weights, customSections: raw.customs };
}

/** A decoded module with its weights image added (for a loader that reads the manifest after decoding). */
export function withWeights(mod: DecodedModule, image: WeightsImage): DecodedModule {
  if (mod.weights) throw new SubsetError("the module already has a weights image");
  const weights = placeImage(image, mod.data, mod.memoryBytes);
  return { ...mod, data: [...mod.data, { offset: weights!.offset, bytes: weights!.bytes }], weights };
}

/**
 * Check where a weights image goes (docs/abi.md): at a multiple of its padded size P, inside
 * memory, and no data segment in [offset, offset + P), so that the image's root is the root of
 * that subtree of the initial memory. Hashes the image when its tree is not given.
 */
function placeImage(w: WeightsImage, data: { offset: number; bytes: Uint8Array }[], memoryBytes: number): DecodedModule["weights"] {
  const padded = 32 * 2 ** imageDepth(w.bytes.length);
  if (!Number.isSafeInteger(w.offset) || w.offset < 0 || w.offset % padded !== 0 || w.offset + padded > memoryBytes) {
    throw new SubsetError(`the weights image (${w.bytes.length} bytes, padded to ${padded}) cannot be placed at ${w.offset}: it must start at a multiple of ${padded} and fit in the ${memoryBytes}-byte memory`);
  }
  const clash = data.findIndex((d) => d.bytes.length > 0 && d.offset < w.offset + padded && d.offset + d.bytes.length > w.offset);
  if (clash >= 0) throw new SubsetError(`data segment ${clash} overlaps the weights image's range [${w.offset}, ${w.offset + padded})`);
  const tree = w.tree ?? imageTree("memoryLeaf", "memoryNode", w.bytes);
  if (tree.depth !== imageDepth(w.bytes.length)) throw new SubsetError(`the weights image's tree has depth ${tree.depth}, not ${imageDepth(w.bytes.length)}`);
  return { offset: w.offset, bytes: w.bytes, tree };
}

/**
 * Decode a module for the VM, refusing anything outside the provable subset with a
 * SubsetError (e.g. "function 'op_3' uses f32.add (floating point is outside the provable
 * subset)"). Malformed or invalid modules raise a plain Error.
 */
export function decodeModule(bytes: Uint8Array, opts: DecodeOptions = {}): DecodedModule {
  validate(bytes);
  return decode(bytes, new Violations(false), opts);
}

/** The engine's own validation first, so the decoder may assume a well-typed module. */
function validate(bytes: Uint8Array): void {
  const buffer = bytes as Uint8Array<ArrayBuffer>;
  if (WebAssembly.validate(buffer)) return;
  try {
    new WebAssembly.Module(buffer);
  } catch (err) {
    throw new Error(`invalid wasm module: ${(err as Error).message}`);
  }
}

/** Every violation of the provable subset in a module (empty when the module is provable). */
export function lintModule(bytes: Uint8Array, opts: DecodeOptions = {}): SubsetError[] {
  const v = new Violations(true);
  try {
    validate(bytes);
    decode(bytes, v, opts);
  } catch (err) {
    v.list.push(err instanceof SubsetError ? err : new SubsetError((err as Error).message));
  }
  return v.list;
}

/**
 * The memory tree of a machine of this module over `memory`, taking the weights image's subtree
 * as known (its chunk roots, not its leaves, are hashed): only correct while the image is
 * unchanged in `memory`, which the tree's fingerprints check at every sync.
 */
export function memoryTree(mod: DecodedModule, memory: Uint8Array): MerkleTree {
  const w = mod.weights;
  return new MerkleTree("memoryLeaf", "memoryNode", memory, undefined, w && { firstLeaf: w.offset / 32, tree: w.tree });
}

/** The initial memory image: data segments (and the weights image) applied, zero elsewhere. */
export function initialMemory(mod: DecodedModule): Uint8Array {
  const mem = new Uint8Array(mod.memoryBytes);
  for (const d of mod.data) mem.set(d.bytes, d.offset);
  return mem;
}
