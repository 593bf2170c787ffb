/**
 * Expand and Tile (ONNX semantics, the target shape / repeats as attributes): both repeat the
 * input's values without computing any, so the output keeps the input's frac. Expand broadcasts
 * the input and `shape` against each other (numpy rules, either side may have the 1s); Tile
 * concatenates `repeats[d]` copies of the input along every axis d.
 */
import { broadcastShapes, stridesOf, type Shape } from "../tensor/shape.js";
import type { Tensor } from "../tensor/tensor.js";
import { axisOffsets, copyByAxes, showList, type AxisOffsets } from "./axis-copy.js";
import { check, defineOp } from "./op.js";


export function expandShape(input: Shape, shape: readonly number[]): number[] {
  check(shape.every((d) => d >= 0), `Expand attribute 'shape' ${showList(shape)} has a negative dimension`);
  try {
    return broadcastShapes(input, shape);
  } catch {
    throw new Error(`Expand cannot broadcast input shape ${showList(input)} with shape ${showList(shape)}`);
  }
}

/** The per-axis offset tables of Expand (copyByAxes / copyOffsets): broadcast axes read offset 0. */
export function expandOffsets(input: Shape, shape: readonly number[]): AxisOffsets[] {
  const outShape = expandShape(input, shape);
  const lead = outShape.length - input.length;
  const strides = stridesOf(input);
  return outShape.map((n, d) => {
    const inDim = d < lead ? 1 : input[d - lead];
    return axisOffsets(n, inDim === 1 ? 0 : strides[d - lead], (i) => i);
  });
}

export function expand(x: Tensor, shape: readonly number[]): Tensor {
  return copyByAxes(x, expandOffsets(x.shape, shape));
}

export function tileShape(input: Shape, repeats: readonly number[]): number[] {
  check(repeats.length === input.length, `Tile attribute 'repeats' ${showList(repeats)} needs one entry per input axis (rank ${input.length})`);
  check(repeats.every((r) => r >= 0), `Tile attribute 'repeats' ${showList(repeats)} has a negative entry`);
  return input.map((d, i) => d * repeats[i]);
}

/** The per-axis offset tables of Tile (copyByAxes / copyOffsets): coordinate i reads i mod dim. */
export function tileOffsets(input: Shape, repeats: readonly number[]): AxisOffsets[] {
  const strides = stridesOf(input);
  return tileShape(input, repeats).map((n, d) => axisOffsets(n, strides[d], (i) => i % input[d]));
}

export function tile(x: Tensor, repeats: readonly number[]): Tensor {
  return copyByAxes(x, tileOffsets(x.shape, repeats));
}

export type ExpandAttrs = { shape: number[] };
export type TileAttrs = { repeats: number[] };

export const Expand = defineOp<ExpandAttrs>({
  kind: "Expand",
  summary: "broadcast the input to a shape (bidirectional numpy rules)",
  inputs: ["input"],
  attrs: { shape: { type: "ints", doc: "target shape, broadcast with the input's shape" } },
  outputs: () => 1,
  infer: ([x], a) => [{ shape: expandShape(x.shape, a.shape), frac: x.frac }],
  run: ([x], a) => [expand(x, a.shape)],
});

export const Tile = defineOp<TileAttrs>({
  kind: "Tile",
  summary: "repeat the input repeats[d] times along each axis d",
  inputs: ["input"],
  attrs: { repeats: { type: "ints", doc: "copies per axis, one entry per input axis" } },
  outputs: () => 1,
  infer: ([x], a) => [{ shape: tileShape(x.shape, a.repeats), frac: x.frac }],
  run: ([x], a) => [tile(x, a.repeats)],
});
