/**
 * ArgMax: the index of the maximum along one axis (negative counts from the end), as an integer
 * tensor at frac 0. Ties resolve to the first index, or the last with select_last_index = 1.
 * Values are compared as raw integers (one input, one frac), so the op is exact.
 */
import { normAxis, sizeOf, type Shape } from "../tensor/shape.js";
import { Tensor } from "../tensor/tensor.js";
import { check, defineOp, resolveAttrs } from "./op.js";

export type ArgMaxAttrs = { axis: number; keepdims: number; select_last_index: number };

/** The normalized axis and the output shape; validates the attributes. */
function planArgMax(shape: Shape, attrs: ArgMaxAttrs): { axis: number; outShape: number[] } {
  const { keepdims, select_last_index: last } = attrs;
  check(keepdims === 0 || keepdims === 1, `attribute 'keepdims' must be 0 or 1, got ${keepdims}`);
  check(last === 0 || last === 1, `attribute 'select_last_index' must be 0 or 1, got ${last}`);
  check(shape.length > 0, "input has rank 0, ArgMax needs an axis");
  const axis = normAxis(attrs.axis, shape.length);
  check(shape[axis] > 0, `axis ${attrs.axis} has size 0: no maximum to index`);
  const outShape = keepdims === 1 ? shape.map((d, i) => (i === axis ? 1 : d)) : shape.filter((_, i) => i !== axis);
  return { axis, outShape };
}

export function argMax(x: Tensor, attrs: Partial<ArgMaxAttrs> = {}): Tensor {
  const resolved = resolveAttrs(ArgMax, attrs);
  const { axis, outShape } = planArgMax(x.shape, resolved);
  const length = x.shape[axis];
  const inner = sizeOf(x.shape.slice(axis + 1));
  const outer = sizeOf(x.shape.slice(0, axis));
  const takeTies = resolved.select_last_index === 1;
  const out = new Int32Array(outer * inner);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const base = o * length * inner + i;
      let best = x.data[base];
      let bestIndex = 0;
      for (let k = 1; k < length; k++) {
        const v = x.data[base + k * inner];
        if (v > best || (takeTies && v === best)) {
          best = v;
          bestIndex = k;
        }
      }
      out[o * inner + i] = bestIndex;
    }
  }
  return new Tensor(outShape, out, 0);
}

export const ArgMax = defineOp<ArgMaxAttrs>({
  kind: "ArgMax",
  summary: "index of the maximum along an axis (first, or last with select_last_index), frac 0",
  inputs: ["data"],
  attrs: {
    axis: { type: "int", default: 0, doc: "axis to search, negative from the end" },
    keepdims: { type: "int", default: 1, doc: "1 keeps the axis with size 1, 0 drops it" },
    select_last_index: { type: "int", default: 0, doc: "1: the last index of a repeated maximum" },
  },
  outputs: () => 1,
  infer: ([x], attrs) => [{ shape: planArgMax(x.shape, attrs).outShape, frac: 0 }],
  run: ([x], attrs) => [argMax(x, attrs)],
});
