/**
 * The multiply-accumulate core of lib/ops/accumulate.ts as WASM. Numerics exactly as the reference: i32 operands sign-extended, i64
 * products summed with wrapping i64 adds (the sum order is free: addition modulo 2^64 is
 * associative), times the integer scale mantissa, plus the bias term already aligned to the
 * accumulator frac, then ONE narrowing (round half up, the left shift wrapping) saturated to i32.
 * Bias terms of constant biases are computed at compile time, exactly as prepareMac does, into an
 * i64 table; biases that are activations get the same arithmetic inline. The MatMul and Gemm
 * emitters are in matmul.ts, the FAST build's SIMD variant of the core in simd.ts.
 * Narrow weights (docs/numerics.md): B may hold 8- or 16-bit q whose values are q << s_c for
 * output channel c; the core loads q sign-extended and shifts the channel's exact sum left by s_c,
 * which equals the sum of x * (q << s_c) modulo 2^64 (a shift is a multiplication by 2^s_c), so
 * the result is the reference's, wrapping included.
 */
import type { Ratio } from "../../lib/ops/accumulate.js";
import { roundShiftBig } from "../../lib/tensor/fixed.js";
import type { Expr, FunctionBuilder, Local } from "../binaryen.js";
import { walk } from "./loops.js";
import { applyActivation, narrowWrapping, roundShift64 } from "./numerics.js";
import type { EmitContext, FusedActivation, Operand } from "./types.js";

/** A weight operand stored narrow: q at `bytes` bytes each, and the left shift of each output channel's sum. */
export interface NarrowWeights {
  bytes: 1 | 2;
  /** Each output channel's shift (the SIMD kernels repack q per channel and build their own shift tables from these). */
  shifts: readonly number[];
  /** The shift of every channel when they are all equal; else undefined, and `table` holds one i64 shift per channel. */
  shift?: number;
  table?: number;
}

/** How to read weight operand `w` if the plan stored it narrow; `channelShifts[c]` is output channel c's shift. */
export function narrowWeights(ctx: EmitContext, w: Operand, channelShifts: readonly number[]): NarrowWeights | undefined {
  if (!w.storage) return undefined;
  const bytes = (w.storage.bits / 8) as 1 | 2;
  if (channelShifts.every((s) => s === channelShifts[0])) return { bytes, shifts: channelShifts, shift: channelShifts[0] ?? 0 };
  return { bytes, shifts: channelShifts, table: ctx.table(BigInt64Array.from(channelShifts, (s) => BigInt(s))) };
}

/** Bytes per stored weight element. */
export const weightBytes = (n: NarrowWeights | undefined): number => n?.bytes ?? 4;

/** A weight element at ptr + offset, sign-extended to i64 (q for narrow weights). */
export function loadWeight(f: FunctionBuilder, n: NarrowWeights | undefined, ptr: Expr, offset: number): Expr {
  return !n ? f.i64Load32S(ptr, offset) : n.bytes === 1 ? f.i64Load8S(ptr, offset) : f.i64Load16S(ptr, offset);
}

/** The exact sum of a channel shifted left by its shift (the table entry at byte pointer `ptr()`); unchanged for i32 weights. */
export function shiftChannel(f: FunctionBuilder, n: NarrowWeights | undefined, sum: Expr, ptr: () => Expr): Expr {
  if (!n || n.shift === 0) return sum;
  return f.i64Shl(sum, n.shift !== undefined ? f.i64Const(n.shift) : f.i64Load(ptr(), n.table!));
}

/** Where element (r, c) of a matrix lives: address + 4 * (r * rowStep + c * colStep) (B's element width when narrow). */
export interface MatrixPlace {
  address: number;
  rowStep: number;
  colStep: number;
}

/** The bias term of every output: either an i64 table of terms at the accumulator frac or i32 values to align inline. */
export interface BiasTerms {
  address: number;
  rowStep: number;
  colStep: number;
  /** Bytes per element: 8 for a table of terms, 4 for runtime i32 values. */
  width: 4 | 8;
  /** For runtime values: term = roundShift(value * multiplier, shift). */
  multiplier: number;
  shift: number;
}

/** An outer loop over independent blocks (batch or group), with element steps per operand. */
export interface BlockAxis {
  count: number;
  a: number;
  b: number;
  out: number;
  bias: number;
}

export interface MacSpec {
  rows: number;
  cols: number;
  depth: number;
  a: MatrixPlace;
  b: MatrixPlace;
  out: MatrixPlace;
  blocks: BlockAxis[];
  bias?: BiasTerms;
  scale: number;
  accFrac: number;
  outFrac: number;
  activation?: FusedActivation;
  /** B stored narrow; its channels are the output columns. */
  narrow?: NarrowWeights;
}

/**
 * The bias terms of prepareMac for a bias operand at the accumulator frac `accFrac`, times an
 * optional scale (Gemm beta): a compile-time i64 table when the values are known.
 */
export function biasTerms(ctx: EmitContext, bias: Operand, scale: Ratio, accFrac: number, rowStep: number, colStep: number): BiasTerms {
  const shift = bias.frac + scale.frac - accFrac;
  if (bias.values) {
    const multiplier = BigInt(scale.mantissa);
    const terms = BigInt64Array.from(bias.values, (v) => roundShiftBig(BigInt(v) * multiplier, shift));
    return { address: ctx.table(terms), rowStep, colStep, width: 8, multiplier: 1, shift: 0 };
  }
  return { address: bias.address, rowStep, colStep, width: 4, multiplier: scale.mantissa, shift };
}

/** The i64 bias term at byte pointer `ptr` of a BiasTerms. */
export function loadBiasTerm(f: FunctionBuilder, bias: BiasTerms, ptr: Expr): Expr {
  if (bias.width === 8) return f.i64Load(ptr, bias.address);
  const value = f.i64Load32S(ptr, bias.address);
  return roundShift64(f, bias.multiplier === 1 ? value : f.i64Mul(value, f.i64Const(bias.multiplier)), bias.shift);
}

/** scale * sum + bias term, narrowed once to the output frac, with the fused activation: an i32. */
export function finishAccumulator(f: FunctionBuilder, sum: Expr, spec: Pick<MacSpec, "scale" | "accFrac" | "outFrac" | "activation">, biasTerm?: Expr): Expr {
  let acc = spec.scale === 1 ? sum : f.i64Mul(sum, f.i64Const(spec.scale));
  if (biasTerm !== undefined) acc = f.i64Add(acc, biasTerm);
  return applyActivation(f, narrowWrapping(f, acc, spec.accFrac, spec.outFrac), spec.activation);
}

/** Emit out = narrow(scale * a.b + bias) for every block, row and column. */
export function emitMac(f: FunctionBuilder, spec: MacSpec): Expr[] {
  const { a, b, out, bias, narrow } = spec;
  const bBytes = weightBytes(narrow);
  const shiftTable = narrow?.table !== undefined;
  const dims = [...spec.blocks.map((k) => k.count), spec.rows, spec.cols];
  const strides = [
    [...spec.blocks.map((k) => k.a * 4), a.rowStep * 4, 0],
    [...spec.blocks.map((k) => k.b * bBytes), 0, b.colStep * bBytes],
    [...spec.blocks.map((k) => k.out * 4), out.rowStep * 4, out.colStep * 4],
    ...(bias ? [[...spec.blocks.map((k) => k.bias * bias.width), bias.rowStep * bias.width, bias.colStep * bias.width]] : []),
    ...(shiftTable ? [[...spec.blocks.map(() => 0), 0, 8]] : []),
  ];
  const ia = f.local("i32");
  const ib = f.local("i32");
  const sum = f.local("i64");
  return walk(f, dims, strides, ([pa, pb, po, ...rest]) => {
    const [pbias, pshift] = bias ? rest : [undefined, rest[0]];
    const total = shiftChannel(f, narrow, f.get(sum), () => f.get(pshift!));
    return [
      f.set(ia, f.get(pa)),
      f.set(ib, f.get(pb)),
      f.set(sum, f.i64Const(0)),
      dotProduct(f, sum, ia, a, ib, b, spec.depth, narrow),
      f.i32Store(f.get(po), finishAccumulator(f, total, spec, bias && loadBiasTerm(f, bias, f.get(pbias!))), out.address),
    ];
  });
}

/** sum += a[ia] * b[ib] over `depth` steps (ia advancing by a.colStep, ib by b.rowStep; b's q when narrow). */
function dotProduct(f: FunctionBuilder, sum: Local, ia: Local, a: MatrixPlace, ib: Local, b: MatrixPlace, depth: number, narrow?: NarrowWeights): Expr {
  return f.loop(depth, () => [
    f.set(sum, f.i64Add(f.get(sum), f.i64Mul(f.i64Load32S(f.get(ia), a.address), loadWeight(f, narrow, f.get(ib), b.address)))),
  ], [[ia, a.colStep * 4], [ib, b.rowStep * weightBytes(narrow)]]);
}
