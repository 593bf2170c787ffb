/**
 * ONNX LSTM, GRU and RNN: read the node's attributes and operands (layout 0 or 1, directions,
 * activations with their alpha/beta lists, clip, GRU's linear_before_reset, sequence_lens,
 * initial states, LSTM peepholes) and hand the layer, in layout 0, to the unrolled composition of
 * converter/common/composite-recurrent.ts. Layout 1 is two Transposes around it. The sequence and
 * batch lengths come from X's static shape; sequence_lens may be a constant or a run-time input
 * (a constant equal to S everywhere is dropped). LSTM's `input_forget` (coupled input and forget
 * gates) is refused: ONNX Runtime does not implement it either, so there is no oracle.
 */
import { materialize } from "../common/composite-math.js";
import { activationList, DEFAULT_ACTIVATIONS, GATES, recurrentLayer, type Direction, type RecurrentKind } from "../common/composite-recurrent.js";
import { toInts } from "../common/values.js";
import type { NodeCtx } from "./context.js";
import { composer } from "./composite-shared.js";
import type { Handler } from "./handlers.js";
import { attrValue } from "./proto.js";

const DIRECTIONS: readonly Direction[] = ["forward", "reverse", "bidirectional"];

/** ONNX input positions (initial_c and P are LSTM's only). */
const INPUT = { x: 0, w: 1, r: 2, b: 3, lengths: 4, initialH: 5, initialC: 6, p: 7 } as const;

/** The `activations` attribute (a list of strings, which NodeCtx has no getter for). */
function activationNames(n: NodeCtx): string[] {
  const attr = (n.node.attribute ?? []).find((a) => a.name === "activations");
  const value = attr ? attrValue(attr) : [];
  if (!Array.isArray(value) || !value.every((v) => typeof v === "string")) throw new Error("attribute 'activations' must be a list of strings");
  return value as string[];
}

/** The handler of ONNX `kind` (LSTM, GRU or RNN). */
export function recurrent(kind: RecurrentKind): Handler {
  return (n: NodeCtx) => {
    const c = composer(n);
    const direction = n.string("direction", "forward") as Direction;
    if (!DIRECTIONS.includes(direction)) throw new Error(`direction '${direction}' is not supported (forward, reverse, bidirectional are)`);
    const dirs = direction === "bidirectional" ? 2 : 1;
    const layout = n.int("layout", 0);
    if (layout !== 0 && layout !== 1) throw new Error(`layout ${layout} is not supported (0 and 1 are)`);
    if (kind === "LSTM" && n.int("input_forget", 0) !== 0) throw new Error("input_forget=1 (coupled input and forget gates) is not supported");
    const xShape = n.shape(INPUT.x);
    if (xShape.length !== 3) throw new Error(`X of rank ${xShape.length} is not supported (rank 3 is)`);
    const [steps, batch] = layout === 0 ? xShape : [xShape[1], xShape[0]];
    const rShape = n.shape(INPUT.r);
    const hidden = n.int("hidden_size", rShape[2]);
    if (rShape[2] !== hidden || rShape[1] !== GATES[kind] * hidden || rShape[0] !== dirs) {
      throw new Error(`R of shape [${rShape.join(",")}] does not match hidden_size ${hidden} with ${dirs} direction(s)`);
    }
    const names = activationNames(n);
    const perDirection = DEFAULT_ACTIVATIONS[kind].length;
    if (names.length && names.length !== perDirection * dirs) throw new Error(`${names.length} activations given, ${kind} needs ${perDirection * dirs}`);
    const all = activationList(names.length ? names : Array.from({ length: dirs }, () => DEFAULT_ACTIVATIONS[kind]).flat(), n.floats("activation_alpha", []), n.floats("activation_beta", []));
    const activations = Array.from({ length: dirs }, (_, d) => all.slice(d * perDirection, (d + 1) * perDirection));

    // Layout 1 holds batch-major tensors: X [B, S, I] and states [B, dirs, H].
    const toLayout0 = (v: string, perm: number[]) => (layout === 0 ? v : c.op("Transpose", [v], { perm })[0]);
    const optional = (i: number) => (n.hasInput(i) ? n.input(i) : undefined);
    const state = (i: number) => (n.hasInput(i) ? toLayout0(n.input(i), [1, 0, 2]) : undefined);
    const lengths = n.constant(INPUT.lengths);
    const fullLength = lengths !== undefined && toInts(lengths, "input 4 (sequence_lens)").every((v) => v === steps);

    const result = recurrentLayer(c, {
      kind,
      direction,
      steps,
      batch,
      hidden,
      x: toLayout0(n.input(INPUT.x), [1, 0, 2]),
      w: n.input(INPUT.w),
      r: n.input(INPUT.r),
      b: optional(INPUT.b),
      p: kind === "LSTM" ? optional(INPUT.p) : undefined,
      lengths: fullLength ? undefined : optional(INPUT.lengths),
      initialH: state(INPUT.initialH),
      initialC: kind === "LSTM" ? state(INPUT.initialC) : undefined,
      activations,
      clip: n.has("clip") ? n.float("clip") : undefined,
      linearBeforeReset: kind === "GRU" && n.int("linear_before_reset", 0) === 1,
    });
    // Y [S, dirs, B, H] (layout 1: [B, S, dirs, H]); Y_h and Y_c [dirs, B, H] (layout 1: [B, dirs, H]).
    if (layout === 0) n.finish(result.y.kind, result.y.inputs, result.y.attrs, undefined, 1);
    else n.finish("Transpose", [materialize(c, result.y)], { perm: [2, 0, 1, 3] }, undefined, 1);
    const states = [result.yH, ...(result.yC ? [result.yC] : [])];
    states.forEach((v, i) => {
      if (n.outputs.length > i + 1 && n.outputs[i + 1] !== "") n.alias(i + 1, layout === 0 ? v : c.op("Transpose", [v], { perm: [1, 0, 2] })[0]);
    });
  };
}
