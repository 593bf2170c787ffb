/**
 * Gemm, MatMul, Conv and ConvTranspose as MacJobs (mac.ts). The geometry is the reference's:
 * Conv windows from `resolveWindows`, ConvTranspose as the correlation `convTransposeGeometry`
 * describes (a stride-spaced input, flipped kernel), bias terms and the accumulator frac from
 * `prepareMac`. Per spatial axis the output positions are split into phases (o mod inputStep:
 * a ConvTranspose's taps that land on input values depend on it) and then either
 *  - exact segments: runs of positions whose taps all fall on input values, each with only
 *    those taps (no padding, no product with a zero), or
 *  - one padded sweep: the input is first copied into a zero-padded buffer so every position
 *    has the same taps (fewer, longer code blocks when padding would split many segments).
 * Exact segments win unless they unroll more than twice the padded sweep's taps (code size is
 * the scarce resource: 24,576 bytes).
 */
import { prepareMac, lowestTerms } from "../../lib/ops/accumulate.js";
import { ATTR_FRAC } from "../../lib/ops/op.js";
import type { AxisWindow } from "../../lib/ops/window.js";
import { liftTo2d } from "../../lib/ops/window.js";
import { broadcastStrides } from "../../lib/tensor/shape.js";
import type { Tensor } from "../../lib/tensor/tensor.js";
import type { MacGroup, MacJob, MacTap } from "./mac.js";
import type { Buffer, Program } from "./program.js";
import { bufferAt } from "./program.js";

/** Per-channel bias terms of a MAC op at the accumulator frac, and that frac (via prepareMac). */
function macArithmetic(op: string, productFrac: number, outFrac: number, bias: Tensor | undefined, biasIndex: (m: number) => number,
  channels: number, alpha?: number, beta?: number) {
  const plan = prepareMac(op, {
    maxA: 2 ** 31, maxB: 2 ** 31, depth: 1, productFrac, outFrac,
    scale: alpha === undefined ? undefined : lowestTerms(alpha, ATTR_FRAC),
    bias: bias && { data: Int32Array.from({ length: channels }, (_, m) => bias.data[biasIndex(m)]), frac: bias.frac,
      scale: beta === undefined ? undefined : lowestTerms(beta, ATTR_FRAC) },
  });
  const terms = plan.biasBigInts ? [...plan.biasBigInts] : plan.biasNumbers ? [...plan.biasNumbers].map(BigInt) : null;
  return { accFrac: plan.accFrac, scale: plan.scale, biasTerms: terms };
}

/**
 * out[i][j] = sum_t left[i][t] * right[t][j] with one side constant. `leftAt(i, t)` and
 * `rightAt(t, j)` are element indexes in their tensors; the constant side gives the channels.
 */
export interface MatrixProduct {
  m: number;
  k: number;
  n: number;
  leftAt(i: number, t: number): number;
  rightAt(t: number, j: number): number;
}

export function matrixJob(op: string, prod: MatrixProduct, left: Buffer | Tensor, right: Buffer | Tensor, output: Buffer,
  outFrac: number, bias?: Tensor, alpha?: number, beta?: number): MacJob {
  const { m, k, n } = prod;
  const leftConst = "data" in left;
  const rightConst = "data" in right;
  if (leftConst === rightConst) throw new Error(leftConst ? "both operands are constants (fold them first)" : "both operands are computed tensors; the EVM target needs one constant operand");
  const productFrac = left.frac + right.frac;
  if (rightConst) {
    // Channels are the columns j; positions are the rows i of the computed left operand.
    const w = right as Tensor;
    if (bias && m > 1 && !broadcastStrides(bias.shape, [m, n]).every((s, d) => d === 1 || s === 0)) {
      throw new Error(`bias C [${bias.shape.join(",")}] varies along the rows, the EVM target needs one bias per output column`);
    }
    const [, biasStep] = bias ? broadcastStrides(bias.shape, [m, n]) : [0, 0];
    const arith = macArithmetic(op, productFrac, outFrac, bias, (j) => j * biasStep, n, alpha, beta);
    const taps: MacTap[] = Array.from({ length: k }, (_, t) => ({ inOff: prod.leftAt(0, t) - prod.leftAt(0, 0), w: t }));
    const rowStep = m > 1 ? prod.leftAt(1, 0) - prod.leftAt(0, 0) : 1;
    return {
      ...arith, input: left as Buffer, output, channels: n, outChanStride: 1, outFrac,
      row: (j) => Int32Array.from({ length: k }, (_, t) => w.data[prod.rightAt(t, j)]),
      groups: [{ taps, ny: m, nx: 1, inBase: prod.leftAt(0, 0), iyStep: rowStep, ixStep: 1, outBase: 0, oyStep: n, oxStep: 1 }],
    };
  }
  const w = left as Tensor;
  if (bias && n > 1 && !broadcastStrides(bias.shape, [m, n]).every((s, d) => d === 0 || s === 0)) {
    throw new Error(`bias C [${bias.shape.join(",")}] varies along the columns, the EVM target needs one bias per output row here`);
  }
  const [biasStep] = bias ? broadcastStrides(bias.shape, [m, n]) : [0];
  const arith = macArithmetic(op, productFrac, outFrac, bias, (i) => i * biasStep, m, alpha, beta);
  const taps: MacTap[] = Array.from({ length: k }, (_, t) => ({ inOff: prod.rightAt(t, 0) - prod.rightAt(0, 0), w: t }));
  const colStep = n > 1 ? prod.rightAt(0, 1) - prod.rightAt(0, 0) : 1;
  return {
    ...arith, input: right as Buffer, output, channels: m, outChanStride: n, outFrac,
    row: (i) => Int32Array.from({ length: k }, (_, t) => w.data[prod.leftAt(i, t)]),
    groups: [{ taps, ny: 1, nx: n, inBase: prod.rightAt(0, 0), iyStep: 1, ixStep: colStep, outBase: 0, oyStep: 1, oxStep: 1 }],
  };
}

/** One run of positions along an axis: outputs o = phase + period * (u0 + i), i < count, with its taps. */
export interface AxisSegment {
  phase: number;
  u0: number;
  count: number;
  /** Kernel tap j reads input index u * stride + delta (buffer index + padLo when padded). */
  taps: { j: number; delta: number }[];
}

export interface AxisPlan {
  padLo: number;
  padHi: number;
  period: number;
  stride: number;
  segments: AxisSegment[];
}

/** Phases of an axis and, in each, the taps on input values (`exact`) or on the padded input. */
export function planAxis(w: AxisWindow, exact: boolean): AxisPlan {
  const period = w.inputStep;
  const segments: AxisSegment[] = [];
  let padLo = 0;
  let padHi = 0;
  for (let phase = 0; phase < period; phase++) {
    const count = Math.ceil((w.outSize - phase) / period);
    if (count <= 0) continue;
    const taps: { j: number; delta: number }[] = [];
    for (let j = 0; j < w.kernel; j++) {
      const q = phase * w.stride + j * w.dilation - w.padBegin;
      if (((q % period) + period) % period === 0) taps.push({ j, delta: q / period });
    }
    if (!exact) {
      segments.push({ phase, u0: 0, count, taps });
      for (const t of taps) {
        padLo = Math.max(padLo, -t.delta);
        padHi = Math.max(padHi, (count - 1) * w.stride + t.delta - (w.inSize - 1));
      }
      continue;
    }
    let current: AxisSegment | undefined;
    for (let u = 0; u < count; u++) {
      const inside = taps.filter((t) => u * w.stride + t.delta >= 0 && u * w.stride + t.delta < w.inSize);
      const same = current && current.taps.length === inside.length && current.taps.every((t, i) => t.j === inside[i].j);
      if (current && same) current.count++;
      else segments.push(current = { phase, u0: u, count: 1, taps: inside });
    }
  }
  return { padLo, padHi, period, stride: w.stride, segments };
}

/** A correlation (Conv, or ConvTranspose after its rewrite) of x [1, C, H, W] as MacJobs, one per channel group. */
export interface Correlation {
  op: string;
  x: Buffer;
  output: Buffer;
  windows: AxisWindow[];
  outChannels: number;
  group: number;
  /** Weight of output channel m, input channel c of its group, kernel tap (i, j). */
  weight(m: number, c: number, i: number, j: number): number;
  weightFrac: number;
  bias?: Tensor;
  outFrac: number;
}

export function correlationJobs(p: Program, corr: Correlation): MacJob[] {
  const [batch, channels] = corr.x.shape;
  if (batch !== 1) throw new Error(`batch ${batch}: the EVM target runs ${corr.op} on batch 1`);
  const [rowWindow, colWindow] = liftTo2d(corr.windows);
  const exactPlans = [planAxis(rowWindow, true), planAxis(colWindow, true)] as const;
  const paddedPlans = [planAxis(rowWindow, false), planAxis(colWindow, false)] as const;
  const tapCount = (plans: readonly [AxisPlan, AxisPlan]) =>
    plans[0].segments.reduce((s, r) => s + plans[1].segments.reduce((t, c) => t + r.taps.length * c.taps.length, 0), 0);
  const needsPadding = paddedPlans.some((pl) => pl.padLo > 0 || pl.padHi > 0);
  const exact = !needsPadding || tapCount(exactPlans) <= 2 * tapCount(paddedPlans);
  const [rows, cols] = exact ? exactPlans : paddedPlans;
  const inH = rowWindow.inSize;
  const inW = colWindow.inSize;
  let input = corr.x;
  const padH = inH + rows.padLo + rows.padHi;
  const padW = inW + cols.padLo + cols.padHi;
  if (!exact) {
    input = p.allocate([1, channels, padH, padW], corr.x.frac, { zeroed: true });
    p.loop(channels, (channelReg) => {
      p.loop(inH, (r) => {
        p.asm.push(32 * inW);
        p.asm.push(channelReg).op("MLOAD").push(32 * inH * inW).op("MUL");
        p.pushScaled(bufferAt(corr.x), r, 32 * inW);
        p.asm.op("ADD");
        p.asm.push(channelReg).op("MLOAD").push(32 * padH * padW).op("MUL");
        p.pushScaled(bufferAt(input, rows.padLo * padW + cols.padLo), r, 32 * padW);
        p.asm.op("ADD", "MCOPY");
      });
    });
  }
  const outW = colWindow.outSize;
  const outPlane = rowWindow.outSize * outW;
  const perGroupIn = channels / corr.group;
  const perGroupOut = corr.outChannels / corr.group;
  const biasIndex = (g: number) => (m: number) => g * perGroupOut + m;
  const jobs: MacJob[] = [];
  for (let g = 0; g < corr.group; g++) {
    const groups: MacGroup[] = [];
    for (const r of rows.segments) {
      for (const c of cols.segments) {
        const taps: MacTap[] = [];
        for (let ch = 0; ch < perGroupIn; ch++) {
          for (const ty of r.taps) {
            for (const tx of c.taps) {
              taps.push({ inOff: (g * perGroupIn + ch) * padH * padW + ty.delta * padW + tx.delta, w: (ch * rowWindow.kernel + ty.j) * colWindow.kernel + tx.j });
            }
          }
        }
        groups.push({
          taps, ny: r.count, nx: c.count,
          inBase: (r.u0 * rows.stride + rows.padLo) * padW + c.u0 * cols.stride + cols.padLo,
          iyStep: rows.stride * padW, ixStep: cols.stride,
          outBase: (r.phase + rows.period * r.u0) * outW + c.phase + cols.period * c.u0,
          oyStep: rows.period * outW, oxStep: cols.period,
        });
      }
    }
    const depth = perGroupIn * rowWindow.kernel * colWindow.kernel;
    const rowOf = (m: number) => {
      const row = new Int32Array(depth);
      for (let ch = 0; ch < perGroupIn; ch++) {
        for (let i = 0; i < rowWindow.kernel; i++) {
          for (let j = 0; j < colWindow.kernel; j++) row[(ch * rowWindow.kernel + i) * colWindow.kernel + j] = corr.weight(g * perGroupOut + m, ch, i, j);
        }
      }
      return row;
    };
    const arith = macArithmetic(corr.op, corr.weightFrac + corr.x.frac, corr.outFrac, corr.bias, biasIndex(g), perGroupOut);
    const outputView: Buffer = { ...corr.output, addr: corr.output.addr + 32 * g * perGroupOut * outPlane };
    jobs.push({ ...arith, input, output: outputView, channels: perGroupOut, outChanStride: outPlane, row: rowOf, groups, outFrac: corr.outFrac });
  }
  return jobs;
}
