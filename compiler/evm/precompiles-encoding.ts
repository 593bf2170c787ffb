/**
 * The DNN-operator precompiles of the extended EVM (docs/evm.md, "The extended EVM"): their
 * addresses, the cost class of each, and the one input encoding they all share, used both by
 * the compiler (`--target evm-precompiles` writes these bytes) and by the precompiles
 * themselves (chain/precompiles.ts decodes them). A call's input is a header of int32 words,
 * then the input tensors' elements; every word is a little-endian int32:
 *   n (input count); per input: rank r (-1 for an absent optional input, then nothing else),
 *   r dims, frac; the output frac (the graph's frac: where the op writes computed values); the
 *   attributes in the op's declared order (int and fixed: one word; ints and fixeds: a count,
 *   then the words; enum: the index of its value); then each present input's elements,
 *   row-major.
 * The output is the op's single output tensor, its elements as little-endian int32 (its shape
 * and frac follow from the header by the op's shape inference). `decodeOpCall` rejects any
 * malformed input (wrong lengths, bad ranks, attributes the op refuses).
 */
import type { TensorType } from "../../lib/ops/op.js";
import { opDef, resolveAttrs, type AnyOpDef } from "../../lib/ops/index.js";
import type { Attrs, AttrSpec } from "../../lib/ops/op.js";
import { Tensor } from "../../lib/tensor/tensor.js";

/**
 * How a precompile is priced (chain/precompiles.ts): `mac` ops pay per multiply-accumulate (a
 * pool's window taps count as such) and per element moved; `elementwise` per element;
 * `transcendental` per element at the price of the fixed-point exp/erf kernels.
 */
export type CostClass = "mac" | "elementwise" | "transcendental";

export interface PrecompileOp {
  kind: string;
  address: number;
  cost: CostClass;
}

/** The precompiles, at 0x0d01.. (away from Ethereum's 0x01..0x11 and RIP-7212's 0x100). */
export const PRECOMPILE_OPS: readonly PrecompileOp[] = [
  { kind: "MatMul", address: 0x0d01, cost: "mac" },
  { kind: "Gemm", address: 0x0d02, cost: "mac" },
  { kind: "Conv", address: 0x0d03, cost: "mac" },
  { kind: "ConvTranspose", address: 0x0d04, cost: "mac" },
  { kind: "MaxPool", address: 0x0d10, cost: "mac" },
  { kind: "AveragePool", address: 0x0d11, cost: "mac" },
  { kind: "GlobalMaxPool", address: 0x0d12, cost: "mac" },
  { kind: "GlobalAveragePool", address: 0x0d13, cost: "mac" },
  { kind: "Relu", address: 0x0d20, cost: "elementwise" },
  { kind: "LeakyRelu", address: 0x0d21, cost: "elementwise" },
  { kind: "Clip", address: 0x0d22, cost: "elementwise" },
  { kind: "Tanh", address: 0x0d30, cost: "transcendental" },
  { kind: "Sigmoid", address: 0x0d31, cost: "transcendental" },
  { kind: "Gelu", address: 0x0d32, cost: "transcendental" },
  { kind: "Erf", address: 0x0d33, cost: "transcendental" },
  { kind: "Exp", address: 0x0d34, cost: "transcendental" },
  { kind: "Softmax", address: 0x0d35, cost: "transcendental" },
  { kind: "Add", address: 0x0d40, cost: "elementwise" },
  { kind: "Sub", address: 0x0d41, cost: "elementwise" },
  { kind: "Mul", address: 0x0d42, cost: "elementwise" },
  { kind: "Concat", address: 0x0d43, cost: "elementwise" },
];

export function precompileFor(kind: string): PrecompileOp | undefined {
  return PRECOMPILE_OPS.find((p) => p.kind === kind);
}

const MAX_RANK = 8;
/** The most elements one tensor of a call may have (bounds what a header may ask to allocate). */
export const MAX_ELEMENTS = 1 << 24;

const sizeOf = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/** The header words of a call: input types (undefined = absent optional input), output frac, attributes. */
export function headerWords(def: AnyOpDef, inputs: readonly (TensorType | undefined)[], frac: number, attrs: Attrs): number[] {
  const words = [inputs.length];
  for (const t of inputs) {
    if (t === undefined) words.push(-1);
    else words.push(t.shape.length, ...t.shape, t.frac);
  }
  words.push(frac);
  for (const [name, spec] of Object.entries(def.attrs) as [string, AttrSpec][]) {
    const v = attrs[name];
    if (spec.type === "enum") words.push(spec.values!.indexOf(v as string));
    else if (Array.isArray(v)) words.push(v.length, ...v);
    else words.push(v as number);
  }
  return words;
}

/** int32 words as little-endian bytes. */
export function leBytes(words: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(4 * words.length);
  const view = new DataView(out.buffer);
  for (let i = 0; i < words.length; i++) view.setInt32(4 * i, words[i], true);
  return out;
}

/** The complete input of one precompile call for op `kind` on these tensors. */
export function encodeOpCall(kind: string, inputs: readonly (Tensor | undefined)[], frac: number, attrs: Partial<Attrs> = {}): Uint8Array {
  const def = opDef(kind);
  const header = headerWords(def, inputs.map((t) => t && { shape: [...t.shape], frac: t.frac }), frac, resolveAttrs(def, attrs));
  const parts = [leBytes(header), ...inputs.filter((t) => t !== undefined).map((t) => leBytes(t.data))];
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export interface DecodedCall {
  def: AnyOpDef;
  inputs: (Tensor | undefined)[];
  frac: number;
  attrs: Attrs;
  /** The output's type, from the op's shape inference. */
  output: TensorType;
}

/** Reads little-endian int32 words, throwing when the input runs out. */
class WordReader {
  private at = 0;
  constructor(private readonly view: DataView) {}
  next(): number {
    if (this.at + 4 > this.view.byteLength) throw new Error("the header runs past the input");
    const v = this.view.getInt32(this.at, true);
    this.at += 4;
    return v;
  }
  get offset(): number {
    return this.at;
  }
}

function readCount(reader: WordReader, what: string, max: number): number {
  const n = reader.next();
  if (n < 0 || n > max) throw new Error(`${what} ${n} is outside 0..${max}`);
  return n;
}

/** Decode and check one call's input for op `kind`; throws a plain message on anything malformed. */
export function decodeOpCall(kind: string, data: Uint8Array): DecodedCall {
  const def = opDef(kind);
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const reader = new WordReader(view);
  const count = readCount(reader, "input count", 16);
  const types: (TensorType | undefined)[] = [];
  for (let i = 0; i < count; i++) {
    const rank = reader.next();
    if (rank === -1) {
      types.push(undefined);
      continue;
    }
    if (rank < 0 || rank > MAX_RANK) throw new Error(`input ${i} has rank ${rank}, outside 0..${MAX_RANK}`);
    const shape = Array.from({ length: rank }, () => readCount(reader, `a dim of input ${i}`, MAX_ELEMENTS));
    if (sizeOf(shape) > MAX_ELEMENTS) throw new Error(`input ${i} has more than ${MAX_ELEMENTS} elements`);
    types.push({ shape, frac: readCount(reader, `the frac of input ${i}`, 30) });
  }
  const frac = readCount(reader, "the output frac", 30);
  const attrs: Attrs = {};
  for (const [name, spec] of Object.entries(def.attrs) as [string, AttrSpec][]) {
    if (spec.type === "enum") {
      const index = reader.next();
      if (index < 0 || index >= spec.values!.length) throw new Error(`attribute ${name}: enum index ${index} out of range`);
      attrs[name] = spec.values![index];
    } else if (spec.type === "ints" || spec.type === "fixeds") {
      attrs[name] = Array.from({ length: readCount(reader, `the length of attribute ${name}`, 64) }, () => reader.next());
    } else {
      attrs[name] = reader.next();
    }
  }
  const resolved = resolveAttrs(def, attrs);
  const dataBytes = types.reduce((s, t) => s + (t ? 4 * sizeOf(t.shape) : 0), 0);
  if (data.length !== reader.offset + dataBytes) throw new Error(`input of ${data.length} bytes, the header describes ${reader.offset + dataBytes}`);
  let at = reader.offset;
  const inputs = types.map((t) => {
    if (t === undefined) return undefined;
    const n = sizeOf(t.shape);
    const values = new Int32Array(n);
    for (let k = 0; k < n; k++) values[k] = view.getInt32(at + 4 * k, true);
    at += 4 * n;
    return new Tensor(t.shape, values, t.frac);
  });
  const outputs = def.infer(types as TensorType[], resolved, { frac });
  if (outputs.length !== 1) throw new Error(`${kind} has ${outputs.length} outputs; precompiles return one`);
  if (sizeOf(outputs[0].shape) > MAX_ELEMENTS) throw new Error(`the output has more than ${MAX_ELEMENTS} elements`);
  return { def, inputs, frac, attrs: resolved, output: outputs[0] };
}

/** Anything with a shape: a TensorType or a Tensor. */
type Shaped = { readonly shape: readonly number[] };

/**
 * Multiply-accumulates of one call, as the gas schedule counts them: a MAC op's products (taps
 * on input values and padding alike), a pool's window taps; 0 for the other ops.
 */
export function macCount(kind: string, inputs: readonly (Shaped | undefined)[], output: Shaped, attrs: Attrs): number {
  const out = sizeOf(output.shape);
  const [x, w] = inputs as Shaped[];
  switch (kind) {
    case "MatMul": return out * x.shape[x.shape.length - 1];
    case "Gemm": return out * (attrs.transA ? x.shape[0] : x.shape[x.shape.length - 1]);
    case "Conv": return out * sizeOf(w.shape.slice(1));
    case "ConvTranspose": return sizeOf(x.shape) * sizeOf(w.shape.slice(1));
    case "MaxPool": case "AveragePool": return out * sizeOf(attrs.kernel_shape as number[]);
    case "GlobalMaxPool": case "GlobalAveragePool": return sizeOf(x.shape);
    default: return 0;
  }
}
