/**
 * Test-side helpers for the data-movement op tests: running an OpDef with its infer() checked
 * against the kernel, float reference arrays defined element by element from multi-indices
 * (written independently of the kernels' offset tables), and an exact comparison.
 */
import { expect } from "vitest";
import { resolveAttrs, type OpDef } from "../../lib/ops/op.js";
import type { Tensor } from "../../lib/tensor/tensor.js";

export const ctx = { frac: 16 };

/**
 * Run an OpDef's kernel on resolved attributes and check that its infer() gives exactly the
 * kernel outputs' shapes and fracs; returns the kernel outputs.
 */
export function runDef(def: OpDef<any>, inputs: Tensor[], attrs: Record<string, unknown>, context = ctx): Tensor[] {
  const a = resolveAttrs(def, attrs as never);
  const ys = def.run(inputs, a, context);
  expect(ys.length).toBe(def.outputs(a));
  const types = def.infer(inputs.map((x) => ({ shape: [...x.shape], frac: x.frac })), a, context);
  expect(types).toEqual(ys.map((y) => ({ shape: [...y.shape], frac: y.frac })));
  return ys;
}

/** Multi-index of flat position `flat` in a row-major array of `shape`. */
export function unravel(flat: number, shape: readonly number[]): number[] {
  const idx = new Array<number>(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    idx[d] = flat % shape[d];
    flat = Math.floor(flat / shape[d]);
  }
  return idx;
}

/** Flat row-major position of a multi-index. */
export function ravel(idx: readonly number[], shape: readonly number[]): number {
  return idx.reduce((acc, i, d) => acc * shape[d] + i, 0);
}

/** A float array of `shape` whose element at multi-index i is `at(i)`. */
export function build(shape: readonly number[], at: (idx: number[]) => number): Float64Array {
  const n = shape.reduce((a, b) => a * b, 1);
  return Float64Array.from({ length: n }, (_, k) => at(unravel(k, shape)));
}

/** Read element `idx` of a tensor as a real number. */
export function realAt(x: Tensor, idx: readonly number[]): number {
  return x.data[ravel(idx, x.shape)] / 2 ** x.frac;
}

/** The kernel output equals the reference exactly, shape and values (data movement is exact). */
export function expectExact(y: Tensor, shape: readonly number[], frac: number, ref: Float64Array): void {
  expect(y.shape).toEqual(shape);
  expect(y.frac).toBe(frac);
  expect(Array.from(y.toFloat())).toEqual(Array.from(ref));
}
