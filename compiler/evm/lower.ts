/**
 * Lowering a detml graph to one EVM contract (docs/evm.md). The contract's single entry point is
 * `infer(int32[] input)`: it checks the selector and the array's length, copies the input words
 * to memory (ABI int32 words are already the word-per-element layout), rejects words that are
 * not int32, copies the weights it reads in memory from the data contracts (EXTCODECOPY,
 * addresses patched in at deployment; large dense layers stream theirs, see mac.ts), runs the
 * nodes in graph order (each op's emitter: mac.ts / mac-ops.ts, elementwise.ts, pool.ts; views
 * alias their input) and returns the outputs concatenated in graph order as `int32[]`. Shapes
 * and fracs come from each OpDef's `infer`, as in the reference executor. Any op outside
 * SUPPORTED_OPS is a one-line error naming the node.
 */
import { keccak_256 } from "@noble/hashes/sha3.js";
import { type Graph, type Node, nodeContext } from "../../lib/graph/ir.js";
import type { ConvAttrs } from "../../lib/ops/conv.js";
import type { ConvTransposeAttrs } from "../../lib/ops/conv-transpose.js";
import { convTransposeGeometry } from "../../lib/ops/conv-transpose.js";
import type { GemmAttrs } from "../../lib/ops/gemm.js";
import { opDef, resolveAttrs, VIEW_KINDS } from "../../lib/ops/index.js";
import { kernelShape } from "../../lib/ops/conv.js";
import { resolveWindows } from "../../lib/ops/window.js";
import { normAxis } from "../../lib/tensor/shape.js";
import { Tensor } from "../../lib/tensor/tensor.js";
import { dup, swap } from "./asm.js";
import { emitBinary, emitClip, emitExpTable, emitLeakyRelu, emitRelu, emitTanhSigmoid, mapWords } from "./elementwise.js";
import { emitMac } from "./mac.js";
import { correlationJobs, matrixJob, type MatrixProduct } from "./mac-ops.js";
import { emitGlobalPool, emitPool } from "./pool.js";
import { ADDRESS_TABLE_ADDR, type Buffer, bufferAt, MAX_DATA_CONTRACTS, Program, weightsAt } from "./program.js";
import { CHUNK_BYTES, extendShift, MAX_CODE_BYTES } from "./weights.js";

export const SUPPORTED_OPS: readonly string[] = [
  "Gemm", "MatMul", "Conv", "ConvTranspose", "MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool",
  "Relu", "LeakyRelu", "Clip", "Tanh", "Sigmoid", "Add", "Mul", "Concat", ...[...VIEW_KINDS].sort(),
];

/** The ABI signature of the entry point and its 4-byte selector. */
export const INFER_SIGNATURE = "infer(int32[])";
export const INFER_SELECTOR = keccak_256(new TextEncoder().encode(INFER_SIGNATURE)).slice(0, 4).reduce((v, b) => v * 256 + b, 0);

export interface LoweredModel {
  /** Runtime code; the PUSH32 immediates at `patchOffsets` receive the data-contract addresses. */
  runtime: Uint8Array;
  patchOffsets: number[];
  /** The weight image cut into data-contract payloads (in order). */
  chunks: Uint8Array[];
  inputs: { name: string; shape: number[]; frac: number }[];
  outputs: { name: string; shape: number[]; frac: number }[];
  /** Multiply-accumulates per inference (taps on input values, as the reference counts them). */
  macs: number;
  /** Highest memory byte the contract touches (memory expansion is paid per word). */
  memoryBytes: number;
}

const size = (shape: readonly number[]) => shape.reduce((s, d) => s * d, 1);

/**
 * Unrolled MAC tap lists first; when the code does not fit a contract, again with tap lists
 * longer than these as loops (more gas, less code).
 */
const LOOP_TAPS_ABOVE = [Infinity, 256, 64, 16];

export interface EvmOptions {
  /** Roll MAC tap lists longer than this into loops (default: only when unrolled code does not fit a contract). */
  loopTapsAbove?: number;
}

export function lowerToEvm(graph: Graph, options: EvmOptions = {}): LoweredModel {
  let sizes = "";
  for (const loopTapsAbove of options.loopTapsAbove === undefined ? LOOP_TAPS_ABOVE : [options.loopTapsAbove]) {
    const lowered = lowerWith(graph, new Program(loopTapsAbove));
    if (lowered.runtime.length <= MAX_CODE_BYTES) return lowered;
    sizes += `${sizes ? ", " : ""}${lowered.runtime.length}`;
  }
  throw new Error(`the model contract's code is over the ${MAX_CODE_BYTES}-byte limit (EIP-170) even with its multiply-accumulate loops rolled up (${sizes} bytes): the model is too large for one EVM contract`);
}

function lowerWith(graph: Graph, p: Program): LoweredModel {
  const a = p.asm;
  const values = new Map<string, Buffer | Tensor>(graph.constants);
  const fail = a.newLabel("revert");

  // Inputs: one flat int32[] of every input in graph order, copied in one CALLDATACOPY.
  const inputBuffers = graph.inputs.map((v) => p.allocate([...v.shape], v.frac));
  graph.inputs.forEach((v, i) => values.set(v.name, inputBuffers[i]));
  const inputCount = graph.inputs.reduce((s, v) => s + size(v.shape), 0);
  a.push(0).op("CALLDATALOAD").push(224).op("SHR").push(INFER_SELECTOR).op("EQ", "ISZERO").jumpi(fail);
  a.push(4).op("CALLDATALOAD").push(32).op("EQ", "ISZERO").jumpi(fail);
  a.push(36).op("CALLDATALOAD").push(inputCount).op("EQ", "ISZERO").jumpi(fail);
  if (inputCount > 0) {
    a.push(32 * inputCount).push(68);
    p.pushAddr(bufferAt(inputBuffers[0]));
    a.op("CALLDATACOPY");
    // Every word must be an int32: sign-extending its low 4 bytes gives it back.
    const check = a.newLabel("check-input");
    p.pushAddr(bufferAt(inputBuffers[0], inputCount));
    p.pushAddr(bufferAt(inputBuffers[0]));
    a.label(check);
    a.op(dup(1), "MLOAD", dup(1)).push(3).op("SIGNEXTEND", "EQ", "ISZERO").jumpi(fail);
    a.push(32).op("ADD", dup(2), dup(2), "SUB").jumpi(check);
    a.op("POP", "POP");
  }
  // The weights the code reads in memory come from the data contracts; what that is, is known
  // only at the end, so the copies are emitted into a block placed there.
  const weightCopies = a.newLabel("weights");
  const weightsDone = a.newLabel("weights-done");
  a.jump(weightCopies);
  a.label(weightsDone);

  let macs = 0;
  const fused = fusibleRelus(graph);
  const aliases = (node: Node) => VIEW_KINDS.has(node.op) || (node.op === "Relu" && fused.has(node.inputs[0]));
  const { rootOf, lastUse } = liveness(graph, aliases);
  graph.nodes.forEach((node, index) => {
    if (node.op === "Relu" && fused.has(node.inputs[0])) {
      values.set(node.outputs[0], values.get(node.inputs[0])!);
      return;
    }
    try {
      macs += lowerNode(p, node, values, nodeContext(graph, node).frac, fused.has(node.outputs[0]));
    } catch (e) {
      throw new Error(`node '${node.name}' (${node.op}): ${(e as Error).message}`);
    }
    // Buffers whose last reader this node was are free for the next ones.
    for (const root of new Set(node.inputs.map(rootOf))) {
      const v = values.get(root);
      if (lastUse.get(root) === index && v !== undefined && !(v instanceof Tensor)) p.release(v);
    }
  });

  // Outputs: the ABI encoding [0x20][count][words...] assembled in a result buffer, then RETURN.
  const outputs = graph.outputs.map((name) => {
    const v = values.get(name);
    if (v === undefined || v instanceof Tensor) throw new Error(`output '${name}' is a constant; the EVM target returns computed values only`);
    return { name, buffer: v };
  });
  const outputCount = outputs.reduce((s, o) => s + size(o.buffer.shape), 0);
  const result = p.allocate([outputCount + 2], 0);
  a.push(32);
  p.pushAddr(bufferAt(result));
  a.op("MSTORE").push(outputCount);
  p.pushAddr(bufferAt(result, 1));
  a.op("MSTORE");
  let at = 2;
  for (const o of outputs) {
    const n = size(o.buffer.shape);
    p.copyRows(bufferAt(result, at), 32 * n, bufferAt(o.buffer), 32 * n, 1, 32 * n);
    at += n;
  }
  a.push(32 * (outputCount + 2));
  p.pushAddr(bufferAt(result));
  a.op("RETURN");
  a.label(fail);
  a.op("PUSH0", "PUSH0", "REVERT");

  // Deferred block: the data-contract addresses into memory, the resident weights (EXTCODECOPY
  // of each part of a contract's code they span, after its STOP byte), the exp table, then back.
  a.label(weightCopies);
  const chunks = p.weights.chunks();
  if (chunks.length > MAX_DATA_CONTRACTS) throw new Error(`the weights need ${chunks.length} data contracts, more than the ${MAX_DATA_CONTRACTS} the EVM target supports`);
  chunks.forEach((_, c) => {
    a.patchSlot();
    a.push(ADDRESS_TABLE_ADDR + 32 * c).op("MSTORE");
  });
  for (const range of p.resident) {
    for (let c = Math.floor(range.start / CHUNK_BYTES); c * CHUNK_BYTES < range.end; c++) {
      const from = Math.max(range.start, c * CHUNK_BYTES);
      const to = Math.min(range.end, (c + 1) * CHUNK_BYTES);
      if (to <= from) continue;
      a.push(to - from).push(1 + from - c * CHUNK_BYTES);
      p.pushAddr(weightsAt(from));
      a.push(ADDRESS_TABLE_ADDR + 32 * c).op("MLOAD", "EXTCODECOPY");
    }
  }
  if (p.usesExpTable) emitExpTable(p);
  a.jump(weightsDone);

  const runtime = a.assemble();
  const info = (name: string, b: Buffer) => ({ name, shape: [...b.shape], frac: b.frac });
  return {
    runtime, patchOffsets: [...a.patchOffsets], chunks,
    inputs: graph.inputs.map((v, i) => info(v.name, inputBuffers[i])),
    outputs: outputs.map((o) => info(o.name, o.buffer)),
    macs, memoryBytes: p.bufferBase() + p.bufferBytes,
  };
}

/**
 * For buffer reuse: the value each value's memory belongs to (views and fused Relus share their
 * input's) and, per such root, the index of the last node reading it (graph outputs: never dead).
 */
function liveness(graph: Graph, aliases: (node: Node) => boolean) {
  const roots = new Map<string, string>();
  const rootOf = (name: string) => roots.get(name) ?? name;
  const lastUse = new Map<string, number>();
  graph.nodes.forEach((node, index) => {
    for (const name of node.inputs) if (name !== "") lastUse.set(rootOf(name), index);
    if (aliases(node)) roots.set(node.outputs[0], rootOf(node.inputs[0]));
  });
  for (const name of graph.outputs) lastUse.set(rootOf(name), Infinity);
  return { rootOf, lastUse };
}

const MAC_OPS = new Set(["Gemm", "MatMul", "Conv", "ConvTranspose"]);

/**
 * MAC outputs whose only reader is a Relu (and that the graph does not return): the Relu runs
 * inside the MAC op's finish, saving a pass and a buffer.
 */
function fusibleRelus(graph: Graph): Set<string> {
  const readers = new Map<string, Node[]>();
  for (const n of graph.nodes) for (const name of n.inputs) readers.set(name, [...(readers.get(name) ?? []), n]);
  const fused = new Set<string>();
  for (const n of graph.nodes) {
    const only = readers.get(n.outputs[0]);
    if (MAC_OPS.has(n.op) && only?.length === 1 && only[0].op === "Relu" && !graph.outputs.includes(n.outputs[0])) fused.add(n.outputs[0]);
  }
  return fused;
}

function asBuffer(v: Buffer | Tensor | undefined, what: string): Buffer {
  if (v === undefined) throw new Error(`${what} is missing`);
  if (v instanceof Tensor) throw new Error(`${what} is a constant; the EVM target needs it computed (fold constant subgraphs first)`);
  return v;
}

/** A constant operand of an elementwise op, widened to words in memory (once, where it is used). */
function materialize(p: Program, t: Tensor): Buffer {
  const packed = p.weights.add([...t.data].map(BigInt));
  p.makeResident(packed.offset, packed.offset + packed.width * size(t.shape));
  const out = p.allocate([...t.shape], t.frac);
  // Packed elements are `width` bytes apart, words 32: stack [end dst src].
  const a = p.asm;
  const top = a.newLabel("widen-const");
  p.pushAddr(bufferAt(out, size(t.shape)));
  p.pushAddr(bufferAt(out));
  p.pushAddr(weightsAt(packed.offset));
  a.label(top);
  a.op(dup(1), "MLOAD").push(extendShift(packed.width)).op("SAR", dup(3), "MSTORE");
  a.push(packed.width).op("ADD", swap(1)).push(32).op("ADD", swap(1), dup(3), dup(3), "SUB").jumpi(top);
  a.op("POP", "POP", "POP");
  return out;
}

/** Lower one node; returns its multiply-accumulate count. */
function lowerNode(p: Program, node: Node, values: Map<string, Buffer | Tensor>, frac: number, relu: boolean): number {
  if (!SUPPORTED_OPS.includes(node.op)) {
    throw new Error(`op ${node.op} is not supported by the EVM target (supported: ${SUPPORTED_OPS.join(", ")})`);
  }
  const def = opDef(node.op);
  const args = node.inputs.map((name) => (name === "" ? undefined : values.get(name)));
  const types = args.map((v) => v && { shape: [...v.shape], frac: v.frac });
  const attrs = resolveAttrs(def, node.attrs);
  const ctx = { frac };
  const outTypes = def.infer(types as { shape: number[]; frac: number }[], attrs, ctx);
  if (def.view) {
    const x = args[0];
    if (x === undefined) throw new Error("its input is missing");
    values.set(node.outputs[0], x instanceof Tensor ? new Tensor(outTypes[0].shape, x.data, x.frac) : { ...x, shape: [...outTypes[0].shape] });
    return 0;
  }
  const out = p.allocate([...outTypes[0].shape], outTypes[0].frac);
  values.set(node.outputs[0], out);
  const widened: Buffer[] = [];
  const operand = (i: number) => {
    const v = args[i];
    if (!(v instanceof Tensor)) return asBuffer(v, `input ${i}`);
    widened.push(materialize(p, v));
    return widened[widened.length - 1];
  };
  try {
    return emitNode(p, node, args, attrs, out, operand, relu);
  } finally {
    widened.forEach((b) => p.release(b));
  }
}

function emitNode(p: Program, node: Node, args: (Buffer | Tensor | undefined)[], attrs: Record<string, unknown>, out: Buffer,
  operand: (i: number) => Buffer, relu: boolean): number {
  const n = size(out.shape);
  switch (node.op) {
    case "Relu": emitRelu(p, operand(0), out, n); return 0;
    case "LeakyRelu": emitLeakyRelu(p, operand(0), out, n, attrs.alpha as number); return 0;
    case "Clip": emitClip(p, operand(0), out, n, attrs.min as number, attrs.max as number); return 0;
    case "Tanh": case "Sigmoid": emitTanhSigmoid(p, node.op, operand(0), out, n); return 0;
    case "Add": case "Mul": emitBinary(p, node.op, operand(0), operand(1), out); return 0;
    case "MaxPool": case "AveragePool":
      emitPool(p, { kind: node.op, attrs: attrs as never }, operand(0), out);
      return 0;
    case "GlobalAveragePool": case "GlobalMaxPool": emitGlobalPool(p, node.op, operand(0), out); return 0;
    case "Concat": emitConcat(p, args.map((_, i) => operand(i)), attrs.axis as number, out); return 0;
    case "Gemm": return emitGemm(p, args as (Buffer | Tensor)[], attrs as GemmAttrs, out, relu);
    case "MatMul": return emitMatMul(p, args as (Buffer | Tensor)[], out, relu);
    case "Conv": return emitConv(p, args as (Buffer | Tensor)[], attrs as ConvAttrs, out, relu);
    default: return emitConvTranspose(p, args as (Buffer | Tensor)[], attrs as ConvTransposeAttrs, out, relu);
  }
}

function countMacs(job: ReturnType<typeof matrixJob>): number {
  return job.channels * job.groups.reduce((s, g) => s + g.ny * g.nx * g.taps.length, 0);
}

function emitGemm(p: Program, [x, w, c]: (Buffer | Tensor)[], attrs: GemmAttrs, out: Buffer, relu: boolean): number {
  const [m, k] = attrs.transA ? [x.shape[1], x.shape[0]] : x.shape;
  const n = out.shape[1];
  const prod: MatrixProduct = {
    m, k, n,
    leftAt: (i, t) => (attrs.transA ? t * m + i : i * k + t),
    rightAt: (t, j) => (attrs.transB ? j * k + t : t * n + j),
  };
  if (c !== undefined && !(c instanceof Tensor)) throw new Error("input C is computed; the EVM target needs a constant bias C");
  const job = matrixJob("Gemm", prod, x, w, out, out.frac, c, attrs.alpha, attrs.beta);
  emitMac(p, { ...job, relu });
  return countMacs(job);
}

function emitMatMul(p: Program, [x, w]: (Buffer | Tensor)[], out: Buffer, relu: boolean): number {
  // Leading axes of the computed operand fold into its rows (a constant operand must be 1-D/2-D).
  const constant = x instanceof Tensor ? x : w as Tensor;
  if (constant.shape.length > 2) throw new Error(`the constant operand has rank ${constant.shape.length}; the EVM target takes a 1-D or 2-D constant`);
  const a = x.shape.length === 1 ? [1, x.shape[0]] : [size(x.shape.slice(0, -1)), x.shape[x.shape.length - 1]];
  const b = w.shape.length === 1 ? [w.shape[0], 1] : [size(w.shape.slice(0, -1)), w.shape[w.shape.length - 1]];
  if (x instanceof Tensor && w.shape.length > 2) throw new Error("a batched computed right operand is not supported by the EVM target");
  const [m, k] = a;
  const n = b[1];
  const prod: MatrixProduct = { m, k, n, leftAt: (i, t) => i * k + t, rightAt: (t, j) => t * n + j };
  const job = matrixJob("MatMul", prod, x, w, out, out.frac);
  emitMac(p, { ...job, relu });
  return countMacs(job);
}

function constantWeight(w: Buffer | Tensor | undefined, op: string): Tensor {
  if (!(w instanceof Tensor)) throw new Error(`the weight W is computed; the EVM target needs ${op} weights to be constants`);
  return w;
}

function emitConv(p: Program, [x, wv, b]: (Buffer | Tensor)[], attrs: ConvAttrs, out: Buffer, relu: boolean): number {
  const w = constantWeight(wv, "Conv");
  const input = asBuffer(x, "input X");
  const windows = resolveWindows("Conv", input.shape.slice(2), kernelShape("Conv", w, attrs.kernel_shape), attrs);
  const [, perGroup, ...kernel] = w.shape;
  const [kRows, kCols] = kernel.length === 1 ? [1, kernel[0]] : kernel;
  const jobs = correlationJobs(p, {
    op: "Conv", x: input, output: out, windows, outChannels: w.shape[0], group: attrs.group,
    weight: (m, c, i, j) => w.data[((m * perGroup + c) * kRows + i) * kCols + j],
    weightFrac: w.frac, bias: b as Tensor | undefined, outFrac: out.frac,
  });
  jobs.forEach((job) => emitMac(p, { ...job, relu }));
  releasePadding(p, jobs, input);
  return jobs.reduce((s, job) => s + countMacs(job), 0);
}

/** The zero-padded copy of the input that correlationJobs may have made is dead once its jobs ran. */
function releasePadding(p: Program, jobs: { input: Buffer }[], input: Buffer): void {
  if (jobs.length > 0 && jobs[0].input !== input) p.release(jobs[0].input);
}

function emitConvTranspose(p: Program, [x, wv, b]: (Buffer | Tensor)[], attrs: ConvTransposeAttrs, out: Buffer, relu: boolean): number {
  const w = constantWeight(wv, "ConvTranspose");
  const input = asBuffer(x, "input X");
  const { outChannels, windows } = convTransposeGeometry(input, w, b, attrs);
  const [channels, outPerGroup, ...kernel] = w.shape;
  const [kRows, kCols] = kernel.length === 1 ? [1, kernel[0]] : kernel;
  const perGroupIn = channels / attrs.group;
  // The correlation's weight for (m, c, i, j) is W[g * C/group + c, m mod M/group] with the kernel flipped.
  const jobs = correlationJobs(p, {
    op: "ConvTranspose", x: input, output: out, windows, outChannels, group: attrs.group,
    weight: (m, c, i, j) => {
      const g = Math.floor(m / outPerGroup);
      return w.data[(((g * perGroupIn + c) * outPerGroup + (m % outPerGroup)) * kRows + (kRows - 1 - i)) * kCols + (kCols - 1 - j)];
    },
    weightFrac: w.frac, bias: b as Tensor | undefined, outFrac: out.frac,
  });
  jobs.forEach((job) => emitMac(p, { ...job, relu }));
  releasePadding(p, jobs, input);
  return jobs.reduce((s, job) => s + countMacs(job), 0);
}

/** Concat: per outer block, each input's chunk copied (rescaled first when its frac differs). */
function emitConcat(p: Program, inputs: Buffer[], axis: number, out: Buffer): void {
  const a = normAxis(axis, out.shape.length);
  const outer = size(out.shape.slice(0, a));
  const inner = size(out.shape.slice(a + 1));
  const rowWords = out.shape[a] * inner;
  let at = 0;
  for (const x of inputs) {
    let source = x;
    if (x.frac !== out.frac) {
      source = p.allocate([...x.shape], out.frac);
      mapWords(p, x, source, size(x.shape), () => p.narrow(x.frac, out.frac, false));
    }
    const chunk = x.shape[a] * inner;
    p.copyRows(bufferAt(out, at), 32 * rowWords, bufferAt(source), 32 * chunk, outer, 32 * chunk);
    if (source !== x) p.release(source);
    at += chunk;
  }
}
