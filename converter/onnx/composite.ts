/**
 * ONNX-only ops that detml has no kernel for but that are exact compositions of its ops, so no
 * new kernel (and no new compiler emitter) is needed: HardSwish, ArgMin, the L1/L2/log-sum
 * reductions, InstanceNormalization and the depth/space rearrangements. (Compositions the TF.js
 * front end needs too live in converter/common and are mapped in composite-shared.ts.) Each
 * composition follows the ONNX definition; where the direct formula would overflow Q16
 * (ReduceLogSumExp) the usual max-subtraction is used.
 */
import { filled } from "../common/values.js";
import type { NodeCtx } from "./context.js";
import { reduceAttrs, type Handler } from "./handlers.js";

/** HardSwish(x) = x * HardSigmoid(x, 1/6, 1/2). */
export const hardSwish: Handler = (n) => {
  const [gate] = n.emit("HardSigmoid", [n.input(0)], { alpha: 1 / 6, beta: 0.5 });
  n.finish("Mul", [n.input(0), gate]);
};

/** ArgMin(x) = ArgMax(-x): the first (or last) minimum is the first (or last) maximum of -x. */
export const argMin: Handler = (n) => {
  const [neg] = n.emit("Neg", [n.input(0)]);
  n.finish("ArgMax", [neg], n.irAttrs("ArgMax"), "int");
};

/**
 * ReduceL1 = sum |x|, ReduceL2 = sqrt(sum x^2), ReduceSumSquare = sum x^2, ReduceLogSum =
 * log(sum x), ReduceLogSumExp = m + log(sum exp(x - m)) with m the max over the same axes.
 */
export function reduceComposite(kind: "ReduceL1" | "ReduceL2" | "ReduceSumSquare" | "ReduceLogSum" | "ReduceLogSumExp"): Handler {
  return (n) => {
    const attrs = reduceAttrs(n, 18);
    if (!attrs) throw new Error("noop_with_empty_axes=1 without axes is not supported");
    const x = n.input(0);
    if (kind === "ReduceLogSumExp") {
      const [max] = n.emit("ReduceMax", [x], { ...attrs, keepdims: 1 });
      const [exp] = n.emit("Exp", [n.emit("Sub", [x, max])[0]]);
      const [log] = n.emit("Log", [n.emit("ReduceSum", [exp], attrs)[0]]);
      const [shift] = attrs.keepdims ? [max] : n.emit("ReduceMax", [x], attrs);
      return n.finish("Add", [log, shift]);
    }
    const [terms] = kind === "ReduceL1" ? n.emit("Abs", [x]) : kind === "ReduceLogSum" ? [x] : n.emit("Mul", [x, x]);
    if (kind === "ReduceL1" || kind === "ReduceSumSquare") return n.finish("ReduceSum", [terms], attrs);
    const [sum] = n.emit("ReduceSum", [terms], attrs);
    n.finish(kind === "ReduceL2" ? "Sqrt" : "Log", [sum]);
  };
}

/** A per-channel vector [C] as [C, 1, ...] for broadcasting over `spatial` trailing axes. */
function perChannel(n: NodeCtx, input: number, spatial: number): string {
  const [c] = n.shape(input);
  return n.emit("Reshape", [n.input(input)], { shape: [c, ...new Array<number>(spatial).fill(1)] })[0];
}

/**
 * InstanceNormalization: LayerNormalization over the spatial axes of each (n, c) with unit
 * scale, then the per-channel scale and bias.
 */
export const instanceNormalization: Handler = (n) => {
  const spatial = n.shape(0).slice(2);
  if (spatial.length === 0) throw new Error("an input without spatial axes is not supported");
  const ones = n.addConst("ones", filled(n.guard, "float", spatial, 1, "the unit scale"));
  const [normed] = n.emit("LayerNormalization", [n.input(0), ones], { axis: 2, epsilon: n.float("epsilon", 1e-5) });
  const [scaled] = n.emit("Mul", [normed, perChannel(n, 1, spatial.length)]);
  n.finish("Add", [scaled, perChannel(n, 2, spatial.length)]);
};

/** DepthToSpace (DCR or CRD) and SpaceToDepth on NCHW: one Reshape, Transpose, Reshape each. */
export function depthSpace(kind: "DepthToSpace" | "SpaceToDepth"): Handler {
  return (n) => {
    const b = n.int("blocksize");
    const shape = n.shape(0);
    if (shape.length !== 4) throw new Error(`input of rank ${shape.length} is not supported (NCHW only)`);
    const [batch, c, h, w] = shape;
    let split: number[], perm: number[], out: number[];
    if (kind === "SpaceToDepth") {
      [split, perm, out] = [[batch, c, h / b, b, w / b, b], [0, 3, 5, 1, 2, 4], [batch, c * b * b, h / b, w / b]];
    } else if (n.string("mode", "DCR") === "DCR") {
      [split, perm, out] = [[batch, b, b, c / (b * b), h, w], [0, 3, 4, 1, 5, 2], [batch, c / (b * b), h * b, w * b]];
    } else {
      [split, perm, out] = [[batch, c / (b * b), b, b, h, w], [0, 1, 4, 2, 5, 3], [batch, c / (b * b), h * b, w * b]];
    }
    if (!split.every(Number.isInteger)) throw new Error(`blocksize ${b} does not divide the input shape [${shape.join(",")}]`);
    const [blocks] = n.emit("Reshape", [n.input(0)], { shape: split });
    const [moved] = n.emit("Transpose", [blocks], { perm });
    n.finish("Reshape", [moved], { shape: out });
  };
}
