/**
 * The ONNX ops of evaluation graphs, as exact compositions of detml ops (no new kernel):
 * NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss (reductions none/sum/mean, ignore_index,
 * class weights; SCE's optional log_prob output), and LayerNormalization with its Mean and
 * InvStdDev outputs. The run-time class labels select their class by a one-hot mask
 * (Equal of the labels against the constant class indices 0..C-1), so selecting is exact and no
 * index ever leaves its range: an ignored label becomes -1, which matches no class, and its loss
 * and weight are exact zeros (ONNX's rule). Only the weighted product (Mul, one rounding), the
 * sums (exact) and mean's one division (Div, one rounding) round; a mean over nothing but ignored
 * labels is 0/0, which is 0 in detml (docs/numerics.md) where float gives NaN.
 */
import { constValue, scalar } from "../common/values.js";
import type { NodeCtx } from "./context.js";
import type { Handler } from "./handlers.js";

const REDUCTIONS = ["none", "sum", "mean"];

/** The constant class indices 0..C-1 shaped [1, C, 1, ...] to broadcast against [N, 1, d1...]. */
function classIndices(n: NodeCtx, classes: number, rank: number): string {
  const shape = [1, classes, ...new Array<number>(rank - 2).fill(1)];
  return n.addConst("classes", constValue("int", shape, Array.from({ length: classes }, (_, c) => c)));
}

/** A per-class vector [C] as [1, C, 1, ...]. */
function perClass(n: NodeCtx, value: string, classes: number, rank: number): string {
  return n.emit("Reshape", [value], { shape: [1, classes, ...new Array<number>(rank - 2).fill(1)] })[0];
}

/**
 * The loss of log-probabilities `logProb` [N, C, d1...] (ONNX input index 0's shape) for labels
 * input `labelInput` and optional weights input `weightInput`, written to output 0 of the node.
 */
function negativeLogLikelihood(n: NodeCtx, logProb: string, labelInput: number, weightInput: number): void {
  const reduction = n.string("reduction", "mean");
  if (!REDUCTIONS.includes(reduction)) throw new Error(`reduction '${reduction}' is not one of ${REDUCTIONS.join(", ")}`);
  const shape = n.shape(0);
  if (shape.length < 2) throw new Error(`input of rank ${shape.length} has no class axis (the input must be [N, C, d1...])`);
  const [classes, rank] = [shape[1], shape.length];
  let labels = n.input(labelInput);
  if (n.has("ignore_index")) {
    // An ignored label becomes -1, which no class index equals: its row of the mask is all zero.
    const [ignored] = n.emit("Equal", [labels, n.addConst("ignore_index", scalar("int", n.int("ignore_index")))], {}, "bool");
    [labels] = n.emit("Where", [ignored, n.addConst("no_class", scalar("int", -1)), labels], {}, "int");
  }
  const [column] = n.emit("Unsqueeze", [labels], { axes: [1] });
  const [mask] = n.emit("Equal", [column, classIndices(n, classes, rank)], {}, "bool");
  const zero = n.addConst("zero", scalar("int", 0));
  const weights = n.hasInput(weightInput) ? perClass(n, n.input(weightInput), classes, rank) : undefined;
  const [weighted] = weights ? n.emit("Mul", [logProb, weights]) : [logProb];
  const [picked] = n.emit("Where", [mask, weighted, zero]);
  const [selected] = n.emit("ReduceSum", [picked], { axes: [1], keepdims: 0 });
  if (reduction === "none") return n.finish("Neg", [selected], {}, undefined, 1);
  const [negated] = n.emit("Neg", [selected]);
  const everyAxis = Array.from({ length: rank - 1 }, (_, i) => i);
  if (reduction === "sum") return n.finish("ReduceSum", [negated], { axes: everyAxis, keepdims: 0 }, undefined, 1);
  // mean: the sum of the losses over the sum of the selected weights (the count without weights).
  const [total] = n.emit("ReduceSum", [negated], { axes: everyAxis, keepdims: 0 });
  const [chosen] = n.emit("Where", [mask, weights ?? n.addConst("one", scalar("int", 1)), zero], {}, weights ? "float" : "int");
  const [weightSum] = n.emit("ReduceSum", [chosen], { axes: [...everyAxis, rank - 1], keepdims: 0 });
  n.finish("Div", [total, weightSum], {}, undefined, 1);
}

/** NegativeLogLikelihoodLoss(input, target, weight?). */
export const negativeLogLikelihoodLoss: Handler = (n) => negativeLogLikelihood(n, n.input(0), 1, 2);

/** SoftmaxCrossEntropyLoss(scores, labels, weights?) -> (loss, log_prob?): LogSoftmax on axis 1, then NLL. */
export const softmaxCrossEntropyLoss: Handler = (n) => {
  if (n.shape(0).length < 2) throw new Error(`scores of rank ${n.shape(0).length} have no class axis (scores must be [N, C, d1...])`);
  const [logSoftmax] = n.emit("LogSoftmax", [n.input(0)], { axis: 1 });
  if (n.outputUsed(1)) n.alias(1, logSoftmax);
  negativeLogLikelihood(n, logSoftmax, 1, 2);
};

/**
 * LayerNormalization with its optional outputs: Mean (ReduceMean over the normalized axes, kept
 * as size 1) and InvStdDev = 1/sqrt(variance + epsilon), each step rounding once at the graph
 * frac (ReduceMean, the squared deviations' mean, Sqrt, Reciprocal). Y is the IR op's own.
 */
export const layerNormalization: Handler = (n) => {
  const epsilon = n.float("epsilon", 1e-5);
  const attrs = { axis: -1, epsilon: 1e-5, ...n.irAttrs("LayerNormalization", {}, ["stash_type"]) };
  const [y] = n.emit("LayerNormalization", n.inputs(), attrs);
  n.alias(0, y);
  if (!n.outputUsed(1) && !n.outputUsed(2)) return;
  const rank = n.rank(0);
  const first = ((n.int("axis", -1) % rank) + rank) % rank;
  const axes = Array.from({ length: rank - first }, (_, i) => first + i);
  const [mean] = n.emit("ReduceMean", [n.input(0)], { axes, keepdims: 1 });
  n.alias(1, mean);
  if (!n.outputUsed(2)) return;
  const [deviation] = n.emit("Sub", [n.input(0), mean]);
  const [square] = n.emit("Mul", [deviation, deviation]);
  const [variance] = n.emit("ReduceMean", [square], { axes, keepdims: 1 });
  const [shifted] = n.emit("Add", [variance, n.addConst("epsilon", scalar("float", epsilon))]);
  const [deviationScale] = n.emit("Sqrt", [shifted]);
  const [inverse] = n.emit("Reciprocal", [deviationScale]);
  n.alias(2, inverse);
};
