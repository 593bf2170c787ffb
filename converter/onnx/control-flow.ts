/**
 * ONNX control flow that folds into a static graph: If, Loop and Scan, by inlining their body
 * graphs into the draft. If with a condition known at conversion time takes that branch; with a
 * run-time condition both branches are inlined and each output is a Where of the two (only when
 * the branches give outputs of one shape, and at the cost of computing both). Loop needs a trip
 * count and a condition that are constants at conversion time, iteration by iteration (a body
 * whose condition output is computed at run time is refused), and is unrolled; Scan is unrolled
 * over the static length of its scan inputs (opset 8's batch axis: per batch entry). Each inlined copy of a body gets fresh
 * value names: a body value is an alias of its copy's name while that copy is inlined, so the
 * body's nodes (and graphs nested in them) read the current iteration's values. The bodies'
 * nodes go through the same handlers as the main graph's.
 */
import type { onnx } from "onnx-proto";
import { normAxis } from "../../lib/tensor/shape.js";
import type { DraftBuilder } from "../common/draft.js";
import { scalar, toInts, toScalar } from "../common/values.js";
import { NodeCtx } from "./context.js";
import type { Handler } from "./handlers.js";
import { ONNX_OPS } from "./ops.js";
import { ExternalData, tensorValue } from "./proto.js";

type GraphProto = onnx.IGraphProto;

/** Largest number of inlined body copies per node: each copy adds all of the body's nodes. */
const MAX_UNROLLED_ITERATIONS = 4096;

/**
 * What the handlers of body nodes need from the node being translated: its draft, alias table,
 * used-value set and external-data reader. NodeCtx keeps these private; control flow is the one
 * handler that creates NodeCtx objects of its own.
 */
interface Scope {
  db: DraftBuilder;
  aliases: Map<string, string>;
  used: ReadonlySet<string>;
  external: ExternalData;
}

const scopeOf = (n: NodeCtx): Scope => n as unknown as Scope;

/** The graph attribute `name` of the node. */
function graphAttr(n: NodeCtx, name: string): GraphProto {
  const attr = (n.node.attribute ?? []).find((a) => a.name === name);
  if (!attr?.g) throw new Error(`attribute '${name}' (a graph) is required`);
  return attr.g;
}

/** Refuse a body with ops that have no handler, listing them like the main graph's check. */
function checkBody(body: GraphProto, what: string): void {
  const missing = (body.node ?? []).filter((node) => (node.domain && node.domain !== "ai.onnx") || !Object.hasOwn(ONNX_OPS, node.opType ?? ""));
  if (missing.length) throw new Error(`the ${what} uses unsupported ONNX ops: ${missing.map((node) => `${node.opType} (node '${node.name || node.opType}')`).join(", ")}`);
}

/**
 * Inline one copy of `body`: its inputs are the draft values `bound` (in order), its nodes are
 * translated under fresh names prefixed by `prefix`. Returns the draft values of its outputs.
 */
function inline(n: NodeCtx, body: GraphProto, bound: string[], prefix: string): string[] {
  const { db, aliases, external } = scopeOf(n);
  const inputs = body.input ?? [];
  if (inputs.length !== bound.length) throw new Error(`the body graph has ${inputs.length} inputs, ${bound.length} are given`);
  inputs.forEach((v, i) => aliases.set(v.name ?? "", bound[i]));
  for (const t of body.initializer ?? []) {
    const value = tensorValue(t, external, `initializer '${t.name}' of a body graph`);
    aliases.set(t.name ?? "", db.constant(db.fresh(`${prefix}/${t.name}`), value));
  }
  const nodes = body.node ?? [];
  const read = new Set([...nodes.flatMap((node) => node.input ?? []), ...(body.output ?? []).map((o) => o.name ?? "")]);
  nodes.forEach((node, i) => {
    const name = `${prefix}/${node.name || `${node.opType}_${i}`}`;
    const outputs = (node.output ?? []).map((o) => (o === "" ? "" : db.fresh(`${prefix}/${o}`)));
    const used = new Set(outputs.filter((o, k) => o !== "" && read.has(node.output![k])));
    const copy: onnx.INodeProto = { ...node, output: outputs };
    try {
      ONNX_OPS[node.opType ?? ""](new NodeCtx(copy, name, n.opset, db, aliases, used, external));
    } catch (e) {
      throw new Error(`node '${name}' (${node.opType}): ${(e as Error).message}`);
    }
    // The body's name now means this copy's value (through the copy's own alias, if it became one).
    (node.output ?? []).forEach((o, k) => o !== "" && aliases.set(o, aliases.get(outputs[k]) ?? outputs[k]));
  });
  return (body.output ?? []).map((o) => {
    const value = aliases.get(o.name ?? "") ?? o.name ?? "";
    if (!db.has(value)) throw new Error(`output '${o.name}' of the body graph is not computed`);
    return value;
  });
}

const shapeOf = (n: NodeCtx, v: string): readonly number[] => scopeOf(n).db.typeOf(v).shape;

/** Output i of the node is draft value `v`. */
function bindOutput(n: NodeCtx, i: number, v: string): void {
  if (i < n.outputs.length && n.outputs[i] !== "") n.alias(i, v);
}

/** Stack per-iteration values [...] into [count, ...] (the new axis at `axis`). */
function stack(n: NodeCtx, values: string[], axis: number): string {
  const rank = shapeOf(n, values[0]).length + 1;
  const a = normAxis(axis, rank);
  const parts = values.map((v) => n.emit("Unsqueeze", [v], { axes: [a] })[0]);
  return parts.length === 1 ? parts[0] : n.emit("Concat", parts, { axis: a })[0];
}

/** If: the branch of a constant condition, or a Where of both branches of same-shaped outputs. */
export const ifHandler: Handler = (n) => {
  const thenBranch = graphAttr(n, "then_branch");
  const elseBranch = graphAttr(n, "else_branch");
  const cond = n.constant(0);
  if (cond) {
    const taken = toScalar(cond, "input 0 (cond)") !== 0 ? thenBranch : elseBranch;
    checkBody(taken, "branch");
    return inline(n, taken, [], `${n.name}/${taken === thenBranch ? "then" : "else"}`).forEach((v, i) => bindOutput(n, i, v));
  }
  checkBody(thenBranch, "then branch");
  checkBody(elseBranch, "else branch");
  const whenTrue = inline(n, thenBranch, [], `${n.name}/then`);
  const whenFalse = inline(n, elseBranch, [], `${n.name}/else`);
  whenTrue.forEach((v, i) => {
    const [a, b] = [shapeOf(n, v), shapeOf(n, whenFalse[i])];
    if (a.join(",") !== b.join(",")) {
      throw new Error(`a condition computed at run time is only supported when both branches give outputs of one shape (output ${i}: [${a.join(",")}] and [${b.join(",")}])`);
    }
    bindOutput(n, i, n.emit("Where", [n.input(0), v, whenFalse[i]])[0]);
  });
};

/**
 * Loop(M, cond, v_initial...): body(iteration_num, cond, v...) -> (cond, v..., scan outputs...),
 * inlined until M iterations or a false condition; without M, the condition must turn false
 * within the unrolling limit.
 */
export const loop: Handler = (n) => {
  const body = graphAttr(n, "body");
  checkBody(body, "loop body");
  const maxTrips = n.hasInput(0) ? toScalar(n.requireConst(0, "M, the trip count"), "input 0 (M)") : Infinity;
  let running = n.hasInput(1) ? toScalar(n.requireConst(1, "cond"), "input 1 (cond)") !== 0 : true;
  let carried = n.inputs().slice(2);
  const scans: string[][] = [];
  let trips = 0;
  for (; running && trips < maxTrips; trips++) {
    if (trips >= MAX_UNROLLED_ITERATIONS) throw new Error(`a loop of more than ${MAX_UNROLLED_ITERATIONS} iterations is not supported (it is unrolled)`);
    const iteration = n.addConst(`iteration_${trips}`, scalar("int", trips));
    const flag = n.addConst(`cond_${trips}`, scalar("bool", 1));
    const [condOut, ...rest] = inline(n, body, [iteration, flag, ...carried], `${n.name}/${trips}`);
    const known = scopeOf(n).db.constOf(condOut);
    if (!known) throw new Error(`the loop condition is computed at run time in iteration ${trips}: only loops whose trip count is known at conversion time are supported (they are unrolled)`);
    running = toScalar(known, "the body's condition") !== 0;
    carried = rest.slice(0, carried.length);
    rest.slice(carried.length).forEach((v, k) => (scans[k] ??= []).push(v));
  }
  carried.forEach((v, i) => bindOutput(n, i, v));
  const scanCount = (body.output ?? []).length - 1 - carried.length;
  for (let k = 0; k < scanCount; k++) {
    if (!scans[k]) throw new Error("a loop that runs zero times with scan outputs is not supported (they would be empty tensors)");
    bindOutput(n, carried.length + k, stack(n, scans[k], 0));
  }
};

/**
 * One scan over `steps` steps: the scan inputs are sliced along their axes (reversed ones from
 * the end), the body inlined per step. Returns the final states and each scan output's values.
 */
function unrollScan(n: NodeCtx, body: GraphProto, states: string[], scanInputs: string[], axes: number[], reverse: number[], steps: number, prefix: string): { states: string[]; outputs: string[][] } {
  const outputs: string[][] = [];
  for (let t = 0; t < steps; t++) {
    const slices = scanInputs.map((v, k) => {
      const at = reverse[k] ? steps - 1 - t : t;
      return n.emit("Gather", [v, n.addConst(`step_${at}`, scalar("int", at))], { axis: axes[k] })[0];
    });
    const results = inline(n, body, [...states, ...slices], `${prefix}/${t}`);
    states = results.slice(0, states.length);
    results.slice(states.length).forEach((v, k) => (outputs[k] ??= []).push(v));
  }
  return { states, outputs };
}

/** The common length of the scan inputs along their scan axes, within the unrolling limit. */
function scanLength(lengths: number[]): number {
  if (lengths.some((l) => l !== lengths[0])) throw new Error(`scan inputs of different lengths [${lengths.join(",")}] are not valid`);
  const steps = lengths[0] ?? 0;
  if (steps < 1) throw new Error("a scan of length 0 is not supported (its scan outputs would be empty tensors)");
  if (steps > MAX_UNROLLED_ITERATIONS) throw new Error(`a scan of ${steps} steps is not supported (at most ${MAX_UNROLLED_ITERATIONS}: it is unrolled)`);
  return steps;
}

/**
 * Scan: states and scan inputs sliced along their scan axes, unrolled. Opset 8 has a batch axis
 * first on every input and output and an optional sequence_lens (input 0), supported when it is
 * absent or a constant equal to the full length: each batch entry is scanned on its own.
 */
export const scan: Handler = (n) => {
  const body = graphAttr(n, "body");
  checkBody(body, "scan body");
  const scanCount = n.int("num_scan_inputs");
  const first = n.opset < 9 ? 1 : 0;
  const stateCount = n.inputCount - first - scanCount;
  const inputs = n.inputs().slice(first);
  if (n.opset < 9) return batchedScan(n, body, inputs.slice(0, stateCount), inputs.slice(stateCount));
  const inputAxes = n.ints("scan_input_axes", new Array<number>(scanCount).fill(0)).map((a, k) => normAxis(a, n.rank(stateCount + k)));
  const steps = scanLength(inputAxes.map((a, k) => n.shape(stateCount + k)[a]));
  const reverse = n.ints("scan_input_directions", new Array<number>(scanCount).fill(0));
  const result = unrollScan(n, body, inputs.slice(0, stateCount), inputs.slice(stateCount), inputAxes, reverse, steps, n.name);
  result.states.forEach((v, i) => bindOutput(n, i, v));
  const outAxes = n.ints("scan_output_axes", new Array<number>(result.outputs.length).fill(0));
  const outReverse = n.ints("scan_output_directions", new Array<number>(result.outputs.length).fill(0));
  result.outputs.forEach((values, k) => bindOutput(n, stateCount + k, stack(n, outReverse[k] ? [...values].reverse() : values, outAxes[k])));
};

/** Opset-8 Scan: inputs [B, ...] (scan inputs [B, S, ...]), scanned per batch entry and stacked. */
function batchedScan(n: NodeCtx, body: GraphProto, states: string[], scanInputs: string[]): void {
  const all = [...states, ...scanInputs];
  const batch = shapeOf(n, all[0])[0];
  const steps = scanLength(scanInputs.map((v) => shapeOf(n, v)[1]));
  const lengths = n.constant(0);
  if (n.hasInput(0) && !(lengths && toInts(lengths, "input 0 (sequence_lens)").every((l) => l === steps))) {
    throw new Error("sequence_lens other than the full length for every batch entry is not supported");
  }
  const reverse = n.ints("directions", new Array<number>(scanInputs.length).fill(0));
  const perBatch = Array.from({ length: batch }, (_, b) => {
    const entry = (v: string) => n.emit("Gather", [v, n.addConst(`batch_${b}`, scalar("int", b))], { axis: 0 })[0];
    return unrollScan(n, body, states.map(entry), scanInputs.map(entry), scanInputs.map(() => 0), reverse, steps, `${n.name}/${b}`);
  });
  states.forEach((_, i) => bindOutput(n, i, stack(n, perBatch.map((r) => r.states[i]), 0)));
  perBatch[0].outputs.forEach((_, k) => bindOutput(n, states.length + k, stack(n, perBatch.map((r) => stack(n, r.outputs[k], 0)), 0)));
}
