/**
 * MatMul with numpy semantics: the last two axes multiply ([..., M, K] x [..., K, N]), the
 * leading (batch) axes broadcast, a 1-D first operand is a row [1, K] and a 1-D second operand a
 * column [K, 1] whose added axis is dropped from the result. Every output is one exact dot
 * product narrowed once to ctx.frac (see accumulate.ts).
 */
import { broadcastIndex, broadcastShapes, sizeOf } from "../tensor/shape.js";
import { Tensor } from "../tensor/tensor.js";
import { maxAbs, multiplyAccumulate, prepareMac } from "./accumulate.js";
import { check, defineOp } from "./op.js";

/** Operand shapes as matrices with batch axes: the 1-D cases promoted, and what to drop again. */
interface MatMulLayout {
  aBatch: number[];
  bBatch: number[];
  batch: number[];
  m: number;
  k: number;
  n: number;
  outShape: number[];
}

function layout(aShape: readonly number[], bShape: readonly number[]): MatMulLayout {
  check(aShape.length >= 1, "input A is a scalar, MatMul needs rank >= 1");
  check(bShape.length >= 1, "input B is a scalar, MatMul needs rank >= 1");
  const a = aShape.length === 1 ? [1, aShape[0]] : [...aShape];
  const b = bShape.length === 1 ? [bShape[0], 1] : [...bShape];
  const [m, k] = a.slice(-2);
  const [kb, n] = b.slice(-2);
  check(k === kb, `inner dimensions differ: A [${aShape.join(",")}] has ${k} columns, B [${bShape.join(",")}] has ${kb} rows`);
  const aBatch = a.slice(0, -2);
  const bBatch = b.slice(0, -2);
  let batch: number[];
  try {
    batch = broadcastShapes(aBatch, bBatch);
  } catch {
    throw new Error(`batch dimensions [${aBatch.join(",")}] of A and [${bBatch.join(",")}] of B do not broadcast`);
  }
  const outShape = [...batch, ...(aShape.length === 1 ? [] : [m]), ...(bShape.length === 1 ? [] : [n])];
  return { aBatch, bBatch, batch, m, k, n, outShape };
}

export function matmul(a: Tensor, b: Tensor, frac = a.frac): Tensor {
  const { aBatch, bBatch, batch, m, k, n, outShape } = layout(a.shape, b.shape);
  const plan = prepareMac("MatMul", { maxA: maxAbs(a.data), maxB: maxAbs(b.data), depth: k, productFrac: a.frac + b.frac, outFrac: frac });
  const aOf = broadcastIndex(aBatch, batch);
  const bOf = broadcastIndex(bBatch, batch);
  const out = new Int32Array(sizeOf(outShape));
  for (let i = 0; i < sizeOf(batch); i++) {
    multiplyAccumulate(plan, {
      rows: m,
      cols: n,
      depth: k,
      a: { data: a.data, start: aOf[i] * m * k, rowStep: k, colStep: 1 },
      b: { data: b.data, start: bOf[i] * k * n, rowStep: n, colStep: 1 },
      out: { data: out, start: i * m * n, rowStep: n, colStep: 1 },
    });
  }
  return new Tensor(outShape, out, frac);
}

export const MatMul = defineOp({
  kind: "MatMul",
  summary: "numpy matmul: batched [..,M,K] x [..,K,N], broadcast batch axes, 1-D operands promoted",
  inputs: ["A", "B"],
  attrs: {},
  outputs: () => 1,
  infer: ([a, b], _attrs, ctx) => [{ shape: layout(a.shape, b.shape).outShape, frac: ctx.frac }],
  run: ([a, b], _attrs, ctx) => [matmul(a, b, ctx.frac)],
});
