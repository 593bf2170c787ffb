/**
 * Keras recurrent layers of TF.js layers models (LSTM, GRU, SimpleRNN, and the Bidirectional
 * wrapper around one of them) on the unrolled composition of converter/common/composite-recurrent.ts,
 * which speaks ONNX's conventions. The weights are rearranged at conversion time (Transpose,
 * Split and Concat of constants fold away): Keras keeps `kernel` [I, G*U] and `recurrent_kernel`
 * [U, G*U] with gates i, f, c, o (LSTM) or z, r, h (GRU), ONNX wants [G*U, I] and [G*U, U] with
 * LSTM gates i, o, f, c; the Keras bias is ONNX's Wb with a zero Rb. TF.js's GRU is ONNX's
 * GRU without linear_before_reset (TF.js refuses reset_after), and its `go_backwards` is ONNX's
 * reverse direction with the output sequence read backwards. Bidirectional is ONNX's
 * bidirectional layer, the backward sequence re-aligned in time as Keras does, merged by
 * `concat`, `sum` or `ave`. Not representable, so refused: `return_state` (several layer outputs),
 * `stateful` (state kept across calls), and Keras masking (an Embedding with mask_zero before the
 * layer cannot be seen here; see the converter's docs).
 */
import { emit1, type Composer } from "../common/composite-math.js";
import { recurrentLayer, type Activation, type RecurrentKind } from "../common/composite-recurrent.js";
import { filled } from "../common/values.js";
import type { LayerCtx } from "./layer-context.js";
import type { LayerHandler } from "./layers.js";

/** Keras layer classes and the ONNX layer each is. */
const KINDS: Readonly<Record<string, RecurrentKind>> = { LSTM: "LSTM", GRU: "GRU", SimpleRNN: "RNN" };

/** For each ONNX gate (in ONNX's order), the Keras gate block that holds it. */
const KERAS_GATE: Readonly<Record<RecurrentKind, readonly number[]>> = { LSTM: [0, 3, 1, 2], GRU: [0, 1, 2], RNN: [0] };

/** Keras activation names (TF.js camelCase or Keras snake_case) as the composition's activations. */
function activationOf(name: string): Activation {
  switch (name.replace(/_/g, "").toLowerCase()) {
    case "tanh": return { name: "Tanh" };
    case "sigmoid": return { name: "Sigmoid" };
    case "hardsigmoid": return { name: "HardSigmoid", alpha: 0.2, beta: 0.5 };
    case "relu": return { name: "Relu" };
    case "linear": return { name: "Affine", alpha: 1, beta: 0 };
    case "softsign": return { name: "Softsign" };
    case "softplus": return { name: "Softplus" };
    case "elu": return { name: "Elu", alpha: 1 };
    default: throw new Error(`activation '${name}' is not supported in a recurrent layer (tanh, sigmoid, hard_sigmoid, relu, linear, softsign, softplus, elu are)`);
  }
}

/** The config of a recurrent layer, read through `get` (the layer's own or a wrapped one's). */
interface CellConfig {
  kind: RecurrentKind;
  units: number;
  returnSequences: boolean;
  goBackwards: boolean;
  useBias: boolean;
  activations: Activation[];
}

function cellConfig(className: string, ctx: LayerCtx, config: Record<string, unknown>): CellConfig {
  const kind = KINDS[className];
  if (!kind) throw new Error(`a wrapped ${className} layer is not supported (LSTM, GRU, SimpleRNN are)`);
  const get = (key: string, fallback: unknown) => config[key] ?? fallback;
  for (const key of ["return_state", "stateful"]) {
    if (get(key, false) === true) throw new Error(`${key}=true is not supported (${key === "stateful" ? "the state would persist across calls" : "a layer gives one output here"})`);
  }
  if (get("reset_after", false) === true) throw new Error("reset_after=true is not supported (TF.js has no such GRU either)");
  const name = (key: string, fallback: string) => {
    const v = get(key, fallback);
    if (typeof v === "string") return v;
    const cls = (v as { class_name?: unknown } | null)?.class_name;
    if (typeof cls !== "string") throw new Error(`config '${key}' of ${ctx.name} must name an activation`);
    return cls;
  };
  const act = activationOf(name("activation", "tanh"));
  const gate = kind === "RNN" ? undefined : activationOf(name("recurrent_activation", "hard_sigmoid"));
  return {
    kind,
    units: Number(get("units", NaN)),
    returnSequences: get("return_sequences", false) === true,
    goBackwards: get("go_backwards", false) === true,
    useBias: get("use_bias", true) !== false,
    activations: kind === "LSTM" ? [gate!, act, act] : kind === "GRU" ? [gate!, act] : [act],
  };
}

/** A Keras [rows, G*U] weight as ONNX's [1, G*U, rows] in ONNX gate order. */
function onnxWeight(c: Composer, kernel: string, cell: CellConfig): string {
  const transposed = emit1(c, "Transpose", [kernel], { perm: [1, 0] });
  const gates = KERAS_GATE[cell.kind];
  const blocks = gates.length === 1 ? [transposed] : c.op("Split", [transposed], { axis: 0, split: gates.map(() => cell.units) });
  const ordered = gates.length === 1 ? transposed : emit1(c, "Concat", gates.map((g) => blocks[g]), { axis: 0 });
  return emit1(c, "Unsqueeze", [ordered], { axes: [0] });
}

/** The Keras bias [G*U] as ONNX's [1, 2*G*U]: Wb in ONNX gate order, then a zero Rb. */
function onnxBias(c: Composer, bias: string, cell: CellConfig): string {
  const gates = KERAS_GATE[cell.kind];
  const blocks = gates.length === 1 ? [bias] : c.op("Split", [bias], { axis: 0, split: gates.map(() => cell.units) });
  const zero = c.constant("recurrent_bias", filled(c.guard, "float", [gates.length * cell.units], 0, "a zero recurrent bias"));
  return emit1(c, "Unsqueeze", [emit1(c, "Concat", [...gates.map((g) => blocks[g]), zero], { axis: 0 })], { axes: [0] });
}

/** One direction's ONNX weights from the Keras weights of layer `prefix` (relative to the layer). */
function directionWeights(c: Composer, ctx: LayerCtx, cell: CellConfig, prefix: string) {
  const w = (name: string) => ctx.b.tf(ctx.weight(`${prefix}${name}`));
  return {
    w: onnxWeight(c, w("kernel"), cell),
    r: onnxWeight(c, w("recurrent_kernel"), cell),
    b: cell.useBias ? onnxBias(c, w("bias"), cell) : undefined,
  };
}

/**
 * The layer on input [B, S, I]; `backwardPrefix` set for Bidirectional (forward weights under
 * `forwardPrefix`). Returns Y as [B, S, dirs, U] or the last states as [B, dirs, U].
 */
function unrolled(ctx: LayerCtx, cell: CellConfig, forwardPrefix: string, backwardPrefix?: string): string {
  const c = ctx.b.composer(ctx.name);
  const x = ctx.b.tf(ctx.input());
  const [batch, steps] = ctx.b.shape(ctx.input());
  const directions = [directionWeights(c, ctx, cell, forwardPrefix), ...(backwardPrefix ? [directionWeights(c, ctx, cell, backwardPrefix)] : [])];
  type Weights = (typeof directions)[number];
  const stack = (pick: (d: Weights) => string) => (directions.length === 1 ? pick(directions[0]) : emit1(c, "Concat", directions.map(pick), { axis: 0 }));
  const result = recurrentLayer(c, {
    kind: cell.kind,
    direction: backwardPrefix ? "bidirectional" : cell.goBackwards ? "reverse" : "forward",
    steps,
    batch,
    hidden: cell.units,
    x: emit1(c, "Transpose", [x], { perm: [1, 0, 2] }),
    w: stack((d) => d.w),
    r: stack((d) => d.r),
    b: cell.useBias ? stack((d) => d.b!) : undefined,
    activations: directions.map(() => cell.activations),
  });
  if (!cell.returnSequences) return emit1(c, "Transpose", [result.yH], { perm: [1, 0, 2] });
  const y = emit1(c, "Transpose", [emit1(c, result.y.kind, result.y.inputs, result.y.attrs)], { perm: [2, 0, 1, 3] });
  // go_backwards gives the outputs in processing order: the last time step first.
  return cell.goBackwards && !backwardPrefix ? emit1(c, "Slice", [y], { starts: [-1], ends: [-(steps + 1)], axes: [1], steps: [-1] }) : y;
}

/** LSTM, GRU and SimpleRNN layers. */
export const recurrent: LayerHandler = (ctx) => {
  const cell = cellConfig(ctx.className, ctx, ctx.config);
  const out = unrolled(ctx, cell, "");
  const [batch, steps] = ctx.b.shape(ctx.input());
  const c = ctx.b.composer(`${ctx.name}/output`);
  return ctx.b.value(emit1(c, "Reshape", [out], { shape: cell.returnSequences ? [batch, steps, cell.units] : [batch, cell.units] }));
};

/** Bidirectional(LSTM | GRU | SimpleRNN) with merge_mode concat, sum or ave. */
export const bidirectional: LayerHandler = (ctx) => {
  const inner = ctx.raw("layer") as { class_name?: string; config?: Record<string, unknown> } | undefined;
  if (!inner?.class_name || !inner.config) throw new Error("config 'layer' must hold the wrapped layer");
  const cell = cellConfig(inner.class_name, ctx, inner.config);
  if (cell.goBackwards) throw new Error("a wrapped layer with go_backwards=true is not supported");
  const mode = ctx.raw("merge_mode") ?? "concat";
  if (mode !== "concat" && mode !== "sum" && mode !== "ave") throw new Error(`merge_mode '${String(mode)}' is not supported (concat, sum, ave are)`);
  const innerName = String(inner.config.name ?? "");
  const out = unrolled(ctx, cell, `forward_${innerName}/`, `backward_${innerName}/`);
  const [batch, steps] = ctx.b.shape(ctx.input());
  const c = ctx.b.composer(`${ctx.name}/merge`);
  const lead = cell.returnSequences ? [batch, steps] : [batch];
  // The directions axis is the one before the units: [..., 2, U].
  if (mode === "concat") return ctx.b.value(emit1(c, "Reshape", [out], { shape: [...lead, 2 * cell.units] }));
  const axis = lead.length;
  return ctx.b.value(emit1(c, mode === "sum" ? "ReduceSum" : "ReduceMean", [out], { axes: [axis], keepdims: 0 }));
};
