/**
 * Helpers of the tests of the shared compositions (converter/common/composite-*.ts) through the
 * ONNX front end: build a one-node model, convert it at a chosen activation frac, run it in the
 * reference executor, and compare with float64 values computed in the test itself (the ONNX
 * definitions written out in plain JS), with a per-element tolerance in real units.
 */
import { expect } from "vitest";
import { convertOnnx } from "../../../converter/onnx/index.js";
import { run } from "../../../lib/executor.js";
import type { Graph } from "../../../lib/graph/ir.js";
import { stridesOf } from "../../../lib/tensor/shape.js";
import type { Tensor } from "../../../lib/tensor/tensor.js";
import { buildModel, DT, tensor, type ModelSpec, type NodeSpec } from "../onnx/onnx-builder.js";

export const i64 = (name: string, values: number[], dims = [values.length]) => tensor(name, dims, values, DT.INT64);
export const f32 = (name: string, values: number[], dims = [values.length]) => tensor(name, dims, values, DT.FLOAT);

/** One node reading input x [shape] (of ONNX type `type`) into output y, with initializers. */
export function single(opset: number, node: Omit<NodeSpec, "outputs">, shape: readonly number[], inits: ReturnType<typeof tensor>[] = [], type: number = DT.FLOAT): ModelSpec {
  return { opset, nodes: [{ ...node, outputs: ["y"] }], inputs: [{ name: "x", shape: [...shape], type }], outputs: [{ name: "y" }], initializers: inits };
}

export function convert(spec: ModelSpec, frac = 16): Graph {
  return convertOnnx(buildModel(spec), { frac, source: "composite-test" }).graph;
}

/** Convert and run on `inputs`; returns output `name` (default y). */
export function runModel(spec: ModelSpec, inputs: Record<string, Tensor>, frac = 16, name = "y"): Tensor {
  const y = run(convert(spec, frac), inputs).outputs.get(name);
  if (!y) throw new Error(`no output ${name}`);
  return y;
}

/** Expect `got` to have `shape` and every value within tol(i) (real units; default exact) of want[i]. */
export function expectValues(got: Tensor, want: ArrayLike<number>, shape: readonly number[], what: string, tol: (i: number) => number = () => 0): void {
  expect(got.shape, `${what} shape`).toEqual([...shape]);
  const values = got.toFloat();
  for (let i = 0; i < want.length; i++) {
    const err = Math.abs(values[i] - want[i]);
    if (!(err <= tol(i))) expect.fail(`${what}[${i}] = ${values[i]}, expected ${want[i]} (error ${err}, tolerance ${tol(i)})`);
  }
}

/** The coordinates of flat index i in `shape` (row-major). */
export function coords(i: number, shape: readonly number[]): number[] {
  const strides = stridesOf(shape);
  return shape.map((d, k) => Math.floor(i / strides[k]) % d);
}

/** Flat index of coordinates in `shape`. */
export function flatIndex(at: readonly number[], shape: readonly number[]): number {
  const strides = stridesOf(shape);
  return at.reduce((s, c, k) => s + c * strides[k], 0);
}

export { DT };
