/**
 * Calibration, front-end neutral: from the float model's observed activation ranges to the
 * activation formats of a converted graph. Each float value (graph input, node output) gets the
 * largest frac in 0..30 at which HEADROOM times its largest observed |value| still fits the
 * activation width: 32 bits (an i32) by default, 16 bits with `activationBits: 16`
 * (`fracForRange`). `applyCalibration` then gives every graph input and every node that computes
 * an observed value its own frac (lib/graph/ir.ts `Node.frac`): ops read inputs at any frac and
 * write at their node's, by the rescale rules of docs/numerics.md, so no rescale node is needed.
 * Values the float model never names (the inner nodes of an op the converter decomposes) are
 * written at the graph frac, the smallest frac of all, which is what a graph with one frac used
 * everywhere. Last, no multiply-accumulate (Conv, ConvTranspose, MatMul, Gemm with constant
 * weights) may leave i64: the bound is the input's largest integer (its calibrated magnitude at
 * its frac, at most the i32 limit) times the largest per-output sum of |weight| at the weights'
 * own frac; where it fails, the node that computes the input is given a lower frac. The steps
 * every front end shares are here too: refusing NaN/Inf calibration inputs
 * (`observeSampleInputs`) and the convert, observe, plan, convert, apply sequence
 * (`convertCalibrated`); the front ends only observe (converter/onnx/calibrate.ts,
 * converter/tfjs/calibrate.ts).
 */
import { type Graph, type Node, weightChannelAxis } from "../../lib/graph/ir.js";
import { inferTypes } from "../../lib/graph/validate.js";
import { InputError } from "../../lib/inputs.js";
import { opDef, resolveAttrs, type TensorType } from "../../lib/ops/index.js";
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

/**
 * Record one calibration sample's real input values (those named in `floatInputs`, by name),
 * refusing a NaN or infinite value with one line naming the sample and the input.
 */
export function observeSampleInputs(ranges: ValueRanges, sample: ReadonlyMap<string, { data: ArrayLike<number> }>, floatInputs: readonly string[]): void {
  for (const name of floatInputs) {
    const v = sample.get(name);
    if (!v) continue;
    for (let i = 0; i < v.data.length; i++) {
      if (!Number.isFinite(v.data[i])) throw new InputError(`calibration sample ${ranges.samples}: input '${name}' has a NaN or infinite value (first at index ${i}); calibration needs finite inputs`);
    }
    ranges.observe(name, v.data);
  }
}

/** Activation widths calibration can plan for: the value range an activation's format must hold. */
export type ActivationBits = 16 | 32;

/** The largest frac in 0..30 with HEADROOM * maxAbs * 2^frac < 2^(bits - 1) (30 for an all-zero tensor). */
export function fracForRange(maxAbs: number, headroom = HEADROOM, bits: ActivationBits = 32): number {
  if (!(maxAbs > 0)) return MAX_ACTIVATION_FRAC;
  const limit = 2 ** (bits - 1);
  const f = Math.floor(bits - 1 - Math.log2(maxAbs * headroom));
  // log2 rounds: step down while the bound does not hold.
  let frac = Math.min(MAX_ACTIVATION_FRAC, f);
  while (frac > 0 && maxAbs * headroom * 2 ** frac >= limit) frac--;
  return Math.max(0, frac);
}

export interface CalibrationPlan {
  /** The graph frac: the smallest per-tensor frac, for the values calibration did not see. */
  frac: number;
  /** The activation width the fracs were planned for. */
  activationBits: ActivationBits;
  /** Per activation of the graph (by IR value name): the frac its own range allows. */
  tensorFracs: Map<string, number>;
  /** The value whose range set the graph frac. */
  widest?: { name: string; maxAbs: number };
  samples: number;
}

/**
 * The formats for `graph` (converted at any frac, to learn which values are activations): a frac
 * per float input and float node output whose range was observed, and the smallest of them as
 * the graph frac.
 */
export function planCalibration(graph: Graph, ranges: ValueRanges, activationBits: ActivationBits = 32): CalibrationPlan {
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
    const f = fracForRange(maxAbs, HEADROOM, activationBits);
    tensorFracs.set(name, f);
    if (widest === undefined || f < frac) {
      frac = f;
      widest = { name, maxAbs };
    }
  }
  if (tensorFracs.size === 0) return { frac: DEFAULT_FRAC, activationBits, tensorFracs, samples: ranges.samples };
  return { frac, activationBits, tensorFracs, widest, samples: ranges.samples };
}

/** What applyCalibration did: the fracs it gave, and the nodes it lowered for an accumulator bound. */
export interface CalibrationResult {
  graph: Graph;
  /** Smallest and largest frac given to an input or a node. */
  fracRange: [number, number];
  /** Nodes and inputs given their own frac. */
  formats: number;
  /** MAC nodes whose input's producer was lowered to keep the sum inside i64. */
  lowered: string[];
}

/**
 * Give `graph` (converted at plan.frac) the plan's formats: each float input its frac, each node
 * that writes an observed value the smallest frac of its observed outputs; then lower the
 * producers of MAC inputs whose products could leave i64.
 */
export function applyCalibration(graph: Graph, plan: CalibrationPlan, ranges: ValueRanges): CalibrationResult {
  const own = (names: readonly string[]) => {
    const fracs = names.map((n) => plan.tensorFracs.get(n)).filter((f): f is number => f !== undefined);
    return fracs.length > 0 ? Math.min(...fracs) : undefined;
  };
  const out: Graph = {
    ...graph,
    frac: plan.frac,
    inputs: graph.inputs.map((v) => (v.frac > 0 && plan.tensorFracs.has(v.name) ? { ...v, frac: plan.tensorFracs.get(v.name)! } : v)),
    nodes: graph.nodes.map((n) => {
      const f = own(n.outputs);
      return f === undefined || f === plan.frac ? n : { ...n, frac: f };
    }),
  };
  const lowered = lowerForAccumulators(out, ranges);
  const fracs = [...out.inputs.filter((v) => v.frac > 0).map((v) => v.frac), ...out.nodes.map((n) => n.frac ?? out.frac)];
  return {
    graph: out, lowered,
    fracRange: [Math.min(out.frac, ...fracs), Math.max(out.frac, ...fracs)],
    formats: out.inputs.filter((v, i) => v.frac !== graph.inputs[i].frac).length + out.nodes.filter((n) => n.frac !== undefined).length,
  };
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

/**
 * Lower fracs (in place, in `graph`'s fresh node and input lists) until no MAC sum can reach
 * ACCUMULATOR_LIMIT: |input integer| <= min(2^31, HEADROOM * observed max * 2^frac), times the
 * weights' largest row sum. The frac lowered is the one the input takes its format from: the
 * node that computes it, found through the nodes that pass their input's frac on (views, Relu,
 * MaxPool: lib/graph/ir.ts `Node.frac`), or the graph input it comes from. Returns the MAC nodes.
 */
function lowerForAccumulators(graph: Graph, ranges: ValueRanges): string[] {
  const lowered: string[] = [];
  for (let round = 0; round <= graph.nodes.length; round++) {
    const types = inferTypes(graph);
    const producer = new Map(graph.nodes.flatMap((n, i) => n.outputs.map((o) => [o, i] as const)));
    let changed = false;
    for (const node of graph.nodes) {
      if (!MAC_OPS.has(node.op)) continue;
      const w = graph.constants.get(node.inputs[1]);
      const x = types.get(node.inputs[0]);
      if (!w || !x) continue;
      const rowSum = maxWeightRowSum(node, w);
      const observed = ranges.maxAbs.get(node.inputs[0]);
      const largest = (f: number) => Math.min(2 ** 31, observed === undefined ? Infinity : HEADROOM * observed * 2 ** f);
      if (largest(x.frac) * rowSum < ACCUMULATOR_LIMIT) continue;
      let f = x.frac;
      while (f > 0 && largest(f) * rowSum >= ACCUMULATOR_LIMIT) f--;
      setSourceFrac(graph, types, producer, node.inputs[0], f);
      lowered.push(node.name);
      changed = true;
    }
    if (!changed) return [...new Set(lowered)];
  }
  throw new Error("calibration: the accumulator bounds did not settle");
}

/** Give the node (or graph input) that value `name` takes its frac from the frac `f`. */
function setSourceFrac(graph: Graph, types: Map<string, TensorType>, producer: Map<string, number>, name: string, f: number): void {
  for (let hops = 0; hops <= graph.nodes.length; hops++) {
    const i = producer.get(name);
    if (i === undefined) {
      const k = graph.inputs.findIndex((v) => v.name === name);
      if (k >= 0) graph.inputs[k] = { ...graph.inputs[k], frac: Math.min(graph.inputs[k].frac, f) };
      return;
    }
    const node = graph.nodes[i];
    if (!passesFracOn(node, types)) {
      graph.nodes[i] = { ...node, frac: Math.min(node.frac ?? graph.frac, f) };
      return;
    }
    name = node.inputs[0];
  }
}

/** Whether a node's output takes its first input's frac whatever the node's own frac (a view, Relu, MaxPool...): its type does not follow the context. */
function passesFracOn(node: Node, types: Map<string, TensorType>): boolean {
  const def = opDef(node.op);
  const inputs = node.inputs.map((v) => (v === "" ? undefined : types.get(v))) as TensorType[];
  const attrs = resolveAttrs(def, node.attrs);
  const at = (frac: number) => def.infer(inputs, attrs, { frac })[0]?.frac;
  return at(0) === at(1);
}

/** The .detml metadata that records a calibration (part of the model id, like every metadata field). */
export function calibrationMetadata(plan: CalibrationPlan, source: string, result?: CalibrationResult): Record<string, string> {
  return {
    calibration: JSON.stringify({
      method: `max |x| x ${HEADROOM} fits ${plan.activationBits} bits, a frac per tensor`,
      data: source,
      samples: plan.samples,
      frac: plan.frac,
      ...(plan.widest ? { widest: plan.widest.name } : {}),
      ...(result && result.lowered.length > 0 ? { accumulator: result.lowered } : {}),
    }),
  };
}

/** A conversion with calibrated formats: the front end's result, its plan, the ranges it observed and what applying them did. */
export type Calibrated<R extends { graph: Graph }> = R & { plan: CalibrationPlan; ranges: ValueRanges; calibration: CalibrationResult };

/**
 * The calibrated conversion, front-end neutral. `convert(frac)` converts the model (undefined:
 * the default frac); `observe` runs the float model and returns its ranges under the names of the
 * probe graph's values. Converts once at the default frac (to learn which IR values are
 * activations), observes, plans, converts again at the planned graph frac, gives inputs and nodes
 * their own fracs and records the calibration in the metadata (`data` names the samples).
 */
export async function convertCalibrated<R extends { graph: Graph }>(
  convert: (frac: number | undefined) => R,
  observe: (probe: Graph) => Promise<ValueRanges>,
  data: string,
  activationBits: ActivationBits = 32,
): Promise<Calibrated<R>> {
  const probe = convert(undefined);
  const ranges = await observe(probe.graph);
  const plan = planCalibration(probe.graph, ranges, activationBits);
  const converted = convert(plan.frac);
  const calibration = applyCalibration(converted.graph, plan, ranges);
  const graph = { ...calibration.graph, metadata: { ...calibration.graph.metadata, ...calibrationMetadata(plan, data, calibration) } };
  return { ...converted, graph, plan, ranges, calibration: { ...calibration, graph } };
}
