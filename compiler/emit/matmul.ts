/**
 * MatMul and Gemm: their operand layouts (numpy batch broadcasting, 1-D promotion, transposes,
 * the broadcast bias C, alpha/beta in lowest terms) mapped onto the multiply-accumulate core of
 * mac.ts, or in the FAST build onto its SIMD variant when the right operand is a constant. A
 * narrow B (weightChannelAxis: its channels are the output columns) is read as q with each
 * column's shift (mac.ts); the SIMD variant repacks B's q at the same width (simd.ts).
 */
import { lowestTerms } from "../../lib/ops/accumulate.js";
import type { GemmAttrs } from "../../lib/ops/gemm.js";
import { ATTR_FRAC } from "../../lib/ops/op.js";
import { broadcastShapes, broadcastStrides, stridesOf } from "../../lib/tensor/shape.js";
import type { Expr } from "../binaryen.js";
import { type BlockAxis, biasTerms, emitMac, type MacSpec, narrowWeights } from "./mac.js";
import { emitDotMac } from "./dot16.js";
import { emitMacSimd } from "./simd.js";
import type { EmitContext, Operand, OpEmitter } from "./types.js";

/**
 * The canonical core, or in the FAST build, when B is known and shared by every block, the
 * 16-bit dot kernel for 8-bit q (dot16.ts, with the SIMD core as its fallback) or the SIMD core.
 */
function emitMacFor(ctx: EmitContext, spec: MacSpec, b: Operand): Expr[] {
  const bValues = b.values;
  if (ctx.fast && bValues && spec.blocks.every((k) => k.b === 0)) {
    const simd = () => emitMacSimd(ctx, spec, bValues);
    return emitDotMac(ctx, spec, bValues, simd) ?? simd();
  }
  return emitMac(ctx.f, spec);
}

/** Block axes for broadcast batch dimensions: element steps of A, B and the output per batch axis. */
function batchAxes(aBatch: number[], bBatch: number[], batch: number[], aMatrix: number, bMatrix: number, outMatrix: number): BlockAxis[] {
  const aSteps = broadcastStrides(aBatch, batch);
  const bSteps = broadcastStrides(bBatch, batch);
  const outSteps = stridesOf(batch);
  return batch.map((count, i) => ({ count, a: aSteps[i] * aMatrix, b: bSteps[i] * bMatrix, out: outSteps[i] * outMatrix, bias: 0 }));
}

export const MatMulEmitter: OpEmitter = {
  fusesActivation: true,
  emit: (ctx) => {
    const [A, B] = ctx.inputs as Operand[];
    const out = ctx.outputs[0];
    const a = A.shape.length === 1 ? [1, A.shape[0]] : A.shape;
    const b = B.shape.length === 1 ? [B.shape[0], 1] : B.shape;
    const [m, k] = a.slice(-2);
    const n = b[b.length - 1];
    const aBatch = a.slice(0, -2);
    const bBatch = b.slice(0, -2);
    const batch = broadcastShapes(aBatch, bBatch);
    return emitMacFor(ctx, {
      rows: m,
      cols: n,
      depth: k,
      a: { address: A.address, rowStep: k, colStep: 1 },
      b: { address: B.address, rowStep: n, colStep: 1 },
      out: { address: out.address, rowStep: n, colStep: 1 },
      blocks: batchAxes(aBatch, bBatch, batch, m * k, k * n, m * n),
      scale: 1,
      accFrac: A.frac + B.frac,
      outFrac: out.frac,
      activation: ctx.activation,
      narrow: narrowWeights(ctx, B, B.storage?.shifts ?? []),
    }, B);
  },
};

export const GemmEmitter: OpEmitter<GemmAttrs> = {
  fusesActivation: true,
  emit: (ctx) => {
    const [A, B, C] = ctx.inputs;
    const out = ctx.outputs[0];
    const at = ctx.attrs;
    const [m, n] = out.shape;
    const k = at.transA ? A!.shape[0] : A!.shape[1];
    const scale = lowestTerms(at.alpha, ATTR_FRAC);
    const accFrac = A!.frac + B!.frac + scale.frac;
    const [biasRow, biasCol] = C ? broadcastStrides(C.shape, [m, n]) : [0, 0];
    return emitMacFor(ctx, {
      rows: m,
      cols: n,
      depth: k,
      a: { address: A!.address, rowStep: at.transA ? 1 : k, colStep: at.transA ? m : 1 },
      b: { address: B!.address, rowStep: at.transB ? 1 : n, colStep: at.transB ? k : 1 },
      out: { address: out.address, rowStep: n, colStep: 1 },
      blocks: [],
      bias: C && biasTerms(ctx, C, lowestTerms(at.beta, ATTR_FRAC), accFrac, biasRow, biasCol),
      scale: scale.mantissa,
      accFrac,
      outFrac: out.frac,
      activation: ctx.activation,
      narrow: narrowWeights(ctx, B!, B!.storage?.shifts ?? []),
    }, B!);
  },
};
