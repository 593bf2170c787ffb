/**
 * Reshape, Flatten, Squeeze, Unsqueeze and Identity: the ops that change only the shape. The
 * row-major data is shared unchanged (tensors are immutable by convention) and the output keeps
 * the input's frac. Each op's output shape comes from one exported function that both `infer`
 * and the kernel call, so the graph validator and the executor cannot disagree. ONNX semantics;
 * the shape-giving inputs of ONNX (Reshape shape, Squeeze/Unsqueeze axes) are attributes here.
 */
import { normAxis, sizeOf, type Shape } from "../tensor/shape.js";
import { Tensor } from "../tensor/tensor.js";
import { showList } from "./axis-copy.js";
import { check, defineOp, type Attrs, type OpDef } from "./op.js";


/** The same data under another shape of the same size. */
function view(x: Tensor, shape: number[]): Tensor {
  return new Tensor(shape, x.data, x.frac);
}

/** Distinct axes normalised against `rank`; errors name the op. */
export function uniqueAxes(op: string, axes: readonly number[], rank: number): number[] {
  const out = axes.map((a) => normAxis(a, rank, `${op} axis`));
  check(new Set(out).size === out.length, `${op} attribute 'axes' repeats an axis: ${showList(axes)}`);
  return out;
}

/**
 * ONNX Reshape: entry 0 copies the input dimension at the same position (or means a zero-size
 * dimension when allowzero = 1), one entry -1 is inferred from the element count.
 */
export function reshapeShape(input: Shape, shape: readonly number[], allowzero = 0): number[] {
  check(allowzero === 0 || allowzero === 1, `Reshape attribute 'allowzero' must be 0 or 1, got ${allowzero}`);
  check(shape.every((d) => d >= -1), `Reshape attribute 'shape' ${showList(shape)} has an entry below -1`);
  const inferred = shape.filter((d) => d === -1).length;
  check(inferred <= 1, `Reshape attribute 'shape' ${showList(shape)} has ${inferred} entries -1, at most one can be inferred`);
  const out = shape.map((d, i) => {
    if (d !== 0 || allowzero === 1) return d;
    check(i < input.length, `Reshape attribute 'shape' ${showList(shape)} copies dimension ${i} (entry 0) but the input has rank ${input.length}`);
    return input[i];
  });
  const total = sizeOf(input);
  if (inferred === 1) {
    const known = sizeOf(out.filter((d) => d !== -1));
    check(known > 0 && total % known === 0, `cannot reshape ${showList(input)} (${total} values) to ${showList(shape)}: the -1 entry cannot be inferred`);
    out[out.indexOf(-1)] = total / known;
  }
  check(sizeOf(out) === total, `cannot reshape ${showList(input)} (${total} values) to ${showList(shape)} (${sizeOf(out)} values)`);
  return out;
}

/** ONNX Flatten: [prod(dims before axis), prod(dims from axis)]; axis in [-rank, rank]. */
export function flattenShape(input: Shape, axis = 1): number[] {
  const rank = input.length;
  check(axis >= -rank && axis <= rank, `Flatten axis ${axis} is out of range for rank ${rank} (allowed ${-rank}..${rank})`);
  const a = axis < 0 ? axis + rank : axis;
  return [sizeOf(input.slice(0, a)), sizeOf(input.slice(a))];
}

/** ONNX Squeeze: drop the listed size-1 axes, or every size-1 axis when `axes` is empty. */
export function squeezeShape(input: Shape, axes: readonly number[] = []): number[] {
  if (axes.length === 0) return input.filter((d) => d !== 1);
  const drop = uniqueAxes("Squeeze", axes, input.length);
  for (const a of drop) check(input[a] === 1, `Squeeze axis ${a} has size ${input[a]}, only size-1 axes can be removed`);
  return input.filter((_, i) => !drop.includes(i));
}

/** ONNX Unsqueeze: insert size-1 axes at the listed positions of the output. */
export function unsqueezeShape(input: Shape, axes: readonly number[]): number[] {
  check(axes.length > 0, "Unsqueeze attribute 'axes' is empty");
  const rank = input.length + axes.length;
  const added = uniqueAxes("Unsqueeze", axes, rank);
  const out: number[] = [];
  let next = 0;
  for (let i = 0; i < rank; i++) out.push(added.includes(i) ? 1 : input[next++]);
  return out;
}

export function reshape(x: Tensor, shape: readonly number[], allowzero = 0): Tensor {
  return view(x, reshapeShape(x.shape, shape, allowzero));
}

export function flatten(x: Tensor, axis = 1): Tensor {
  return view(x, flattenShape(x.shape, axis));
}

export function squeeze(x: Tensor, axes: readonly number[] = []): Tensor {
  return view(x, squeezeShape(x.shape, axes));
}

export function unsqueeze(x: Tensor, axes: readonly number[]): Tensor {
  return view(x, unsqueezeShape(x.shape, axes));
}

/** A view: an op whose output is its single input's data under the shape `shapeOf` computes. */
function shapeOnlyOp<A extends Attrs>(kind: string, summary: string, attrs: OpDef<A>["attrs"],
  shapeOf: (input: Shape, attrs: A) => number[]): OpDef<A> {
  return defineOp<A>({
    kind,
    summary,
    inputs: ["data"],
    attrs,
    view: true,
    outputs: () => 1,
    infer: ([x], a) => [{ shape: shapeOf(x.shape, a), frac: x.frac }],
    run: ([x], a) => [view(x, shapeOf(x.shape, a))],
  });
}

export type ReshapeAttrs = { shape: number[]; allowzero: number };
export const Reshape = shapeOnlyOp<ReshapeAttrs>("Reshape", "same data, new shape (0 copies a dim, -1 is inferred)", {
  shape: { type: "ints", doc: "output shape; 0 copies the input dim (unless allowzero), one -1 is inferred" },
  allowzero: { type: "int", default: 0, doc: "1: an entry 0 means a zero-size dimension" },
}, (input, a) => reshapeShape(input, a.shape, a.allowzero));

export type FlattenAttrs = { axis: number };
export const Flatten = shapeOnlyOp<FlattenAttrs>("Flatten", "reshape to 2-D [prod(dims < axis), prod(dims >= axis)]", {
  axis: { type: "int", default: 1, doc: "first axis of the second output dimension, in [-rank, rank]" },
}, (input, a) => flattenShape(input, a.axis));

export type SqueezeAttrs = { axes: number[] };
export const Squeeze = shapeOnlyOp<SqueezeAttrs>("Squeeze", "remove size-1 axes", {
  axes: { type: "ints", default: [], doc: "axes to remove (each of size 1); empty: every size-1 axis" },
}, (input, a) => squeezeShape(input, a.axes));

export type UnsqueezeAttrs = { axes: number[] };
export const Unsqueeze = shapeOnlyOp<UnsqueezeAttrs>("Unsqueeze", "insert size-1 axes", {
  axes: { type: "ints", doc: "positions of the new axes in the output" },
}, (input, a) => unsqueezeShape(input, a.axes));

export const Identity = shapeOnlyOp<Record<string, never>>("Identity", "the input, unchanged", {}, (input) => [...input]);
