/**
 * The ONNX quantization ops onto detml's exact integer ops (lib/ops/quantize.ts): QuantizeLinear
 * and DequantizeLinear (per tensor or per axis, 8/16-bit integers with zero points),
 * QLinearMatMul and QLinearConv (zero points subtracted, the exact integer MatMul/Conv at frac 0,
 * then one requantization), and MatMulInteger / ConvInteger (the exact int32 sums).
 * Scales must be constants: each real multiplier (1/scale for QuantizeLinear, the scale for
 * DequantizeLinear, a_scale * b_scale / y_scale for the QLinear ops) is folded here, exactly in
 * BigInt, into an integer multiplier per channel and one power-of-two shift shared by the
 * channels, the multiplier rounded to nearest at 31 bits (exact when the real multiplier has
 * that few significant bits: every float32 scale for DequantizeLinear, power-of-two scales for
 * the rest). Quantize/Dequantize of a constant (QDQ weights) is evaluated here in float32, as
 * ONNX Runtime does, so a QDQ model's Conv gets the dequantized weights as plain float weights.
 * DynamicQuantizeLinear, whose scale comes from the data at run time, is its own op
 * (lib/ops/dynamic-quantize.ts: float32's roundings reproduced in integers).
 */
import { normAxis, sizeOf } from "../../lib/tensor/shape.js";
import { I32_MAX, I32_MIN } from "../../lib/tensor/fixed.js";
import { constValue, type ConstValue } from "../common/values.js";
import type { NodeCtx } from "./context.js";
import type { Handler } from "./handlers.js";
import { integerTypeRange } from "./proto.js";

/** The ONNX element types a quantized tensor can have (TensorProto.DataType): uint8, int8, uint16, int16, int32, uint4, int4. */
const QUANTIZED_TYPES: ReadonlySet<number> = new Set([2, 3, 4, 5, 6, 21, 22]);
const UINT8 = 2;
const INT8 = 3;

/** Largest multiplier magnitude: x * multiplier stays within 2^62 for any i32 x. */
const MULTIPLIER_LIMIT = 2 ** 31;
/** Smallest multiplier of a channel: 15 significant bits (relative error below 2^-15). */
const MIN_MULTIPLIER = 2 ** 14;

/** A positive real as an exact fraction num / den * 2^exp (den = 1 for a float). */
interface Rational {
  num: bigint;
  den: bigint;
  exp: number;
}

/** A finite positive float exactly as mantissa * 2^exp with an odd (or unit) integer mantissa. */
function exactFloat(v: number, what: string): Rational {
  if (!(v > 0) || !Number.isFinite(v)) throw new Error(`${what} must be positive and finite, got ${v}`);
  // Far enough below the leading bit that v / 2^exp is an integer whatever log2's rounding.
  let exp = Math.floor(Math.log2(v)) - 60;
  let mantissa = v / 2 ** exp;
  while (mantissa % 2 === 0) {
    mantissa /= 2;
    exp++;
  }
  return { num: BigInt(mantissa), den: 1n, exp };
}

const times = (a: Rational, b: Rational): Rational => ({ num: a.num * b.num, den: a.den * b.den, exp: a.exp + b.exp });
const inverse = (a: Rational): Rational => ({ num: a.den, den: a.num, exp: -a.exp });

/** round(r * 2^shift) to nearest (ties up), exactly; and whether that rounding lost nothing. */
function scaled(r: Rational, shift: number): { value: number; exact: boolean } {
  const k = r.exp + shift;
  const num = k >= 0 ? r.num << BigInt(k) : r.num;
  const den = k >= 0 ? r.den : r.den << BigInt(-k);
  return { value: Number((2n * num + den) / (2n * den)), exact: num % den === 0n };
}

/**
 * Integer multipliers M_c and one shift S with M_c / 2^S = r_c: S is the largest shift that keeps
 * every |M_c| below 2^31, so the largest channel keeps 31 significant bits.
 */
export function foldMultipliers(reals: Rational[]): { multipliers: number[]; shift: number; exact: boolean } {
  const largest = Math.max(...reals.map((r) => Number(r.num) / Number(r.den) * 2 ** r.exp));
  // The float estimate may be one off: start above it and step down to the largest shift that fits.
  let shift = Math.floor(Math.log2(MULTIPLIER_LIMIT / largest)) + 1;
  while (reals.some((r) => scaled(r, shift).value >= MULTIPLIER_LIMIT)) shift--;
  const parts = reals.map((r) => scaled(r, shift));
  if (parts.some((p) => p.value < MIN_MULTIPLIER)) {
    throw new Error("per-channel scales that differ by a factor above 2^16 are not supported (one shift serves every channel, and the smallest would keep fewer than 15 significant bits)");
  }
  return { multipliers: parts.map((p) => p.value), shift, exact: parts.every((p) => p.exact) };
}

/** QuantizeLinear's multipliers: 1/scale per channel (float32 scales). */
export function quantizeMultipliers(scales: ArrayLike<number>, what = "y_scale"): ReturnType<typeof foldMultipliers> {
  return foldMultipliers(Array.from(scales, (s) => inverse(exactFloat(Math.fround(s), what))));
}

/** DequantizeLinear's multipliers: the scale per channel (float32 scales). */
export function dequantizeMultipliers(scales: ArrayLike<number>, what = "x_scale"): ReturnType<typeof foldMultipliers> {
  return foldMultipliers(Array.from(scales, (s) => exactFloat(Math.fround(s), what)));
}

/**
 * The range of the integer type of the zero point at input `zpInput` (uint8 when absent, as
 * ONNX says). Without type information a zero point that is negative means int8, above 127
 * uint8, and all-zero means int8 for constant data (symmetric weights) and uint8 otherwise.
 */
function integerRange(n: NodeCtx, zpInput: number, constantData: boolean): [number, number] {
  if (!n.hasInput(zpInput)) {
    const given = n.int("output_dtype", 0);
    return given ? rangeOf(given) : rangeOf(UINT8);
  }
  const known = n.elemType(zpInput);
  if (known !== undefined) return rangeOf(known);
  const zp = n.requireConst(zpInput, "zero point");
  if (zp.data.some((v) => v < 0)) return rangeOf(INT8);
  if (zp.data.some((v) => v > 127)) return rangeOf(UINT8);
  return rangeOf(zp.data.every((v) => v === 0) && constantData ? INT8 : UINT8);
}

function rangeOf(dataType: number): [number, number] {
  const range = QUANTIZED_TYPES.has(dataType) ? integerTypeRange(dataType) : undefined;
  if (!range) throw new Error(`quantized type ${dataType} is not supported (uint8, int8, uint16, int16, int32, uint4 and int4 are)`);
  return range;
}

/** A scale input: a constant of positive floats (one, or one per channel). */
function scaleOf(n: NodeCtx, i: number, what: string): ConstValue {
  const v = n.constant(i);
  if (!v) throw new Error(`input ${i} (${what}) must be a constant: detml folds quantization scales into integer multipliers at conversion time`);
  return v;
}

/** The zero point at input i as a constant (zeros of the scale's shape when absent). */
function zeroPointOf(n: NodeCtx, i: number, like: ConstValue, what: string): ConstValue {
  if (!n.hasInput(i)) return constValue("int", like.shape, new Float64Array(like.data.length));
  const v = n.constant(i);
  if (!v) throw new Error(`input ${i} (${what}) must be a constant: detml folds zero points at conversion time`);
  return v;
}

/**
 * Where per-axis parameters (a 1-D tensor of the axis' length) apply: the channel of flat
 * element i of a tensor of `shape`, and the broadcast shape [C, 1, ...] of a parameter tensor.
 */
function perAxis(shape: number[], param: ConstValue, axis: number, what: string): { channelOf: (i: number) => number; paramShape: number[] } {
  if (param.data.length === 1 && param.shape.length <= 1) return { channelOf: () => 0, paramShape: [] };
  const a = normAxis(axis, shape.length);
  if (param.shape.length !== 1 || param.shape[0] !== shape[a]) {
    throw new Error(`${what} of shape [${param.shape.join(",")}] is neither one value nor one per element of axis ${a} (size ${shape[a]})`);
  }
  const inner = sizeOf(shape.slice(a + 1));
  return { channelOf: (i) => Math.floor(i / inner) % shape[a], paramShape: [shape[a], ...new Array<number>(shape.length - a - 1).fill(1)] };
}

/**
 * Reject attributes the handler does not read (these handlers do not copy attributes through an
 * IR schema, so an unknown one would otherwise be ignored silently).
 */
export function onlyAttributes(n: NodeCtx, known: readonly string[]): void {
  const unknown = n.attrNames().filter((a) => !known.includes(a));
  if (unknown.length) throw new Error(`attribute '${unknown[0]}' is not supported (${n.opType} here reads ${known.join(", ") || "no attributes"})`);
}

/** ONNX's rounding of QuantizeLinear: to nearest, ties to even. */
function roundHalfEven(v: number): number {
  const floor = Math.floor(v);
  const d = v - floor;
  return d > 0.5 || (d === 0.5 && floor % 2 !== 0) ? floor + 1 : floor;
}

/** An int constant holding `values` in `shape`. */
const ints = (shape: number[], values: ArrayLike<number>): ConstValue => constValue("int", shape, values);

export const quantizeLinear: Handler = (n) => {
  // `saturate` only concerns float8 outputs, which detml has no type for (their zero point is refused).
  onlyAttributes(n, ["axis", "block_size", "output_dtype", "saturate"]);
  if (n.int("block_size", 0) !== 0) throw new Error("blocked quantization (block_size) is not supported");
  const scale = scaleOf(n, 1, "y_scale");
  const zp = zeroPointOf(n, 2, scale, "y_zero_point");
  const x = n.constant(0);
  const [low, high] = integerRange(n, 2, x !== undefined);
  const shape = n.shape(0);
  const { channelOf, paramShape } = perAxis(shape, scale, n.int("axis", 1), "y_scale");
  if (x) {
    const out = x.data.map((v, i) => {
      const c = channelOf(i);
      const q = roundHalfEven(Math.fround(v / scale.data[c])) + zp.data[c];
      return Math.min(high, Math.max(low, q));
    });
    return n.setConst(0, ints(shape, out));
  }
  const { multipliers, shift } = quantizeMultipliers(scale.data);
  const m = n.addConst("multiplier", ints(paramShape, multipliers));
  const z = n.addConst("zero_point", ints(paramShape, zp.data));
  n.finish("QuantizeLinear", [n.input(0), m, z], { shift, low, high }, "int");
};

/**
 * An integer-valued run-time tensor at frac 0, as DequantizeLinear takes it: ops that write at
 * the graph frac (Concat, AveragePool of quantized data...) leave integers at frac 16, and a
 * QuantizeLinear with multiplier 1 and shift 0 brings them back exactly (no range limit).
 */
function atFracZero(n: NodeCtx, i: number): string {
  if (n.frac(i) === 0) return n.input(i);
  const one = n.addConst("one", ints([], [1]));
  const zero = n.addConst("zero", ints([], [0]));
  return n.emit("QuantizeLinear", [n.input(i), one, zero], { shift: 0, low: I32_MIN, high: I32_MAX }, "int")[0];
}

export const dequantizeLinear: Handler = (n) => {
  onlyAttributes(n, ["axis", "block_size"]);
  if (n.int("block_size", 0) !== 0) throw new Error("blocked quantization (block_size) is not supported");
  const scale = scaleOf(n, 1, "x_scale");
  const zp = zeroPointOf(n, 2, scale, "x_zero_point");
  const shape = n.shape(0);
  const { channelOf, paramShape } = perAxis(shape, scale, n.int("axis", 1), "x_scale");
  const x = n.constant(0);
  if (x) {
    const out = x.data.map((v, i) => Math.fround((v - zp.data[channelOf(i)]) * Math.fround(scale.data[channelOf(i)])));
    return n.setConst(0, constValue("float", shape, out));
  }
  const { multipliers, shift } = dequantizeMultipliers(scale.data);
  const m = n.addConst("multiplier", ints(paramShape, multipliers));
  const z = n.addConst("zero_point", ints(paramShape, zp.data));
  n.finish("DequantizeLinear", [atFracZero(n, 0), m, z], { shift }, "float");
};

/**
 * Input `i` minus its zero point (input `zpInput`, absent or constant), broadcast along `axis`
 * when it holds one value per element of that axis. A constant input is folded; a run-time one
 * gets a Sub (exact: the integers stay far below the Q16 range), or nothing for a zero zero point.
 */
function centered(n: NodeCtx, i: number, zpInput: number, axis: number, what: string): string {
  if (!n.hasInput(zpInput)) return n.input(i);
  const zp = n.constant(zpInput);
  if (!zp) throw new Error(`input ${zpInput} (${what}) must be a constant: detml folds zero points at conversion time`);
  if (zp.data.every((v) => v === 0)) return n.input(i);
  const shape = n.shape(i);
  const { channelOf, paramShape } = perAxis(shape, zp, axis, what);
  const x = n.constant(i);
  if (x) return n.addConst("centered", ints(shape, x.data.map((v, k) => v - zp.data[channelOf(k)])));
  return n.emit("Sub", [n.input(i), n.addConst("zero_point", ints(paramShape, zp.data))], {}, "int")[0];
}

/**
 * The requantization of an integer accumulator: QuantizeLinear with the real multiplier
 * scaleA * scaleB / scaleY, per output channel (`channelAxis` of `outShape`) when scaleB is.
 */
function requantize(n: NodeCtx, acc: string, scaleA: number, scaleB: number, scaleY: number, zpY: number,
  outShape: number[], channelAxis: number): void {
  const sa = scaleOf(n, scaleA, "the input scale");
  const sb = scaleOf(n, scaleB, "the weight scale");
  const sy = scaleOf(n, scaleY, "y_scale");
  if (sa.data.length !== 1 || sy.data.length !== 1) throw new Error("per-channel input or output scales are not supported (only the weight scale may be per channel)");
  const zp = zeroPointOf(n, zpY, sy, "y_zero_point");
  const [low, high] = integerRange(n, zpY, false);
  const ratio = (s: number) => times(times(exactFloat(Math.fround(sa.data[0]), "input scale"), exactFloat(Math.fround(s), "weight scale")),
    inverse(exactFloat(Math.fround(sy.data[0]), "y_scale")));
  const { multipliers, shift } = foldMultipliers(Array.from(sb.data, ratio));
  const { paramShape } = perAxis(outShape, sb, channelAxis, "the weight scale");
  const m = n.addConst("multiplier", ints(paramShape, multipliers));
  const z = n.addConst("zero_point", ints([], zp.data));
  n.finish("QuantizeLinear", [acc, m, z], { shift, low, high }, "int");
}

/** QLinearMatMul(a, a_scale, a_zp, b, b_scale, b_zp, y_scale, y_zp). */
export const qlinearMatMul: Handler = (n) => {
  onlyAttributes(n, []);
  const a = centered(n, 0, 2, 0, "a_zero_point");
  const b = centered(n, 3, 5, -1, "b_zero_point");
  const [acc] = n.emit("MatMulInteger", [a, b], {}, "int");
  requantize(n, acc, 1, 4, 6, 7, n.shape(3), -1);
};

/** QLinearConv(x, x_scale, x_zp, w, w_scale, w_zp, y_scale, y_zp, B?): the bias is int32 at scale x_scale * w_scale. */
export const qlinearConv: Handler = (n) => {
  const x = centered(n, 0, 2, 0, "x_zero_point");
  const w = centered(n, 3, 5, 0, "w_zero_point");
  const [acc] = n.emit("ConvInteger", n.hasInput(8) ? [x, w, n.input(8)] : [x, w], n.irAttrs("ConvInteger"), "int");
  requantize(n, acc, 1, 4, 6, 7, [1, n.shape(3)[0], ...new Array<number>(n.rank(3) - 2).fill(1)], 1);
};

/** MatMulInteger(A, B, a_zp?, b_zp?): a_zp is one value or one per row, b_zp one or one per column. */
export const matMulInteger: Handler = (n) => {
  onlyAttributes(n, []);
  const a = centered(n, 0, 2, Math.max(0, n.rank(0) - 2), "a_zero_point");
  const b = centered(n, 1, 3, -1, "b_zero_point");
  n.finish("MatMulInteger", [a, b], {}, "int");
};

/** ConvInteger(x, w, x_zp?, w_zp?): Conv's padding is then zero in x - x_zp, as ONNX defines it. */
export const convInteger: Handler = (n) => {
  const x = centered(n, 0, 2, 0, "x_zero_point");
  const w = centered(n, 1, 3, 0, "w_zero_point");
  n.finish("ConvInteger", [x, w], n.irAttrs("ConvInteger"), "int");
};

/** DynamicQuantizeLinear: its own op (lib/ops/dynamic-quantize.ts), the scale computed at run time. */
export const dynamicQuantizeLinear: Handler = (n) => {
  onlyAttributes(n, []);
  if (n.dtype(0) !== "float") throw new Error(`input x is a ${n.dtype(0)} tensor: DynamicQuantizeLinear quantizes a float tensor`);
  n.finish("DynamicQuantizeLinear", [n.input(0)], {}, ["int", "float", "int"]);
};
