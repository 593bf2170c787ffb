/**
 * Rewrites on a draft graph, in float, before quantization:
 * - fuseBatchNorm: an inference BatchNormalization y = s*(x - mean) + B, s = scale/sqrt(var+eps),
 *   that reads the output of a Conv, ConvTranspose or Gemm nobody else reads is folded into that
 *   op's weights and bias (W' = W*s per output channel, b' = b*s + B - mean*s). One rounding of
 *   the fused weights replaces two fixed-point ops, so the result is closer to float.
 * - prune: drop nodes whose outputs nothing reads and constants no node or output uses.
 */
import { constValue, type ConstValue } from "./values.js";
import type { DraftGraph, DraftNode } from "./draft.js";

const FUSABLE = new Set(["Conv", "ConvTranspose", "Gemm"]);

/** Per-output-channel scale and shift of a BatchNormalization with constant parameters. */
function batchNormAffine(node: DraftNode, consts: ConstValue[]): { scale: Float64Array; shift: Float64Array } {
  const [gamma, beta, mean, variance] = consts;
  const eps = (node.attrs.epsilon as number | undefined) ?? 1e-5;
  const scale = gamma.data.map((g, c) => g / Math.sqrt(variance.data[c] + eps));
  const shift = beta.data.map((b, c) => b - mean.data[c] * scale[c]);
  return { scale, shift };
}

/**
 * The output channel that each weight element contributes to, for the op's weight layout:
 * Conv W [M, C/g, ...] (axis 0), ConvTranspose W [C, M/g, ...] (channel = group * M/g + j),
 * Gemm B [K, N] or, with transB, [N, K].
 */
function channelOfWeight(op: DraftNode, w: ConstValue, channels: number): ((i: number) => number) | undefined {
  const inner = (axis: number) => w.shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  if (op.op === "Conv") return w.shape[0] === channels ? (i) => Math.floor(i / inner(0)) : undefined;
  if (op.op === "Gemm") {
    if (w.shape.length !== 2) return undefined;
    const transB = (op.attrs.transB as number | undefined) === 1;
    if (w.shape[transB ? 0 : 1] !== channels) return undefined;
    return transB ? (i) => Math.floor(i / w.shape[1]) : (i) => i % w.shape[1];
  }
  const group = (op.attrs.group as number | undefined) ?? 1;
  const perGroupIn = w.shape[0] / group;
  const perGroupOut = w.shape[1];
  if (perGroupOut * group !== channels) return undefined;
  const spatial = inner(1);
  return (i) => {
    const ci = Math.floor(i / (perGroupOut * spatial));
    const j = Math.floor(i / spatial) % perGroupOut;
    return Math.floor(ci / perGroupIn) * perGroupOut + j;
  };
}

/** Fold every fusable BatchNormalization; returns how many were folded. */
export function fuseBatchNorm(graph: DraftGraph, fresh: (base: string) => string): number {
  const readers = new Map<string, number>();
  for (const n of graph.nodes) for (const v of n.inputs) readers.set(v, (readers.get(v) ?? 0) + 1);
  for (const v of graph.outputs) readers.set(v, (readers.get(v) ?? 0) + 1);
  const producer = new Map<string, DraftNode>();
  for (const n of graph.nodes) for (const v of n.outputs) producer.set(v, n);

  const removed = new Set<DraftNode>();
  for (const bn of graph.nodes) {
    if (bn.op !== "BatchNormalization" || bn.outputs.length !== 1) continue;
    const op = producer.get(bn.inputs[0]);
    if (!op || !FUSABLE.has(op.op) || readers.get(bn.inputs[0]) !== 1) continue;
    const params = bn.inputs.slice(1).map((v) => graph.constants.get(v));
    const w = graph.constants.get(op.inputs[1]);
    const biasName = op.inputs[2];
    const bias = biasName ? graph.constants.get(biasName) : undefined;
    if (!w || params.some((p) => !p) || (biasName && !bias)) continue;
    const { scale, shift } = batchNormAffine(bn, params as ConstValue[]);
    const channels = scale.length;
    const channelOf = channelOfWeight(op, w, channels);
    if (!channelOf) continue;
    let newBias: Float64Array;
    if (op.op === "Gemm") {
      // y = alpha*A*B + beta*C: scaling B's columns scales the product; C' = C*s + shift/beta.
      const beta = (op.attrs.beta as number | undefined) ?? 1;
      if (bias && (bias.data.length !== 1 && bias.data.length !== channels)) continue;
      const useBeta = bias && beta !== 0 ? beta : 1;
      const c = (k: number) => (bias && beta !== 0 ? bias.data[bias.data.length === 1 ? 0 : k] : 0);
      newBias = scale.map((s, k) => c(k) * s + shift[k] / useBeta);
      op.attrs = { ...op.attrs, beta: useBeta };
    } else {
      newBias = scale.map((s, k) => (bias ? bias.data[k] : 0) * s + shift[k]);
    }
    const weights = w.data.map((v, i) => v * scale[channelOf(i)]);
    const wName = fresh(`${op.name}/weight_bn`);
    const bName = fresh(`${op.name}/bias_bn`);
    graph.constants.set(wName, constValue("float", w.shape, weights));
    graph.constants.set(bName, constValue("float", [channels], newBias));
    op.inputs = [op.inputs[0], wName, bName];
    op.outputs = [bn.outputs[0]];
    removed.add(bn);
  }
  graph.nodes = graph.nodes.filter((n) => !removed.has(n));
  return removed.size;
}

/** Remove nodes that feed nothing and constants that nothing reads. */
export function prune(graph: DraftGraph): void {
  const live = new Set(graph.outputs);
  const kept: DraftNode[] = [];
  for (let i = graph.nodes.length - 1; i >= 0; i--) {
    const n = graph.nodes[i];
    if (!n.outputs.some((o) => live.has(o))) continue;
    kept.push(n);
    for (const v of n.inputs) live.add(v);
  }
  graph.nodes = kept.reverse();
  for (const name of [...graph.constants.keys()]) if (!live.has(name)) graph.constants.delete(name);
}
