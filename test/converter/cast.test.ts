/**
 * Cast of a run-time real tensor to an integer type (converter/onnx/handlers.ts): truncation
 * toward zero as onnxruntime does for in-range values, saturation to the target type's range
 * beyond it (ONNX leaves those values undefined), CastLike taking the type of its second input,
 * a cast to bool testing for nonzero, and the compiled module giving the reference's integers.
 */
import { describe, expect, it } from "vitest";
import { compile } from "../../compiler/compile.js";
import { convertOnnx } from "../../converter/onnx/index.js";
import { run } from "../../lib/executor.js";
import { Tensor } from "../../lib/tensor/tensor.js";
import { wasmSampleRunner } from "../../verify/runnable.js";
import { buildModel, DT, runOrt } from "./onnx/onnx-builder.js";

const IN_RANGE = [0, 0.4, -0.4, 1.5, -1.5, 2.5, 2.99, -2.99, 7.75, -7.75, 100.2, -100.2];

function castModel(to: number): Uint8Array {
  return buildModel({
    nodes: [{ op: "Cast", name: "cast", inputs: ["x"], outputs: ["y"], attrs: { to } }],
    inputs: [{ name: "x", shape: [IN_RANGE.length] }],
    outputs: [{ name: "y", type: to }],
  });
}

const castWith = (bytes: Uint8Array, values: number[]) =>
  [...run(convertOnnx(bytes).graph, new Map([["x", Tensor.fromFloat(Float32Array.from(values), [values.length], 16)]])).outputs.get("y")!.data];

describe("Cast of a run-time real tensor to an integer type", () => {
  for (const [name, to] of [["int8", DT.INT8], ["int32", DT.INT32], ["int64", DT.INT64], ["uint8", DT.UINT8]] as const) {
    it(`truncates toward zero like onnxruntime (${name})`, async () => {
      const values = to === DT.UINT8 ? IN_RANGE.map(Math.abs) : IN_RANGE;
      const want = (await runOrt(castModel(to), { x: { data: Float32Array.from(values), shape: [values.length] } })).y;
      expect(castWith(castModel(to), values)).toEqual([...want.data]);
    });
  }

  it("saturates to the target type's range", () => {
    expect(castWith(castModel(DT.UINT8), [-3.5, 255.9, 300, -0.9, 0, 0, 0, 0, 0, 0, 0, 0]).slice(0, 4)).toEqual([0, 255, 255, 0]);
    expect(castWith(castModel(DT.INT16), [-32767.5, 20000.7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]).slice(0, 2)).toEqual([-32767, 20000]);
    expect(castWith(castModel(DT.UINT32), [-1.5, 32767.5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]).slice(0, 2)).toEqual([0, 32767]);
  });

  it("casts a real or integer tensor to bool: nonzero is true", () => {
    const toBool = buildModel({
      nodes: [{ op: "Cast", name: "cast", inputs: ["x"], outputs: ["y"], attrs: { to: DT.BOOL } }],
      inputs: [{ name: "x", shape: [IN_RANGE.length] }],
      outputs: [{ name: "y", type: DT.BOOL }],
    });
    expect(castWith(toBool, IN_RANGE)).toEqual(IN_RANGE.map((v) => (v === 0 ? 0 : 1)));
  });

  it("CastLike takes the type of its second input, and the cast compiles", () => {
    const bytes = buildModel({
      nodes: [{ op: "CastLike", name: "like", inputs: ["x", "t"], outputs: ["y"] }],
      inputs: [{ name: "x", shape: [IN_RANGE.length] }, { name: "t", shape: [1], type: DT.INT8 }],
      outputs: [{ name: "y" }],
      opset: 15,
    });
    const { graph } = convertOnnx(bytes);
    const values = IN_RANGE.map((v) => v * 2);
    const inputs = new Map([["x", Tensor.fromFloat(Float32Array.from(values), [values.length], 16)], ["t", new Tensor([1], Int32Array.of(0), 0)]]);
    const y = run(graph, inputs).outputs.get("y")!;
    expect([...y.data]).toEqual(values.map((v) => Math.max(-128, Math.min(127, Math.trunc(v))) + 0));
    expect([...wasmSampleRunner(compile(graph).wasm, "castlike").run(inputs).get("y")!.data]).toEqual([...y.data]);
  });
});
