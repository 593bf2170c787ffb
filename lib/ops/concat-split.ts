/**
 * Concat and Split along one axis (ONNX semantics). Both are block copies: with `outer` = the
 * product of the dimensions before the axis and `inner` = the product of those after it, every
 * tensor is `outer` rows of (its axis size * inner) contiguous values. Split keeps the input's
 * frac. Concat combines several data inputs: when they all have the same frac it is kept (an exact
 * copy, which also keeps integer tensors such as token ids at frac 0); otherwise every input is
 * rescaled to the context frac (round half up, saturate), as for the other multi-input ops.
 */
import { DEFAULT_FRAC, rescale } from "../tensor/fixed.js";
import { normAxis, sizeOf, type Shape } from "../tensor/shape.js";
import { Tensor } from "../tensor/tensor.js";
import { showList } from "./axis-copy.js";
import { check, defineOp, type TensorType } from "./op.js";


/** Values before / after `axis` as row-major blocks. */
function blocks(shape: Shape, axis: number): { outer: number; inner: number } {
  return { outer: sizeOf(shape.slice(0, axis)), inner: sizeOf(shape.slice(axis + 1)) };
}

/** Output frac of Concat: the inputs' common frac, else `frac` (the context frac). */
export function concatFrac(fracs: readonly number[], frac: number): number {
  return fracs.every((f) => f === fracs[0]) ? fracs[0] : frac;
}

/** Output shape of Concat; every input must match the first except along `axis`. */
export function concatShape(shapes: readonly Shape[], axis: number): number[] {
  check(shapes.length > 0, "Concat needs at least one input");
  const first = shapes[0];
  check(first.length > 0, "Concat inputs are scalars (rank 0); it needs rank >= 1");
  const a = normAxis(axis, first.length, "Concat axis");
  shapes.forEach((s, k) => {
    const ok = s.length === first.length && s.every((d, i) => i === a || d === first[i]);
    check(ok, `Concat input ${k} has shape ${showList(s)}, incompatible with input 0 ${showList(first)} (only axis ${a} may differ)`);
  });
  const out = [...first];
  out[a] = shapes.reduce((n, s) => n + s[a], 0);
  return out;
}

/** Join tensors along `axis`; inputs of different fracs are rescaled to `frac`. */
export function concat(xs: readonly Tensor[], axis: number, frac = DEFAULT_FRAC): Tensor {
  const outShape = concatShape(xs.map((x) => x.shape), axis);
  const a = normAxis(axis, outShape.length);
  const outFrac = concatFrac(xs.map((x) => x.frac), frac);
  const { outer, inner } = blocks(outShape, a);
  const out = new Int32Array(sizeOf(outShape));
  let pos = 0;
  for (let o = 0; o < outer; o++) {
    for (const x of xs) {
      const chunk = x.shape[a] * inner;
      const start = o * chunk;
      if (x.frac === outFrac) out.set(x.data.subarray(start, start + chunk), pos);
      else for (let i = 0; i < chunk; i++) out[pos + i] = rescale(x.data[start + i], x.frac, outFrac);
      pos += chunk;
    }
  }
  return new Tensor(outShape, out, outFrac);
}

export type SplitAttrs = { axis: number; split: number[]; num_outputs: number };

/** Number of parts Split gives: split.length, or num_outputs when split is empty. */
export function splitCount(a: SplitAttrs): number {
  if (a.split.length === 0) {
    check(a.num_outputs >= 1, "Split needs attribute 'split' (part sizes) or 'num_outputs' (>= 1)");
    return a.num_outputs;
  }
  check(a.num_outputs === 0 || a.num_outputs === a.split.length,
    `Split attribute 'num_outputs' ${a.num_outputs} disagrees with 'split' ${showList(a.split)} (${a.split.length} parts)`);
  return a.split.length;
}

/**
 * Part sizes along the axis: `split` itself (summing to the axis size), or num_outputs parts of
 * ceil(size / num_outputs) with a smaller last part (ONNX opset 18).
 */
export function splitSizes(shape: Shape, a: SplitAttrs): number[] {
  const n = splitCount(a);
  const dim = shape[normAxis(a.axis, shape.length, "Split axis")];
  if (a.split.length > 0) {
    check(a.split.every((s) => s >= 0), `Split attribute 'split' ${showList(a.split)} has a negative size`);
    const total = a.split.reduce((x, y) => x + y, 0);
    check(total === dim, `Split attribute 'split' ${showList(a.split)} sums to ${total}, the axis has size ${dim}`);
    return [...a.split];
  }
  const part = Math.ceil(dim / n);
  const lastPart = dim - part * (n - 1);
  check(lastPart >= 0, `Split cannot cut an axis of size ${dim} into ${n} parts of ${part} (num_outputs ${n})`);
  return [...new Array<number>(n - 1).fill(part), lastPart];
}

function splitTypes(x: TensorType, a: SplitAttrs): TensorType[] {
  const axis = normAxis(a.axis, x.shape.length, "Split axis");
  return splitSizes(x.shape, a).map((s) => ({ shape: x.shape.map((d, i) => (i === axis ? s : d)), frac: x.frac }));
}

/** Cut `x` into parts along an axis; the parts keep x's frac. */
export function split(x: Tensor, attrs: Partial<SplitAttrs> = {}): Tensor[] {
  const a: SplitAttrs = { axis: 0, split: [], num_outputs: 0, ...attrs };
  const axis = normAxis(a.axis, x.rank, "Split axis");
  const { outer, inner } = blocks(x.shape, axis);
  const rowLength = x.shape[axis] * inner;
  let offset = 0;
  return splitTypes({ shape: [...x.shape], frac: x.frac }, a).map(({ shape }) => {
    const chunk = shape[axis] * inner;
    const out = new Int32Array(outer * chunk);
    for (let o = 0; o < outer; o++) out.set(x.data.subarray(o * rowLength + offset, o * rowLength + offset + chunk), o * chunk);
    offset += chunk;
    return new Tensor(shape, out, x.frac);
  });
}

export type ConcatAttrs = { axis: number };

export const Concat = defineOp<ConcatAttrs>({
  kind: "Concat",
  summary: "join inputs along an axis (mixed fracs are rescaled to the graph frac)",
  inputs: ["...inputs"],
  attrs: { axis: { type: "int", doc: "the joining axis, negative counts from the end" } },
  outputs: () => 1,
  infer: (xs, a, ctx) => [{ shape: concatShape(xs.map((x) => x.shape), a.axis), frac: concatFrac(xs.map((x) => x.frac), ctx.frac) }],
  run: (xs, a, ctx) => [concat(xs, a.axis, ctx.frac)],
});

export const Split = defineOp<SplitAttrs>({
  kind: "Split",
  summary: "cut the input into parts along an axis",
  inputs: ["input"],
  attrs: {
    axis: { type: "int", default: 0, doc: "the axis to cut, negative counts from the end" },
    split: { type: "ints", default: [], doc: "part sizes (sum = axis size); empty: num_outputs equal parts" },
    num_outputs: { type: "int", default: 0, doc: "number of equal parts (last one smaller) when 'split' is empty" },
  },
  outputs: splitCount,
  infer: ([x], a) => splitTypes(x, a),
  run: ([x], a) => split(x, a),
});
