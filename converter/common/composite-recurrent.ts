/**
 * Recurrent layers (ONNX LSTM, GRU and RNN; the TF.js layers map onto the same description) as
 * compositions of IR ops, unrolled over the static sequence length: detml graphs are static, so a
 * recurrence of S steps becomes S copies of the cell. Per direction, the input projection of every
 * step is one Gemm over all S * B rows (X W^T + bias, one rounding); each step then adds the
 * recurrent projection H R^T with a Gemm whose C operand is that step's slice (one more rounding),
 * splits the gates, applies the activations and combines the states with Mul/Add/Sub. Everything
 * follows the ONNX operator definitions (gate orders iofc for LSTM, zrh for GRU; peepholes iof;
 * `clip` on every gate pre-activation; GRU's `linear_before_reset`). Per-sequence lengths are a
 * 0/1 mask per step (Greater(lens, t)): past its length a sequence keeps its state and writes
 * zeros to Y, which is also what the reverse direction needs, since it then starts from the
 * initial state at the sequence's own last step. The error is that of the ops used: each gate
 * pre-activation is rounded twice at Q16 (the two Gemms), every activation once, each product of
 * the state update once; the Where/Split/Concat/Reshape plumbing is exact.
 */
import { filled, scalar } from "./values.js";
import { emit1, intConst, materialize, realConst, softplus, softsign, thresholdedRelu, type Composer, type FinalOp, type Operand } from "./composite-math.js";

export type RecurrentKind = "LSTM" | "GRU" | "RNN";
export type Direction = "forward" | "reverse" | "bidirectional";

/** An activation function by its ONNX name, with its alpha/beta where it has them. */
export interface Activation {
  name: string;
  alpha?: number;
  beta?: number;
}

/** Gates per cell: the row blocks of W, R and each half of B. */
export const GATES: Readonly<Record<RecurrentKind, number>> = { LSTM: 4, GRU: 3, RNN: 1 };

/** Activations per direction and their ONNX defaults. */
export const DEFAULT_ACTIVATIONS: Readonly<Record<RecurrentKind, readonly string[]>> = {
  LSTM: ["Sigmoid", "Tanh", "Tanh"],
  GRU: ["Sigmoid", "Tanh"],
  RNN: ["Tanh"],
};

/** ONNX defaults of the activations' parameters, and which of them each activation reads. */
const ACTIVATION_PARAMS: Readonly<Record<string, { alpha?: number; beta?: number }>> = {
  relu: {}, tanh: {}, sigmoid: {}, softsign: {}, softplus: {},
  affine: { alpha: 1, beta: 0 },
  leakyrelu: { alpha: 0.01 },
  thresholdedrelu: { alpha: 1 },
  scaledtanh: { alpha: 1, beta: 1 },
  hardsigmoid: { alpha: 0.2, beta: 0.5 },
  elu: { alpha: 1 },
};

/**
 * The activation list of a node from its names and the flat `activation_alpha`/`activation_beta`
 * lists, which ONNX Runtime consumes in order, one value per activation that takes it.
 */
export function activationList(names: readonly string[], alphas: readonly number[], betas: readonly number[]): Activation[] {
  let [a, b] = [0, 0];
  return names.map((name) => {
    const params = ACTIVATION_PARAMS[name.toLowerCase()];
    if (!params) throw new Error(`activation '${name}' is not supported (supported: Relu, Tanh, Sigmoid, Affine, LeakyRelu, ThresholdedRelu, ScaledTanh, HardSigmoid, Elu, Softsign, Softplus)`);
    return {
      name,
      ...(params.alpha !== undefined ? { alpha: alphas[a++] ?? params.alpha } : {}),
      ...(params.beta !== undefined ? { beta: betas[b++] ?? params.beta } : {}),
    };
  });
}

/** One recurrent layer in ONNX's conventions (layout 0). Names are draft values. */
export interface RecurrentLayer {
  kind: RecurrentKind;
  direction: Direction;
  /** S, B, I, H. */
  steps: number;
  batch: number;
  hidden: number;
  /** [S, B, I]. */
  x: string;
  /** [dirs, G*H, I], [dirs, G*H, H], optional [dirs, 2*G*H] (Wb then Rb), LSTM peepholes [dirs, 3*H] (i, o, f). */
  w: string;
  r: string;
  b?: string;
  p?: string;
  /** [B] lengths (int), absent when every sequence has the full length S. */
  lengths?: string;
  /** [dirs, B, H]. */
  initialH?: string;
  initialC?: string;
  /** Per direction, DEFAULT_ACTIVATIONS[kind].length activations. */
  activations: Activation[][];
  /** Bound on the gate pre-activations (|v| <= clip), or undefined. */
  clip?: number;
  /** GRU: apply the reset gate after the recurrent projection (and its bias). */
  linearBeforeReset?: boolean;
}

export interface RecurrentResult {
  /** Y [S, dirs, B, H] as the final op of the composition. */
  y: FinalOp;
  /** Y_h [dirs, B, H] and (LSTM) Y_c [dirs, B, H]. */
  yH: string;
  yC?: string;
}

/** Longest sequence unrolled: each step adds a copy of the cell (about 15 ops) to the graph. */
const MAX_STEPS = 4096;

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

/** Apply an activation to a [B, H] value. */
function activate(c: Composer, f: Activation, x: string, shape: readonly number[]): string {
  // Softsign, Softplus and ThresholdedRelu read only the operand's name (its frac is not used).
  const operand: Operand = { name: x, shape, dtype: "float", frac: 0 };
  switch (f.name.toLowerCase()) {
    case "sigmoid": return emit1(c, "Sigmoid", [x]);
    case "tanh": return emit1(c, "Tanh", [x]);
    case "relu": return emit1(c, "Relu", [x]);
    case "leakyrelu": return emit1(c, "LeakyRelu", [x], { alpha: f.alpha! });
    case "hardsigmoid": return emit1(c, "HardSigmoid", [x], { alpha: f.alpha!, beta: f.beta! });
    case "elu": return emit1(c, "Elu", [x], { alpha: f.alpha! });
    case "affine": return emit1(c, "Add", [emit1(c, "Mul", [x, realConst(c, "affine_alpha", f.alpha!)]), realConst(c, "affine_beta", f.beta!)]);
    case "scaledtanh": {
      const inner = emit1(c, "Tanh", [emit1(c, "Mul", [x, realConst(c, "scaled_tanh_beta", f.beta!)])]);
      return emit1(c, "Mul", [inner, realConst(c, "scaled_tanh_alpha", f.alpha!)]);
    }
    case "softsign": return materialize(c, softsign(c, operand));
    case "softplus": return materialize(c, softplus(c, operand));
    case "thresholdedrelu": return materialize(c, thresholdedRelu(c, operand, f.alpha!));
    default: throw new Error(`activation '${f.name}' is not supported`);
  }
}

/** The per-direction slice [rows...] of a [dirs, ...] operand. */
function direction(c: Composer, v: string, d: number): string {
  return emit1(c, "Gather", [v, intConst(c, `direction_${d}`, d)], { axis: 0 });
}

/** Value `v` cut along `axis` into consecutive parts of the given sizes (itself for one part). */
function split(c: Composer, v: string, axis: number, sizes: number[]): string[] {
  return sizes.length === 1 ? [v] : c.op("Split", [v], { axis, split: sizes });
}

/** One direction of the layer: the per-step hidden states (in time order), and the last H and C. */
function runDirection(c: Composer, L: RecurrentLayer, d: number, reverse: boolean): { ys: string[]; h: string; cell?: string } {
  const { steps: S, batch: B, hidden: H } = L;
  const G = GATES[L.kind];
  const state = [B, H];
  const w = direction(c, L.w, d);
  const r = direction(c, L.r, d);
  const [wb, rb] = L.b ? split(c, direction(c, L.b, d), 0, [G * H, G * H]) : [undefined, undefined];
  // GRU with linear_before_reset keeps Rb_h inside the reset product; every other bias is constant per gate.
  const resetBias = L.kind === "GRU" && L.linearBeforeReset;
  let inputBias: string | undefined;
  let recurrentBias: string | undefined;
  if (wb && rb) {
    inputBias = resetBias ? wb : emit1(c, "Add", [wb, rb]);
    recurrentBias = resetBias ? rb : undefined;
  }
  // Input projection of all steps at once: [S * B, I] x W^T + bias.
  const flatX = emit1(c, "Reshape", [L.x], { shape: [S * B, -1] });
  const projected = emit1(c, "Gemm", [flatX, w, ...(inputBias ? [inputBias] : [])], { transB: 1 });
  const perStep = S === 1 ? [projected] : split(c, emit1(c, "Reshape", [projected], { shape: [S, B, G * H] }), 0, new Array<number>(S).fill(1));
  const xw = perStep.map((v) => (S === 1 ? v : emit1(c, "Reshape", [v], { shape: [B, G * H] })));
  const [pi, po, pf] = L.p ? split(c, direction(c, L.p, d), 0, [H, H, H]) : [];
  const [f, g, h] = L.activations[d];
  const clip = (v: string) => (L.clip === undefined ? v : emit1(c, "Clip", [v], { min: -L.clip, max: L.clip }));
  const act = (fn: Activation, v: string) => activate(c, fn, clip(v), state);
  // GRU without linear_before_reset multiplies the reset gate into H before R_h: R split by rows.
  const [rZr, rH] = L.kind === "GRU" && !L.linearBeforeReset ? split(c, r, 0, [2 * H, H]) : [];

  // Without initial states the first step reads zeros (a constant: the Gemm still runs once).
  const zeros = (what: string) => c.constant(what, filled(c.guard, "float", state, 0, `the ${what}`));
  let hPrev = L.initialH ? direction(c, L.initialH, d) : zeros("initial_h");
  let cPrev = L.kind !== "LSTM" ? "" : L.initialC ? direction(c, L.initialC, d) : zeros("initial_c");
  const zero = c.constant("zero", scalar("float", 0));
  const ys = new Array<string>(S);
  for (const t of reverse ? range(S).reverse() : range(S)) {
    let hNew: string;
    let cNew = "";
    if (L.kind === "GRU" && !L.linearBeforeReset) {
      const [xwZr, xwH] = split(c, xw[t], 1, [2 * H, H]);
      const [z, rGate] = split(c, emit1(c, "Gemm", [hPrev, rZr, xwZr], { transB: 1 }), 1, [H, H]).map((v) => act(f, v));
      const candidate = emit1(c, "Gemm", [emit1(c, "Mul", [rGate, hPrev]), rH, xwH], { transB: 1 });
      hNew = gruUpdate(c, z, act(g, candidate), hPrev);
    } else if (L.kind === "GRU") {
      // linear_before_reset: h~ = g(xw_h + r * (H R_h^T + Rb_h)).
      const [xz, xr, xh] = split(c, xw[t], 1, [H, H, H]);
      const [hz, hr, hh] = split(c, emit1(c, "Gemm", [hPrev, r, ...(recurrentBias ? [recurrentBias] : [])], { transB: 1 }), 1, [H, H, H]);
      const z = act(f, emit1(c, "Add", [xz, hz]));
      const rGate = act(f, emit1(c, "Add", [xr, hr]));
      hNew = gruUpdate(c, z, act(g, emit1(c, "Add", [xh, emit1(c, "Mul", [rGate, hh])])), hPrev);
    } else {
      const gates = emit1(c, "Gemm", [hPrev, r, xw[t]], { transB: 1 });
      if (L.kind === "RNN") hNew = act(f, gates);
      else {
        const [gi, go, gf, gc] = split(c, gates, 1, [H, H, H, H]);
        const peep = (v: string, p: string | undefined, cell: string) => (p ? emit1(c, "Add", [v, emit1(c, "Mul", [cell, p])]) : v);
        const i = act(f, peep(gi, pi, cPrev));
        const forget = act(f, peep(gf, pf, cPrev));
        cNew = emit1(c, "Add", [emit1(c, "Mul", [forget, cPrev]), emit1(c, "Mul", [i, act(g, gc)])]);
        const o = act(f, peep(go, po, cNew));
        hNew = emit1(c, "Mul", [o, activate(c, h, cNew, state)]);
      }
    }
    if (L.lengths) {
      // Past its length a sequence keeps its state and outputs zeros.
      const valid = emit1(c, "Reshape", [emit1(c, "Greater", [L.lengths, intConst(c, `step_${t}`, t)], {}, "int")], { shape: [B, 1] }, "int");
      ys[t] = emit1(c, "Where", [valid, hNew, zero]);
      hNew = emit1(c, "Where", [valid, hNew, hPrev]);
      if (cNew) cNew = emit1(c, "Where", [valid, cNew, cPrev]);
    } else {
      ys[t] = hNew;
    }
    hPrev = hNew;
    cPrev = cNew;
  }
  return { ys, h: hPrev, cell: cPrev };
}

/** GRU state update H = (1 - z) h~ + z H_prev, written h~ + z (H_prev - h~): one rounding. */
function gruUpdate(c: Composer, z: string, candidate: string, hPrev: string): string {
  return emit1(c, "Add", [candidate, emit1(c, "Mul", [z, emit1(c, "Sub", [hPrev, candidate])])]);
}

/** Stack per-direction [B, H] values into [dirs, B, H]. */
function stack(c: Composer, values: string[], B: number, H: number): string {
  const views = values.map((v) => emit1(c, "Reshape", [v], { shape: [1, B, H] }));
  return views.length === 1 ? views[0] : emit1(c, "Concat", views, { axis: 0 });
}

/** Unroll the layer; see the file comment. */
export function recurrentLayer(c: Composer, L: RecurrentLayer): RecurrentResult {
  if (L.steps < 1) throw new Error(`a sequence of length ${L.steps} is not supported (at least one step is)`);
  if (L.steps > MAX_STEPS) throw new Error(`a sequence of ${L.steps} steps is not supported (at most ${MAX_STEPS}: the layer is unrolled, one cell per step)`);
  const dirs = L.direction === "bidirectional" ? [false, true] : [L.direction === "reverse"];
  const runs = dirs.map((reverse, d) => runDirection(c, L, d, reverse));
  const { steps: S, batch: B, hidden: H } = L;
  // Y in (t, direction) order as [S * dirs, B, H] viewed as [S, dirs, B, H].
  const views = range(S).flatMap((t) => runs.map((run) => emit1(c, "Reshape", [run.ys[t]], { shape: [1, B, H] })));
  const joined = views.length === 1 ? views[0] : emit1(c, "Concat", views, { axis: 0 });
  return {
    y: { kind: "Reshape", inputs: [joined], attrs: { shape: [S, runs.length, B, H] } },
    yH: stack(c, runs.map((run) => run.h), B, H),
    ...(L.kind === "LSTM" ? { yC: stack(c, runs.map((run) => run.cell!), B, H) } : {}),
  };
}
