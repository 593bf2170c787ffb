/**
 * The memory plan: a static address for every value, following docs/abi.md. Regions in order:
 * 32 zero bytes, the inputs (packed in declaration order), the outputs (likewise), the weights
 * (the constants the code reads, in data segments), the arena, then the compiler's read-only
 * tables (placed while emitting). A view shares its source's address. A value that is a graph
 * output is computed directly into its output slot when possible. Every other activation gets an
 * arena buffer live from the segment that writes it to the last segment that reads it (or the
 * end, if an output copy reads it); buffers whose lifetimes overlap never share bytes, and they
 * are placed greedily, largest first, at the lowest offset that fits (the arena peak is reported).
 * With a weights image (docs/abi.md), the weights region is the image instead: the arena follows
 * the outputs, the image starts at the first multiple of its padded size P after the arena, and
 * the tables follow at offset + P (so no data segment touches the image's subtree).
 * State pairs (compiler/state.ts) take their inputs and outputs out of the I/O slots: each state
 * input gets a buffer in a state region after the outputs (outside the arena, so nothing else
 * ever shares its bytes), and its output stays live to the end, when store_outputs copies it
 * into that buffer.
 * A constant with narrow storage is placed as its q, 1 or 2 bytes each, when only weight
 * positions read it along its storage axis (`narrowInMemory`); every other constant as i32.
 */
import { type Graph, weightChannelAxis } from "../lib/graph/ir.js";
import type { NarrowStorage } from "../lib/tensor/narrow.js";
import { sizeOf } from "../lib/tensor/shape.js";
import type { StateSlot, TensorSlot } from "../abi/manifest.js";
import { chunkAlign, CHUNK_BYTES } from "../vm/spec/io.js";
import { imagePaddedBytes } from "./weights-image.js";
import { type Schedule, segmentOutputs } from "./schedule.js";
import { checkStatePairs, type StatePair } from "./state.js";

export interface OutputCopy {
  from: number;
  to: number;
  elements: number;
}

export interface MemoryPlan {
  /** Byte address of every value the module touches. */
  address: Map<string, number>;
  inputs: TensorSlot[];
  outputs: TensorSlot[];
  /** Outputs that store_outputs copies into their slot (inputs, constants, repeated or aliased outputs). */
  outputCopies: OutputCopy[];
  /** State buffers, one per state pair, and the copies of the state outputs into them that end the run (after outputCopies). */
  state: StateSlot[];
  stateCopies: OutputCopy[];
  /** Constants placed in the weights region, with their storage when they are narrow in memory (narrowInMemory). */
  weights: { name: string; address: number; storage?: NarrowStorage }[];
  regions: { input: number; output: number; weights: number; arena: number; arenaPeak: number; tables: number };
  /** Set when the weights go to a weights image: its offset, its length B and its padded size P. */
  image?: { offset: number; bytes: number; padded: number };
}

const align = (n: number, to = CHUNK_BYTES) => Math.ceil(n / to) * to;

interface ArenaBuffer {
  key: string;
  bytes: number;
  first: number;
  last: number;
  offset: number;
}

export function planMemory(graph: Graph, s: Schedule, weightsImage = false, statePairs: readonly StatePair[] = []): MemoryPlan {
  const address = new Map<string, number>();
  const bytesOf = (v: string) => sizeOf(s.types.get(v)!.shape) * 4;
  const root = (v: string): string => (s.views.has(v) ? root(s.views.get(v)!) : v);

  // Inputs and outputs: packed slots.
  const inputStart = CHUNK_BYTES;
  let at = inputStart;
  checkStatePairs(graph, s.types, statePairs, root);
  const stateInputs = new Set(statePairs.map((p) => p.input));
  const stateOutputs = new Set(statePairs.map((p) => p.output));
  const inputs = graph.inputs.filter((v) => !stateInputs.has(v.name)).map((v) => {
    const slot = { name: v.name, shape: [...v.shape], frac: v.frac, offset: at, bytes: sizeOf(v.shape) * 4 };
    address.set(v.name, at);
    at += slot.bytes;
    return slot;
  });
  const outputStart = inputStart + chunkAlign(at - inputStart);
  at = outputStart;
  const produced = new Map<string, number>();
  s.segments.forEach((seg, k) => segmentOutputs(seg).forEach((o) => produced.set(o, k)));
  const outputCopies: OutputCopy[] = [];
  const pendingCopies: { from: string; to: number; elements: number }[] = [];
  const outputs = graph.outputs.filter((name) => !stateOutputs.has(name)).map((name) => {
    const t = s.types.get(name)!;
    const slot = { name, shape: [...t.shape], frac: t.frac, offset: at, bytes: bytesOf(name) };
    const r = root(name);
    if (produced.has(r) && !address.has(r)) address.set(r, at);
    else pendingCopies.push({ from: name, to: at, elements: slot.bytes / 4 });
    at += slot.bytes;
    return slot;
  });

  // State buffers, then weights: every constant a segment or a copy reads (relative to the image when there is one).
  at = outputStart + chunkAlign(at - outputStart);
  const state = statePairs.map((p) => {
    const t = s.types.get(p.input)!;
    const slot = { input: p.input, output: p.output, shape: [...t.shape], frac: t.frac, offset: at, bytes: bytesOf(p.input) };
    address.set(p.input, at);
    at = align(at + slot.bytes);
    return slot;
  });
  const stateEnd = at;
  const weightsStart = weightsImage ? 0 : stateEnd;
  at = weightsStart;
  const weights: MemoryPlan["weights"] = [];
  const copied = [...pendingCopies.map((c) => c.from), ...statePairs.map((p) => p.output)];
  const readValues = [...s.segments.flatMap((seg) => seg.node.inputs), ...copied];
  const narrow = narrowInMemory(s, copied.map(root), root);
  const storedBytes = (v: string) => (narrow.has(v) ? sizeOf(s.types.get(v)!.shape) * narrow.get(v)!.bits / 8 : bytesOf(v));
  for (const v of new Set(readValues.map(root))) {
    if (!s.constants.has(v) || address.has(v)) continue;
    address.set(v, at);
    weights.push({ name: v, address: at, ...(narrow.has(v) && { storage: narrow.get(v) }) });
    at = align(at + storedBytes(v));
  }
  const last = weights[weights.length - 1];
  const imageBytes = weightsImage && last ? last.address + storedBytes(last.name) : 0;

  // Arena: activations by liveness.
  const arenaStart = weightsImage ? stateEnd : align(at);
  const end = s.segments.length;
  const buffers = new Map<string, ArenaBuffer>();
  s.segments.forEach((seg, k) => {
    for (const o of segmentOutputs(seg)) {
      if (!address.has(o)) buffers.set(o, { key: o, bytes: bytesOf(o), first: k, last: k, offset: 0 });
    }
    for (const v of seg.node.inputs) {
      const b = v === "" ? undefined : buffers.get(root(v));
      if (b) b.last = k;
    }
  });
  for (const v of copied) {
    const b = buffers.get(root(v));
    if (b) b.last = end;
  }
  const arenaPeak = placeBuffers([...buffers.values()]);
  for (const b of buffers.values()) address.set(b.key, arenaStart + b.offset);
  let image: MemoryPlan["image"];
  let tables = align(arenaStart + arenaPeak);
  if (imageBytes > 0) {
    const padded = imagePaddedBytes(imageBytes);
    const offset = Math.ceil((arenaStart + arenaPeak) / padded) * padded;
    for (const w of weights) {
      w.address += offset;
      address.set(w.name, w.address);
    }
    image = { offset, bytes: imageBytes, padded };
    tables = offset + padded;
  }

  // Views share their root's address.
  for (const v of s.views.keys()) {
    const a = address.get(root(v));
    if (a !== undefined) address.set(v, a);
  }
  for (const c of pendingCopies) outputCopies.push({ from: address.get(c.from)!, to: c.to, elements: c.elements });
  const stateCopies = state.map((slot) => ({ from: address.get(slot.output)!, to: slot.offset, elements: slot.bytes / 4 }));
  return {
    address,
    inputs,
    outputs,
    outputCopies,
    state,
    stateCopies,
    weights,
    regions: { input: inputStart, output: outputStart, weights: image?.offset ?? (weightsImage ? arenaStart : weightsStart), arena: arenaStart, arenaPeak, tables },
    image,
  };
}

/**
 * The constants stored narrow in memory (lib/tensor/narrow.ts): those with narrow storage that
 * every segment reads directly (not through a view) in a weight position along the storage axis
 * and no copy reads. The emitters of those positions load q and apply the channel's shift.
 */
function narrowInMemory(s: Schedule, copied: string[], root: (v: string) => string): Map<string, NarrowStorage> {
  const narrow = new Map<string, NarrowStorage>();
  const refused = new Set<string>(copied);
  for (const seg of s.segments) {
    seg.node.inputs.forEach((v, i) => {
      const t = s.constants.get(root(v));
      if (!t?.storage) return;
      if (!s.views.has(v) && weightChannelAxis(seg.node, i, t.rank) === t.storage.axis) narrow.set(v, t.storage);
      else refused.add(root(v));
    });
  }
  for (const v of refused) narrow.delete(v);
  return narrow;
}

/** Greedy placement, largest first; returns the peak. Deterministic (ties by first use, then key). */
function placeBuffers(buffers: ArenaBuffer[]): number {
  const order = [...buffers].sort((a, b) => b.bytes - a.bytes || a.first - b.first || (a.key < b.key ? -1 : 1));
  const placed: ArenaBuffer[] = [];
  let peak = 0;
  for (const b of order) {
    const conflicts = placed.filter((p) => p.first <= b.last && b.first <= p.last).sort((x, y) => x.offset - y.offset);
    let offset = 0;
    for (const p of conflicts) {
      if (offset + b.bytes <= p.offset) break;
      offset = Math.max(offset, align(p.offset + p.bytes));
    }
    b.offset = offset;
    placed.push(b);
    peak = Math.max(peak, offset + b.bytes);
  }
  return align(peak);
}
