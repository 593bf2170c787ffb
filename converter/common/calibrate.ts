/**
 * Calibration, front-end neutral: from the float model's observed activation ranges to the
 * activation frac of a converted graph. Each float value (graph input, node output) gets the
 * largest frac in 0..30 at which HEADROOM times its largest observed |value| still fits an i32
 * (`fracForRange`). The IR writes every computed activation at one graph frac (OpContext.frac),
 * so the graph takes the smallest of those per-tensor fracs over the activations it really
 * computes: the tensor with the widest range decides, every op sees legal, equal fracs and no
 * rescale is inserted. The choice is then lowered, if needed, so that no multiply-accumulate
 * (Conv, ConvTranspose, MatMul, Gemm with constant weights) can leave i64: the bound is the
 * calibrated input magnitude times the largest per-output sum of |weight| at the weights' own
 * frac. The per-tensor fracs are kept in the plan, for the report and for an IR that one day
 * carries a frac per node.
 */
import { type Graph, type Node, weightChannelAxis } from "../../lib/graph/ir.js";
import { inferTypes } from "../../lib/graph/validate.js";
import { DEFAULT_FRAC } from "../../lib/tensor/fixed.js";
import { channelOf } from "../../lib/tensor/narrow.js";
import type { Tensor } from "../../lib/tensor/tensor.js";

/** Observed ranges are multiplied by this before they must fit: inputs beyond the calibration set may be twice as large. */
export const HEADROOM = 2;
/** Largest activation frac (the numerics contract's limit). */
export const MAX_ACTIVATION_FRAC = 30;
/** Accumulator partial sums must stay below this magnitude (i64 with one bit to spare). */
const ACCUMULATOR_LIMIT = 2 ** 62;
const MAC_OPS = new Set(["Conv", "ConvTranspose", "MatMul", "Gemm"]);

/** Largest |value| seen per value name, over the samples run. */
export class ValueRanges {
  readonly maxAbs = new Map<string, number>();
  samples = 0;

  observe(name: string, data: ArrayLike<number>): void {
    let m = this.maxAbs.get(name) ?? 0;
    for (let i = 0; i < data.length; i++) {
      const v = Math.abs(data[i]);
      // NaN and infinities say nothing about the range a finite format must hold.
      if (v > m && Number.isFinite(v)) m = v;
    }
    this.maxAbs.set(name, m);
  }
}

/** The largest frac in 0..30 with HEADROOM * maxAbs * 2^frac < 2^31 (30 for an all-zero tensor). */
export function fracForRange(maxAbs: number, headroom = HEADROOM): number {
  if (!(maxAbs > 0)) return MAX_ACTIVATION_FRAC;
  const f = Math.floor(31 - Math.log2(maxAbs * headroom));
  // log2 rounds: step down while the bound does not hold.
  let frac = Math.min(MAX_ACTIVATION_FRAC, f);
  while (frac > 0 && maxAbs * headroom * 2 ** frac >= 2 ** 31) frac--;
  return Math.max(0, frac);
}

export interface CalibrationPlan {
  /** The graph frac chosen. */
  frac: number;
  /** Per activation of the graph (by IR value name): the frac its own range allows. */
  tensorFracs: Map<string, number>;
  /** The value whose range set the graph frac, and the accumulator that lowered it, if one did. */
  widest?: { name: string; maxAbs: number };
  accumulator?: { node: string; frac: number };
  samples: number;
}

/**
 * The frac for `graph` (converted at any frac, to learn which values are activations): the
 * smallest per-tensor frac over its float inputs and float node outputs whose range was observed,
 * lowered until every multiply-accumulate is bounded below 2^62.
 */
export function planCalibration(graph: Graph, ranges: ValueRanges): CalibrationPlan {
  if (ranges.samples === 0) throw new Error("calibration needs at least one sample");
  const types = inferTypes(graph);
  const activations = [
    ...graph.inputs.filter((v) => v.frac > 0).map((v) => v.name),
    ...graph.nodes.flatMap((n) => n.outputs).filter((o) => (types.get(o)?.frac ?? 0) > 0),
  ];
  const tensorFracs = new Map<string, number>();
  let frac = MAX_ACTIVATION_FRAC;
  let widest: CalibrationPlan["widest"];
  for (const name of activations) {
    const maxAbs = ranges.maxAbs.get(name);
    if (maxAbs === undefined) continue;
    const f = fracForRange(maxAbs);
    tensorFracs.set(name, f);
    if (widest === undefined || f < frac) {
      frac = f;
      widest = { name, maxAbs };
    }
  }
  if (tensorFracs.size === 0) return { frac: DEFAULT_FRAC, tensorFracs, samples: ranges.samples };
  const accumulator = accumulatorBound(graph, ranges, frac);
  return { frac: accumulator ? accumulator.frac : frac, tensorFracs, widest, accumulator, samples: ranges.samples };
}

/**
 * The largest per-output-channel sum of |weight| (raw integers) of a MAC op's constant weight,
 * along the output-channel axis of its weight position (lib/graph/ir.ts `weightChannelAxis`:
 * Conv [M, ...] per leading index, ConvTranspose [C, M/g, ...] per second index, an upper bound
 * over groups, MatMul [.., K, N] and Gemm per column, per row with transB); a 1-D MatMul B, one
 * output's whole weight vector, summed whole.
 */
function maxWeightRowSum(node: Node, w: Tensor): number {
  const axis = weightChannelAxis(node, 1, w.rank);
  if (axis === undefined) return w.data.reduce((sum, v) => sum + Math.abs(v), 0);
  const channel = channelOf(w.shape, axis);
  const sums = new Float64Array(w.shape[axis]);
  for (let i = 0; i < w.size; i++) sums[channel(i)] += Math.abs(w.data[i]);
  return Math.max(0, ...sums);
}

/** The lower frac that keeps every MAC sum below 2^62, or undefined when `frac` already does. */
function accumulatorBound(graph: Graph, ranges: ValueRanges, frac: number): { node: string; frac: number } | undefined {
  let worst: { node: string; frac: number } | undefined;
  for (const node of graph.nodes) {
    if (!MAC_OPS.has(node.op)) continue;
    const w = graph.constants.get(node.inputs[1]);
    const maxIn = ranges.maxAbs.get(node.inputs[0]);
    if (!w || maxIn === undefined || maxIn === 0) continue;
    const rowSum = maxWeightRowSum(node, w);
    // |sum| <= HEADROOM * maxIn * 2^f * rowSum must stay below the limit.
    let f = frac;
    while (f > 0 && HEADROOM * maxIn * 2 ** f * rowSum >= ACCUMULATOR_LIMIT) f--;
    if (f < frac && (!worst || f < worst.frac)) worst = { node: node.name, frac: f };
  }
  return worst;
}

/** The .detml metadata that records a calibration (part of the model id, like every metadata field). */
export function calibrationMetadata(plan: CalibrationPlan, source: string): Record<string, string> {
  return {
    calibration: JSON.stringify({
      method: `max |x| x ${HEADROOM}, smallest per-tensor frac`,
      data: source,
      samples: plan.samples,
      frac: plan.frac,
      ...(plan.widest ? { widest: plan.widest.name } : {}),
      ...(plan.accumulator ? { accumulator: plan.accumulator.node } : {}),
    }),
  };
}
