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
 */
import type { Graph } from "../lib/graph/ir.js";
import { sizeOf } from "../lib/tensor/shape.js";
import type { TensorSlot } from "../abi/manifest.js";
import { chunkAlign, CHUNK_BYTES } from "../vm/spec/io.js";
import { imagePaddedBytes } from "./weights-image.js";
import { type Schedule, segmentOutputs } from "./schedule.js";

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
  /** Constants placed in the weights region. */
  weights: { name: string; address: number }[];
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

export function planMemory(graph: Graph, s: Schedule, weightsImage = false): MemoryPlan {
  const address = new Map<string, number>();
  const bytesOf = (v: string) => sizeOf(s.types.get(v)!.shape) * 4;
  const root = (v: string): string => (s.views.has(v) ? root(s.views.get(v)!) : v);

  // Inputs and outputs: packed slots.
  const inputStart = CHUNK_BYTES;
  let at = inputStart;
  const inputs = graph.inputs.map((v) => {
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
  const outputs = graph.outputs.map((name) => {
    const t = s.types.get(name)!;
    const slot = { name, shape: [...t.shape], frac: t.frac, offset: at, bytes: bytesOf(name) };
    const r = root(name);
    if (produced.has(r) && !address.has(r)) address.set(r, at);
    else pendingCopies.push({ from: name, to: at, elements: slot.bytes / 4 });
    at += slot.bytes;
    return slot;
  });

  // Weights: every constant a segment or an output copy reads (relative to the image when there is one).
  const outputEnd = outputStart + chunkAlign(at - outputStart);
  const weightsStart = weightsImage ? 0 : outputEnd;
  at = weightsStart;
  const weights: { name: string; address: number }[] = [];
  const readValues = [...s.segments.flatMap((seg) => seg.node.inputs), ...pendingCopies.map((c) => c.from)];
  for (const v of new Set(readValues.map(root))) {
    if (!s.constants.has(v) || address.has(v)) continue;
    address.set(v, at);
    weights.push({ name: v, address: at });
    at = align(at + bytesOf(v));
  }
  const last = weights[weights.length - 1];
  const imageBytes = weightsImage && last ? last.address + bytesOf(last.name) : 0;

  // Arena: activations by liveness.
  const arenaStart = weightsImage ? outputEnd : align(at);
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
  for (const c of pendingCopies) {
    const b = buffers.get(root(c.from));
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
  return {
    address,
    inputs,
    outputs,
    outputCopies,
    weights,
    regions: { input: inputStart, output: outputStart, weights: image?.offset ?? (weightsImage ? arenaStart : weightsStart), arena: arenaStart, arenaPeak, tables },
    image,
  };
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
