/**
 * Gemm: Y = alpha * op(A) * op(B) + beta * C, with op() an optional transpose (transA, transB)
 * and the optional C broadcast one way to [M, N]. alpha and beta are `fixed` attributes taken in
 * lowest terms (mantissa / 2^e, see accumulate.ts), so they fold into the one final rounding
 * exactly: the accumulator holds alpha_m * (A . B) at frac fa + fb + e_alpha, beta_m * C is
 * aligned to that same frac, and their i64 sum narrows once to ctx.frac. With the default
 * alpha = beta = 1.0 this is the plain exact dot product plus bias of MatMul and Conv.
 */
import { broadcastStrides } from "../tensor/shape.js";
import { Tensor } from "../tensor/tensor.js";
import { checkAccumulatorFrac, type OperandType, lowestTerms, maxAbs, multiplyAccumulate, prepareMac } from "./accumulate.js";
import { ATTR_FRAC, check, defineOp, resolveAttrs } from "./op.js";

export type GemmAttrs = { alpha: number; beta: number; transA: number; transB: number };

/** Validate shapes and attributes; returns M, K, N. */
function gemmDims(a: OperandType, b: OperandType, c: OperandType | undefined, attrs: GemmAttrs): [number, number, number] {
  check(a.shape.length === 2, `input A has rank ${a.shape.length}, Gemm needs rank 2`);
  check(b.shape.length === 2, `input B has rank ${b.shape.length}, Gemm needs rank 2`);
  check(attrs.transA === 0 || attrs.transA === 1, `Gemm attribute 'transA' must be 0 or 1, got ${attrs.transA}`);
  check(attrs.transB === 0 || attrs.transB === 1, `Gemm attribute 'transB' must be 0 or 1, got ${attrs.transB}`);
  const [m, k] = attrs.transA ? [a.shape[1], a.shape[0]] : a.shape;
  const [kb, n] = attrs.transB ? [b.shape[1], b.shape[0]] : b.shape;
  check(k === kb, `inner dimensions differ: op(A) is [${m},${k}], op(B) is [${kb},${n}]`);
  if (c) {
    const cs = c.shape;
    const fits = cs.length <= 2 && cs.every((d, i) => d === 1 || d === [m, n][2 - cs.length + i]);
    check(fits, `input C [${cs.join(",")}] does not broadcast to the output [${m},${n}]`);
  }
  checkAccumulatorFrac("Gemm", a.frac + b.frac + lowestTerms(attrs.alpha, ATTR_FRAC).frac);
  return [m, k, n];
}

export function gemm(a: Tensor, b: Tensor, c?: Tensor, attrs: Partial<GemmAttrs> = {}, frac = a.frac): Tensor {
  const at = resolveAttrs(Gemm, attrs);
  const [m, k, n] = gemmDims(a, b, c, at);
  const plan = prepareMac("Gemm", {
    maxA: maxAbs(a.data),
    maxB: maxAbs(b.data),
    depth: k,
    productFrac: a.frac + b.frac,
    scale: lowestTerms(at.alpha, ATTR_FRAC),
    bias: c && { data: c.data, frac: c.frac, scale: lowestTerms(at.beta, ATTR_FRAC) },
    outFrac: frac,
  });
  const out = new Int32Array(m * n);
  const [biasRowStep, biasColStep] = c ? broadcastStrides(c.shape, [m, n]) : [0, 0];
  multiplyAccumulate(plan, {
    rows: m,
    cols: n,
    depth: k,
    // op(A)[i][t] is A[t][i] when transposed; op(B)[t][j] is B[j][t].
    a: { data: a.data, start: 0, rowStep: at.transA ? 1 : k, colStep: at.transA ? m : 1 },
    b: { data: b.data, start: 0, rowStep: at.transB ? 1 : n, colStep: at.transB ? k : 1 },
    out: { data: out, start: 0, rowStep: n, colStep: 1 },
    bias: c && { start: 0, rowStep: biasRowStep, colStep: biasColStep },
  });
  return new Tensor([m, n], out, frac);
}

export const Gemm = defineOp<GemmAttrs>({
  kind: "Gemm",
  summary: "alpha * op(A) * op(B) + beta * C with optional transposes, one final rounding",
  inputs: ["A", "B", "C?"],
  attrs: {
    alpha: { type: "fixed", default: 1 << ATTR_FRAC, doc: "scale of the product" },
    beta: { type: "fixed", default: 1 << ATTR_FRAC, doc: "scale of C" },
    transA: { type: "int", default: 0, doc: "1: A is given as [K, M]" },
    transB: { type: "int", default: 0, doc: "1: B is given as [N, K]" },
  },
  outputs: () => 1,
  infer: ([a, b, c], attrs, ctx) => {
    const [m, , n] = gemmDims(a, b, c, attrs);
    return [{ shape: [m, n], frac: ctx.frac }];
  },
  run: ([a, b, c], attrs, ctx) => [gemm(a, b, c, attrs, ctx.frac)],
});
