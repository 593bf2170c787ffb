/**
 * ONNX Einsum (converter/onnx/einsum.ts, composed in converter/common/composite-einsum.ts)
 * against onnxruntime-node on one-node models with both operands fed at run time: batched
 * matmuls of attention, transposes, reductions, outer and inner products, diagonals, implicit
 * outputs, ellipses with broadcast batch axes, letters summed out of one operand, and chains of
 * three operands; the
 * converted graphs hold only Transpose, Reshape, ReduceSum, Slice and MatMul. Equations outside
 * the supported forms are rejected with the equation named. Also the other tooling ops of
 * converter/onnx/tooling.ts: EyeLike, Pow with a run-time exponent, Pow of an integer base by
 * constant integer exponents (exact), and Range/ConstantOfShape
 * fed at run time (rejected: the output's size would depend on the values).
 */
import { describe, expect, it } from "vitest";
import { convertOnnx } from "../../converter/onnx/index.js";
import { run } from "../../lib/executor.js";
import { Tensor } from "../../lib/tensor/tensor.js";
import { buildModel, DT, runOrt, tensor } from "./onnx/onnx-builder.js";

/** Seeded values in [-1, 1). */
function values(count: number, seed: number): number[] {
  let s = seed >>> 0;
  return Array.from({ length: count }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s / 2 ** 32) * 2 - 1;
  });
}

const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

function einsumModel(equation: string, shapes: number[][]): Uint8Array {
  const names = shapes.map((_, i) => `x${i}`);
  return buildModel({
    opset: 12,
    nodes: [{ op: "Einsum", name: "einsum_under_test", inputs: names, outputs: ["y"], attrs: { equation } }],
    inputs: shapes.map((shape, i) => ({ name: names[i], shape })),
    outputs: [{ name: "y" }],
  });
}

const CASES: [string, number[][]][] = [
  ["bhid,bhjd->bhij", [[2, 3, 4, 5], [2, 3, 6, 5]]],
  ["bhij,bhjd->bhid", [[1, 2, 4, 4], [1, 2, 4, 3]]],
  ["bij,bjk->bik", [[3, 2, 4], [3, 4, 5]]],
  ["i,j->ij", [[5], [7]]],
  ["i,i->", [[6], [6]]],
  ["i,i", [[6], [6]]],
  ["ij,jk", [[3, 4], [4, 2]]],
  ["ij->ji", [[3, 4]]],
  ["ij->i", [[3, 4]]],
  ["ij->", [[3, 4]]],
  ["...ii->...i", [[2, 3, 3]]],
  ["ii", [[4, 4]]],
  ["...ij,...jk->...ik", [[2, 1, 3, 4], [1, 3, 4, 5]]],
  ["ijk,ikl->jl", [[2, 3, 4], [2, 4, 5]]],
  ["abc,cd->abd", [[2, 3, 4], [4, 5]]],
  ["bi,bj->bij", [[2, 3], [2, 4]]],
  ["ij,ij->ij", [[3, 4], [3, 4]]],
  ["ij,jk->k", [[3, 4], [4, 5]]],
  ["bhqd, bhkd -> bhqk", [[1, 2, 3, 4], [1, 2, 5, 4]]],
  ["i,j,k->ijk", [[2], [3], [4]]],
  ["bij,bjk,bkl->bil", [[2, 3, 4], [2, 4, 3], [2, 3, 5]]],
  ["ij,jk,kl", [[2, 3], [3, 4], [4, 2]]],
];

describe("ONNX Einsum against onnxruntime", () => {
  for (const [equation, shapes] of CASES) {
    it(equation, async () => {
      const bytes = einsumModel(equation, shapes);
      const data = shapes.map((shape, i) => values(size(shape), 7 + i));
      const want = (await runOrt(bytes, Object.fromEntries(shapes.map((shape, i) => [`x${i}`, { data: Float32Array.from(data[i]), shape }])))).y;
      const { graph } = convertOnnx(bytes, { source: "einsum.onnx" });
      for (const node of graph.nodes) expect(["Transpose", "Reshape", "ReduceSum", "Slice", "MatMul"]).toContain(node.op);
      const inputs = Object.fromEntries(shapes.map((shape, i) => [`x${i}`, Tensor.fromFloat(Float32Array.from(data[i]), shape, 16)]));
      const y = run(graph, inputs).outputs.get("y")!;
      expect(y.shape).toEqual(want.shape);
      const got = y.toFloat();
      // Quantized inputs (2^-17 each) times values below 1, summed over at most 20 terms, plus one
      // rounding per contraction.
      want.data.forEach((v, i) => expect(Math.abs(got[i] - v), `element ${i}`).toBeLessThan(2e-4));
    });
  }

  it("rejects equations outside the supported forms, naming the equation", () => {
    const reject = (equation: string, shapes: number[][], message: RegExp) =>
      expect(() => convertOnnx(einsumModel(equation, shapes))).toThrow(message);
    reject("ij,jk->ik", [[2, 3], [4, 5]], /node 'einsum_under_test' \(Einsum\): Einsum equation 'ij,jk->ik' is not supported: contracted letter 'j' has sizes 3 and 4/);
    reject("ij->k", [[2, 3]], /Einsum equation 'ij->k' is not supported: output letter 'k' is in no operand/);
    reject("ijk->ij", [[2, 3]], /does not match the operand's rank 2/);
  });
});

describe("positional tooling ops", () => {
  it("EyeLike is a constant of the input's shape, with k and dtype", async () => {
    for (const [k, dtype] of [[0, undefined], [1, DT.FLOAT], [-2, DT.INT32]] as const) {
      const bytes = buildModel({
        opset: 13,
        nodes: [{ op: "EyeLike", inputs: ["x"], outputs: ["y"], attrs: { k, ...(dtype === undefined ? {} : { dtype }) } }],
        inputs: [{ name: "x", shape: [3, 5] }],
        outputs: [{ name: "y", type: dtype ?? DT.FLOAT }],
      });
      const want = (await runOrt(bytes, { x: { data: new Float32Array(15), shape: [3, 5] } })).y;
      const { graph } = convertOnnx(bytes);
      const y = run(graph, { x: Tensor.fromFloat(new Float32Array(15), [3, 5], 16) }).outputs.get("y")!;
      expect(Array.from(y.toFloat()), `k ${k}`).toEqual(Array.from(want.data));
    }
  });

  it("Pow with a run-time exponent (real or int64), negative bases with integer exponents", async () => {
    const shape = [4, 6];
    // Bases in ±[0.3, 2.3], exponents -2..3: every float result is finite and real.
    const base = values(24, 3).map((v) => (v < 0 ? v * 2 - 0.3 : v * 2 + 0.3));
    const exponent = values(24, 4).map((v) => Math.floor(v * 3) + 1);
    for (const type of [DT.FLOAT, DT.INT64]) {
      const bytes = buildModel({
        opset: 15,
        nodes: [{ op: "Pow", name: "pow_under_test", inputs: ["x", "y"], outputs: ["z"] }],
        inputs: [{ name: "x", shape }, { name: "y", shape, type }],
        outputs: [{ name: "z" }],
      });
      const y = type === DT.FLOAT ? Float32Array.from(exponent) : BigInt64Array.from(exponent, BigInt);
      const want = (await runOrt(bytes, { x: { data: Float32Array.from(base), shape }, y: { data: y, shape } })).z;
      const { graph } = convertOnnx(bytes);
      const yTensor = type === DT.FLOAT ? Tensor.fromFloat(Float32Array.from(exponent), shape, 16) : Tensor.fromInts(exponent, shape);
      const got = run(graph, { x: Tensor.fromFloat(Float32Array.from(base), shape, 16), y: yTensor }).outputs.get("z")!.toFloat();
      // Log's rounding times |y| <= 3, relative, plus Exp's: 1e-4 relative with room.
      want.data.forEach((v, i) => expect(Math.abs(got[i] - v), `${base[i]}^${exponent[i]}`).toBeLessThan(2e-5 + 1e-4 * Math.abs(v)));
    }
  });

  it("Pow of a constant base by a run-time exponent", async () => {
    const bytes = buildModel({
      opset: 15,
      nodes: [{ op: "Pow", inputs: ["base", "y"], outputs: ["z"] }],
      inputs: [{ name: "y", shape: [5] }],
      outputs: [{ name: "z" }],
      initializers: [tensor("base", [5], [10, 2, 0.5, 1.5, 3])],
    });
    const exponent = [-0.5, 3, 2.25, -1, 0.75];
    const want = (await runOrt(bytes, { y: { data: Float32Array.from(exponent), shape: [5] } })).z;
    const got = run(convertOnnx(bytes).graph, { y: Tensor.fromFloat(Float32Array.from(exponent), [5], 16) }).outputs.get("z")!.toFloat();
    want.data.forEach((v, i) => expect(Math.abs(got[i] - v), `element ${i}`).toBeLessThan(2e-5 + 1e-4 * Math.abs(v)));
  });

  it("Pow of a run-time integer base by constant integer exponents is exact; a run-time exponent is refused", async () => {
    const model = (exponentAtRunTime: boolean) => buildModel({
      opset: 15,
      nodes: [{ op: "Pow", name: "int_pow", inputs: ["x", "y"], outputs: ["z"] }],
      inputs: [{ name: "x", shape: [2, 4], type: DT.INT32 }, ...(exponentAtRunTime ? [{ name: "y", shape: [4], type: DT.INT32 }] : [])],
      outputs: [{ name: "z", type: DT.INT32 }],
      initializers: exponentAtRunTime ? [] : [tensor("y", [4], [0, 3, 1, 5], DT.INT32)],
    });
    const base = [-3, 7, 2, -4, 5, -6, 0, 3];
    const want = base.map((v, i) => v ** [0, 3, 1, 5][i % 4]);
    const got = run(convertOnnx(model(false)).graph, { x: Tensor.fromInts(base, [2, 4]) }).outputs.get("z")!;
    expect(Array.from(got.toFloat())).toEqual(want);
    expect(() => convertOnnx(model(true))).toThrow(/^node 'int_pow' \(Pow\): Pow of an integer base by a tensor exponent is not supported unless the exponent is a constant/);
  });

  it("rejects Range and ConstantOfShape sized at run time, naming the operand", () => {
    const range = buildModel({
      opset: 13,
      nodes: [{ op: "Range", name: "range_under_test", inputs: ["start", "limit", "delta"], outputs: ["y"] }],
      inputs: [{ name: "start", shape: [], type: DT.INT64 }],
      outputs: [{ name: "y" }],
      initializers: [tensor("limit", [], [10], DT.INT64), tensor("delta", [], [1], DT.INT64)],
    });
    expect(() => convertOnnx(range)).toThrow(/node 'range_under_test' \(Range\): input 0 \(start\) computed at run time is not supported: it sets the output's size/);
    const fill = buildModel({
      opset: 13,
      nodes: [{ op: "ConstantOfShape", name: "fill_under_test", inputs: ["shape"], outputs: ["y"] }],
      inputs: [{ name: "shape", shape: [2], type: DT.INT64 }],
      outputs: [{ name: "y" }],
    });
    expect(() => convertOnnx(fill)).toThrow(/node 'fill_under_test' \(ConstantOfShape\): input 0 \(shape\) computed at run time is not supported/);
  });
});
