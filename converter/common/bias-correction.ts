/**
 * Bias correction for narrow weights (docs/numerics.md, "Bias correction"): rounding a layer's
 * weights to 8 bits changes its output by (Wq - W) x, whose mean over the data, (Wq - W) mu with
 * mu the layer's mean input, is one systematic shift per output channel that every later layer
 * inherits. Calibration already runs the float model (ONNX Runtime; for TF.js models the
 * reference executor on an unrounded conversion, `observeInReference`), so it also records each
 * Conv's mean input patch (every input channel at every kernel tap, over all output positions,
 * padding counted as zero) and each Gemm's mean input row; after the weights are rounded, each
 * output channel's bias gets (W - Wq) mu added, in real units, rounded to the bias's frac (a Conv
 * or Gemm without a bias gets one). With 16-bit activations and 8-bit weights it took argmax
 * agreement with ONNX Runtime from 69 to 99 (squeezenet1_1), 96 to 99 (resnet18) and 94 to 96
 * (mobilenet_v2) of 100 (random-weight torchvision networks). Covered: Conv with constant
 * weights, and Gemm with constant B, alpha = beta = 1, no transposed A and a constant or absent
 * bias of one value per output; other layers are left as rounded.
 */
import { run } from "../../lib/executor.js";
import type { Graph, Node } from "../../lib/graph/ir.js";
import { inferTypes } from "../../lib/graph/validate.js";
import { opDef, resolveAttrs } from "../../lib/ops/index.js";
import { ATTR_FRAC } from "../../lib/ops/op.js";
import type { ConvAttrs } from "../../lib/ops/conv.js";
import type { GemmAttrs } from "../../lib/ops/gemm.js";
import { axisTaps, liftTo2d, resolveWindows } from "../../lib/ops/window.js";
import { I32_MAX, I32_MIN } from "../../lib/tensor/fixed.js";
import { Tensor } from "../../lib/tensor/tensor.js";
import type { FloatTensor } from "../../lib/verify/compare.js";

/** What one layer's mean input is taken over: a Conv's patches or a Gemm's rows. */
interface Layer {
  op: "Conv" | "Gemm";
  input: string;
  inputShape: readonly number[];
  /** Sum of each input feature (Conv: channel x tap; Gemm: column) over every sample's positions, and their count. */
  sums: Float64Array;
  count: number;
  conv?: { rowTaps: Int32Array; colTaps: Int32Array; kh: number; kw: number; outH: number; outW: number; inH: number; inW: number };
}

/** A node's weight input, when it is a constant. */
const constantWeight = (graph: Graph, n: Node) => graph.constants.get(n.inputs[1]);

/** Mean inputs of a graph's Conv and Gemm layers with constant weights, accumulated from float samples by IR node name. */
export class LayerInputMeans {
  private readonly layers = new Map<string, Layer>();

  /** Plan on `graph` (the calibration probe): which values to average, and how. */
  constructor(graph: Graph) {
    const types = inferTypes(graph);
    for (const n of graph.nodes) {
      const w = constantWeight(graph, n);
      const shape = types.get(n.inputs[0])?.shape;
      if (!w || !shape) continue;
      if (n.op === "Conv" && shape.length >= 3 && shape.length <= 4) {
        const attrs = resolveAttrs(opDef("Conv"), n.attrs) as ConvAttrs;
        const [rows, cols] = liftTo2d(resolveWindows("Conv", shape.slice(2), w.shape.slice(2), attrs));
        const conv = { rowTaps: axisTaps(rows), colTaps: axisTaps(cols), kh: rows.kernel, kw: cols.kernel, outH: rows.outSize, outW: cols.outSize, inH: rows.inSize, inW: cols.inSize };
        this.layers.set(n.name, { op: "Conv", input: n.inputs[0], inputShape: shape, sums: new Float64Array(shape[1] * conv.kh * conv.kw), count: 0, conv });
      } else if (n.op === "Gemm" && shape.length === 2 && isPlainGemm(n)) {
        this.layers.set(n.name, { op: "Gemm", input: n.inputs[0], inputShape: shape, sums: new Float64Array(shape[1]), count: 0 });
      }
    }
  }

  /** Add one sample's float values (inputs and node outputs by name); values of another shape are ignored. */
  observe(values: ReadonlyMap<string, FloatTensor>): void {
    for (const layer of this.layers.values()) {
      const x = values.get(layer.input);
      if (!x || String(x.shape) !== String(layer.inputShape)) continue;
      if (layer.conv) accumulatePatches(layer, x.data);
      else accumulateRows(layer, x.data);
    }
  }

  /** The mean input features of node `name`, if it was planned and observed. */
  mean(name: string): Float64Array | undefined {
    const layer = this.layers.get(name);
    return layer && layer.count > 0 ? layer.sums.map((s) => s / layer.count) : undefined;
  }
}

/**
 * Feed `means` one sample through `graph`'s reference executor instead of the float framework:
 * for front ends whose float values do not carry the IR's names and layouts (TF.js computes NHWC
 * under TF names). `graph` must be converted unrounded, at a frac fine enough to stand for float
 * (the calibration probe's); the sample holds real input values by name.
 */
export function observeInReference(means: LayerInputMeans, graph: Graph, sample: ReadonlyMap<string, FloatTensor>): void {
  const inputs = Object.fromEntries(graph.inputs.map((v) => [v.name, Tensor.fromFloat(sample.get(v.name)?.data ?? [], v.shape, v.frac)]));
  const { values } = run(graph, inputs, { capture: true });
  const real = new Map<string, FloatTensor>([...sample]);
  for (const [name, t] of values!) real.set(name, { shape: [...t.shape], data: Float64Array.from(t.data, (v) => v / 2 ** t.frac) });
  means.observe(real);
}

/** A Gemm whose output is A B + C exactly (the form PyTorch's Linear exports). */
function isPlainGemm(n: Node): boolean {
  const a = resolveAttrs(opDef("Gemm"), n.attrs) as GemmAttrs;
  const one = 2 ** ATTR_FRAC; // `fixed` attributes are integers at ATTR_FRAC
  return a.alpha === one && a.beta === one && !a.transA;
}

function accumulatePatches(layer: Layer, x: Float64Array): void {
  const { rowTaps, colTaps, kh, kw, outH, outW, inH, inW } = layer.conv!;
  const [batch, channels] = layer.inputShape;
  for (let n = 0; n < batch; n++) {
    for (let c = 0; c < channels; c++) {
      const plane = (n * channels + c) * inH * inW;
      for (let ky = 0; ky < kh; ky++) {
        for (let oy = 0; oy < outH; oy++) {
          const r = rowTaps[oy * kh + ky];
          if (r < 0) continue;
          for (let kx = 0; kx < kw; kx++) {
            let s = 0;
            for (let ox = 0; ox < outW; ox++) {
              const q = colTaps[ox * kw + kx];
              if (q >= 0) s += x[plane + r * inW + q];
            }
            layer.sums[(c * kh + ky) * kw + kx] += s;
          }
        }
      }
    }
  }
  layer.count += batch * outH * outW;
}

function accumulateRows(layer: Layer, x: Float64Array): void {
  const [rows, cols] = layer.inputShape;
  for (let i = 0; i < rows; i++) for (let k = 0; k < cols; k++) layer.sums[k] += x[i * cols + k];
  layer.count += rows;
}

/**
 * `narrowed` (the graph after its weights were rounded) with each covered layer's bias moved by
 * (W - Wq) mu, W from `original` (the same graph before rounding). Returns the graph and the
 * number of layers corrected.
 */
export function correctBiases(original: Graph, narrowed: Graph, means: LayerInputMeans): { graph: Graph; corrected: number } {
  const constants = new Map(narrowed.constants);
  let corrected = 0;
  const nodes = narrowed.nodes.map((n) => {
    const [w, wq, mu] = [constantWeight(original, n), constantWeight(narrowed, n), means.mean(n.name)];
    if (!w || !wq || !mu || wq === w) return n;
    const shift = channelShift(n, w, wq, mu);
    // A float model that overflows gives infinite means: no correction rather than a wrong one.
    if (!shift || !shift.every(Number.isFinite)) return n;
    const bias = n.inputs[2] ? constants.get(n.inputs[2]) : undefined;
    // A bias computed at run time, or not one value per output channel ([N] or Gemm's [1, N]), stays.
    if (n.inputs[2] && (!bias || bias.size !== shift.length || bias.shape.some((d, i) => i < bias.rank - 1 && d !== 1))) return n;
    // The corrected bias is a constant of this node's own: a bias constant may be shared (equal biases are one constant).
    const frac = bias?.frac ?? w.frac;
    const values = Int32Array.from(shift, (d, c) => {
      const v = (bias?.data[c] ?? 0) + Math.round(d * 2 ** frac);
      return v > I32_MAX ? I32_MAX : v < I32_MIN ? I32_MIN : v;
    });
    let name = `${n.name}/corrected_bias`;
    while (constants.has(name)) name += "_";
    constants.set(name, new Tensor(bias?.shape ?? [shift.length], values, frac));
    corrected++;
    return { ...n, inputs: [n.inputs[0], n.inputs[1], name] };
  });
  return { graph: { ...narrowed, nodes, constants, metadata: { ...narrowed.metadata, bias_corrected_layers: String(corrected) } }, corrected };
}

/** Each output channel's (W - Wq) mu in real units, or undefined when the layer's shapes do not fit its mean. */
function channelShift(n: Node, w: Tensor, wq: Tensor, mu: Float64Array): Float64Array | undefined {
  const scale = 2 ** -w.frac;
  if (n.op === "Conv") {
    const [outChannels, perGroup] = w.shape;
    const taps = w.size / (outChannels * perGroup);
    const group = mu.length / taps / perGroup;
    if (!Number.isInteger(group) || outChannels % group !== 0) return undefined;
    const perGroupOut = outChannels / group;
    return Float64Array.from({ length: outChannels }, (_, m) => {
      const base = Math.floor(m / perGroupOut) * perGroup * taps;
      let s = 0;
      for (let i = 0; i < perGroup * taps; i++) s += (w.data[m * perGroup * taps + i] - wq.data[m * perGroup * taps + i]) * mu[base + i];
      return s * scale;
    });
  }
  const transB = Number(n.attrs.transB ?? 0) !== 0;
  const [k, outputs] = transB ? [w.shape[1], w.shape[0]] : [w.shape[0], w.shape[1]];
  if (k !== mu.length) return undefined;
  return Float64Array.from({ length: outputs }, (_, j) => {
    let s = 0;
    for (let i = 0; i < k; i++) {
      const at = transB ? j * k + i : i * outputs + j;
      s += (w.data[at] - wq.data[at]) * mu[i];
    }
    return s * scale;
  });
}
