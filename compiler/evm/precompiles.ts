/**
 * `--target evm-precompiles` (docs/evm.md, "The extended EVM"): a model compiled to one contract
 * that runs the graph op by op through the DNN-operator precompiles (precompiles-encoding.ts),
 * so the arithmetic is the precompiles' (the reference kernels) and the contract only moves
 * bytes. Every tensor lives in memory packed as little-endian int32 (the precompiles' data
 * format), so an op's output region is the next op's input as it stands. For each op the
 * contract assembles the call input in one buffer: the header and the constant operands come
 * from the weight image in the data contracts (EXTCODECOPY, the header written at compile time),
 * the computed operands from memory (MCOPY); then one STATICCALL writes the output straight into
 * its region. Views alias their input's region. The ABI is the plain EVM target's
 * (`infer(int32[]) returns (int32[])`, artifact.ts), so the input words are converted to packed
 * little-endian at entry and the outputs back to words at the end. The code grows with the op
 * count only, so any model that the precompiles cover fits the 24,576-byte limit; its gas is
 * mostly the precompiles' schedule (chain/precompiles.ts) plus memory for the call buffer.
 * Such a contract runs only on the embedded chain with precompiles (`connectChain("local",
 * { precompiles: true })`): elsewhere its calls to 0x0d.. return no data and `infer` reverts.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type Graph, nodeContext } from "../../lib/graph/ir.js";
import { opDef } from "../../lib/ops/index.js";
import type { TensorType } from "../../lib/ops/op.js";
import type { Tensor } from "../../lib/tensor/tensor.js";
import { Assembler } from "./asm.js";
import { contract, modelAbi, patchingInit, plainInit, type EvmModelArtifact } from "./artifact.js";
import { INFER_SELECTOR } from "./lower.js";
import { headerWords, leBytes, macCount, PRECOMPILE_OPS, precompileFor } from "./precompiles-encoding.js";
import { MAX_DATA_CONTRACTS } from "./program.js";
import { CHUNK_BYTES } from "./weights.js";

export interface EvmPrecompilesArtifact extends Omit<EvmModelArtifact, "format"> {
  format: "detml-evm-precompiles-model/1";
  /** Precompile calls per inference (one per non-view op). */
  calls: number;
}

/** A value of the graph while lowering: a constant, or a packed region of memory. */
type Value = { kind: "const"; tensor: Tensor } | { kind: "mem"; addr: number; type: TensorType };

/** One piece of a call's input: image bytes [offset, offset + length), or memory. */
type Segment = { from: "image"; offset: number; length: number } | { from: "mem"; addr: number; length: number };

interface Call {
  address: number;
  segments: Segment[];
  inputBytes: number;
  out: number;
  outBytes: number;
}

/** The address table of the data contracts, at memory 0 (one word each). */
const ADDRESS_TABLE = 0;
/** The first tensor region; the 32 bytes below it absorb the input conversion's wide stores. */
const TENSORS = 32 * MAX_DATA_CONTRACTS + 32;

const sizeOf = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);
const align32 = (n: number): number => Math.ceil(n / 32) * 32;

/** A bump allocator over memory: regions never reused (packed tensors are small). */
class Memory {
  top = TENSORS;
  take(bytes: number): number {
    const at = this.top;
    this.top = align32(this.top + bytes);
    return at;
  }
}

function unsupported(node: { name: string; op: string }, why: string): Error {
  return new Error(`node '${node.name}' (${node.op}): ${why}`);
}

/** Compile a graph to the precompile-calling contract and its data contracts. */
export function compileEvmPrecompiles(graph: Graph): EvmPrecompilesArtifact {
  const memory = new Memory();
  const values = new Map<string, Value>();
  for (const [name, tensor] of graph.constants) values.set(name, { kind: "const", tensor });
  // Graph inputs sit back to back, in the order of the ABI's flat array.
  let inputElements = 0;
  for (const v of graph.inputs) inputElements += sizeOf(v.shape);
  const inputBase = memory.take(4 * inputElements);
  let at = inputBase;
  for (const v of graph.inputs) {
    values.set(v.name, { kind: "mem", addr: at, type: { shape: v.shape, frac: v.frac } });
    at += 4 * sizeOf(v.shape);
  }

  const image: Uint8Array[] = [];
  let imageLength = 0;
  const addToImage = (bytes: Uint8Array): number => {
    image.push(bytes);
    imageLength += bytes.length;
    return imageLength - bytes.length;
  };

  const calls: Call[] = [];
  let macs = 0;
  for (const node of graph.nodes) {
    const def = opDef(node.op);
    const inputs = node.inputs.map((name) => (name === "" ? undefined : values.get(name)!));
    const types = inputs.map((v) => v && (v.kind === "const" ? { shape: [...v.tensor.shape], frac: v.tensor.frac } : v.type));
    const { frac } = nodeContext(graph, node);
    const [outType] = def.infer(types as TensorType[], node.attrs, { frac });
    if (def.view) {
      const source = inputs[0]!;
      values.set(node.outputs[0], source.kind === "const"
        ? { kind: "const", tensor: source.tensor.reshape(outType.shape) }
        : { kind: "mem", addr: source.addr, type: outType });
      continue;
    }
    const precompile = precompileFor(node.op);
    if (precompile === undefined) {
      throw unsupported(node, `op ${node.op} has no precompile (precompiles: ${PRECOMPILE_OPS.map((p) => p.kind).join(", ")})`);
    }
    if (node.outputs.length !== 1) throw unsupported(node, "a precompile returns one output");
    const segments: Segment[] = [];
    const addImage = (bytes: Uint8Array) => {
      const offset = addToImage(bytes);
      const last = segments[segments.length - 1];
      if (last?.from === "image" && last.offset + last.length === offset) last.length += bytes.length;
      else segments.push({ from: "image", offset, length: bytes.length });
    };
    addImage(leBytes(headerWords(def, types, frac, node.attrs)));
    for (const v of inputs) {
      if (v?.kind === "const") addImage(leBytes(v.tensor.data));
      else if (v?.kind === "mem") segments.push({ from: "mem", addr: v.addr, length: 4 * sizeOf(v.type.shape) });
    }
    const outBytes = 4 * sizeOf(outType.shape);
    const out = memory.take(outBytes);
    values.set(node.outputs[0], { kind: "mem", addr: out, type: outType });
    calls.push({ address: precompile.address, segments, inputBytes: segments.reduce((s, g) => s + g.length, 0), out, outBytes });
    macs += macCount(node.op, types, outType, node.attrs);
  }

  const outputs = graph.outputs.map((name) => {
    const v = values.get(name)!;
    if (v.kind !== "mem" || graph.inputs.some((i) => i.name === name)) throw new Error(`graph output '${name}' is not a computed value: the EVM target returns computed values only`);
    return { name, addr: v.addr, shape: v.type.shape, frac: v.type.frac };
  });
  const chunkCount = Math.ceil(imageLength / CHUNK_BYTES);
  if (chunkCount > MAX_DATA_CONTRACTS) throw new Error(`the weights need ${chunkCount} data contracts, more than the ${MAX_DATA_CONTRACTS} the EVM target supports`);
  // The call buffer, then reused for the returned array once every op has run.
  const buffer = memory.top;
  const outputWords = outputs.reduce((s, o) => s + sizeOf(o.shape), 0);
  const memoryBytes = buffer + Math.max(64 + 32 * outputWords, ...calls.map((c) => c.inputBytes));

  const a = new Assembler();
  const fail = a.newLabel("revert");
  a.push(0).op("CALLDATALOAD").push(224).op("SHR").push(INFER_SELECTOR).op("EQ", "ISZERO").jumpi(fail);
  a.push(4).op("CALLDATALOAD").push(32).op("EQ", "ISZERO").jumpi(fail);
  a.push(36).op("CALLDATALOAD").push(inputElements).op("EQ", "ISZERO").jumpi(fail);
  for (let i = 0; i < chunkCount; i++) a.patchSlot().push(ADDRESS_TABLE + 32 * i).op("MSTORE");
  emitPackInputs(a, inputElements, inputBase, fail);
  for (const call of calls) emitCall(a, call, buffer, fail);
  let word = 0;
  for (const o of outputs) {
    emitUnpack(a, sizeOf(o.shape), o.addr, buffer + 64 + 32 * word);
    word += sizeOf(o.shape);
  }
  a.push(32).push(buffer).op("MSTORE").push(outputWords).push(buffer + 32).op("MSTORE");
  a.push(64 + 32 * outputWords).push(buffer).op("RETURN");
  a.label(fail).push(0).push(0).op("REVERT");

  const runtime = a.assemble();
  const all = new Uint8Array(imageLength);
  let offset = 0;
  for (const part of image) {
    all.set(part, offset);
    offset += part.length;
  }
  const data = Array.from({ length: chunkCount }, (_, i) => {
    const code = new Uint8Array(1 + Math.min(CHUNK_BYTES, imageLength - i * CHUNK_BYTES));
    code.set(all.subarray(i * CHUNK_BYTES, (i + 1) * CHUNK_BYTES), 1);
    return contract([], plainInit(code.length), code);
  });
  return {
    format: "detml-evm-precompiles-model/1",
    model: contract(modelAbi(chunkCount), patchingInit(runtime.length, a.patchOffsets), runtime),
    data,
    inputs: graph.inputs.map((v) => ({ name: v.name, shape: [...v.shape], frac: v.frac })),
    outputs: outputs.map(({ name, shape, frac }) => ({ name, shape: [...shape], frac })),
    macs,
    memoryBytes,
    weightBytes: imageLength,
    calls: calls.length,
  };
}

/** Write `<dir>/<name>.evm-precompiles.json`; returns the path. */
export function writeEvmPrecompilesArtifact(dir: string, name: string, artifact: EvmPrecompilesArtifact): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${name}.evm-precompiles.json`);
  writeFileSync(path, `${JSON.stringify(artifact, null, 1)}\n`);
  return path;
}

/** Byte-swap the int32 in the low 4 bytes of the top word (which holds nothing above them). */
function emitByteSwap32(a: Assembler): void {
  a.op(0x80).push(8).op("SHR").push(0xff00ff).op("AND").op(0x90).push(0xff00ff).op("AND").push(8).op("SHL", 0x17);
  a.op(0x80).push(16).op("SHR").op(0x90).push(0xffff).op("AND").push(16).op("SHL", 0x17);
}

/**
 * The ABI's input words (calldata from byte 68) to packed little-endian int32 at `base`, last
 * element first: each MSTORE also writes the 28 bytes below its element, which only elements
 * not yet written (or the guard below the first) occupy. A word that is not an int32 reverts.
 */
function emitPackInputs(a: Assembler, count: number, base: number, fail: string): void {
  if (count === 0) return;
  const loop = a.newLabel("pack");
  const done = a.newLabel("packed");
  a.push(count).label(loop).op(0x80, "ISZERO").jumpi(done);
  a.push(1).op(0x90, "SUB");
  a.op(0x80).push(5).op("SHL").push(68).op("ADD", "CALLDATALOAD");
  a.op(0x80, 0x80).push(3).op("SIGNEXTEND", "EQ", "ISZERO").jumpi(fail);
  a.push(0xffffffff).op("AND");
  emitByteSwap32(a);
  a.op(0x81).push(2).op("SHL").push(base - 28).op("ADD", "MSTORE").jump(loop);
  a.label(done).op("POP");
}

/** Packed little-endian int32 at `src` back to sign-extended words at `dst`. */
function emitUnpack(a: Assembler, count: number, src: number, dst: number): void {
  const loop = a.newLabel("unpack");
  const done = a.newLabel("unpacked");
  a.push(0).label(loop).op(0x80).push(count).op("EQ").jumpi(done);
  a.op(0x80).push(2).op("SHL").push(src).op("ADD", "MLOAD").push(224).op("SHR");
  emitByteSwap32(a);
  a.push(3).op("SIGNEXTEND");
  a.op(0x81).push(5).op("SHL").push(dst).op("ADD", "MSTORE");
  a.push(1).op("ADD").jump(loop);
  a.label(done).op("POP");
}

/** One op: its input assembled in the buffer (image pieces per data contract, memory copies), then the STATICCALL. */
function emitCall(a: Assembler, call: Call, buffer: number, fail: string): void {
  let dst = buffer;
  for (const s of call.segments) {
    if (s.from === "mem") {
      a.push(s.length).push(s.addr).push(dst).op("MCOPY");
    } else {
      for (let from = s.offset; from < s.offset + s.length;) {
        const chunk = Math.floor(from / CHUNK_BYTES);
        const to = Math.min(s.offset + s.length, (chunk + 1) * CHUNK_BYTES);
        a.push(to - from).push(1 + from - chunk * CHUNK_BYTES).push(dst + from - s.offset).push(ADDRESS_TABLE + 32 * chunk).op("MLOAD", "EXTCODECOPY");
        from = to;
      }
    }
    dst += s.length;
  }
  // STATICCALL(gas, address, in, inSize, out, outSize): the output lands in its region. A call
  // to an address without code also succeeds, returning nothing: where the precompiles do not
  // exist, the return data size check is what makes infer revert instead of returning zeros.
  a.push(call.outBytes).push(call.out).push(call.inputBytes).push(buffer).push(call.address).op(0x5a, 0xfa, "ISZERO").jumpi(fail);
  a.op(0x3d).push(call.outBytes).op("EQ", "ISZERO").jumpi(fail);
}

