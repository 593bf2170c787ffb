/**
 * 3-D Conv, ConvTranspose, MaxPool and AveragePool (converter/onnx/volumetric.ts: the depth
 * axis unfolded into channels of the 2-D ops) against onnxruntime-node on one-node models with
 * the awkward geometry: asymmetric pads, unequal strides and dilations, groups, SAME padding,
 * output_padding, ceil_mode and count_include_pad. One model of each op also compiles, and the
 * WebAssembly gives the reference executor's integers. A rank-6 input, weights whose groups do
 * not fit X and an empty kernel are refused, naming the node. MaxPool's Indices output
 * (converter/onnx/pool-indices.ts) in 1-D, 2-D and 3-D, with pads, strides, dilations, ceil_mode and
 * storage_order 1, on inputs drawn from a few values so that windows hold repeated maxima (the
 * first occurrence wins): onnxruntime's indices and values, and the same integers compiled.
 */
import { describe, expect, it } from "vitest";
import { compile } from "../../compiler/compile.js";
import { convertOnnx } from "../../converter/onnx/index.js";
import { run } from "../../lib/executor.js";
import { Tensor } from "../../lib/tensor/tensor.js";
import { wasmSampleRunner } from "../../verify/runnable.js";
import { buildModel, DT, runOrt, tensor } from "./onnx/onnx-builder.js";

/** Seeded uniform values in [-range, range). */
function uniform(count: number, seed: number, range = 2): number[] {
  let s = seed >>> 0;
  return Array.from({ length: count }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s / 2 ** 32) * 2 * range - range;
  });
}

const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

type Attrs = Record<string, number | number[] | string>;

interface Case {
  name: string;
  op: string;
  x: number[];
  /** Weight shape (Conv, ConvTranspose); a bias of the output channels comes with it. */
  w?: number[];
  attrs: Attrs;
  opset?: number;
  /** Also compile it (the other cases reuse the same emitters). */
  compiled?: boolean;
}

const CASES: Case[] = [
  { name: "Conv: asymmetric pads, strides 2,1,2, depth dilation 2, groups 2, bias", op: "Conv", x: [1, 4, 6, 5, 7], w: [6, 2, 2, 3, 2],
    attrs: { pads: [1, 0, 2, 0, 1, 1], strides: [2, 1, 2], dilations: [2, 1, 1], group: 2 }, compiled: true },
  { name: "Conv: SAME_UPPER, stride 2", op: "Conv", x: [2, 2, 5, 4, 4], w: [3, 2, 3, 3, 2], attrs: { auto_pad: "SAME_UPPER", strides: [2, 2, 1] } },
  { name: "ConvTranspose: strides 2,1,2, pads, output_padding, bias", op: "ConvTranspose", x: [1, 2, 3, 4, 3], w: [2, 3, 3, 2, 3],
    attrs: { strides: [2, 1, 2], pads: [1, 0, 0, 0, 1, 1], output_padding: [1, 0, 1] }, compiled: true },
  { name: "ConvTranspose: groups 2, depth dilation 2", op: "ConvTranspose", x: [1, 4, 3, 3, 2], w: [4, 1, 2, 2, 2], attrs: { group: 2, dilations: [2, 1, 1] } },
  { name: "MaxPool: pads, strides 2, ceil_mode, depth dilation 2", op: "MaxPool", x: [1, 2, 7, 6, 5], opset: 12,
    attrs: { kernel_shape: [2, 3, 2], pads: [1, 1, 0, 1, 0, 1], strides: [2, 2, 2], ceil_mode: 1, dilations: [2, 1, 1] }, compiled: true },
  { name: "AveragePool: count_include_pad 1, pads", op: "AveragePool", x: [1, 2, 5, 4, 6], attrs: { kernel_shape: [3, 2, 3], pads: [1, 1, 0, 1, 0, 2], count_include_pad: 1 } },
  { name: "AveragePool: count_include_pad 0, pads, strides 2, ceil_mode", op: "AveragePool", x: [2, 1, 6, 5, 5],
    attrs: { kernel_shape: [2, 2, 3], pads: [1, 0, 1, 0, 1, 1], strides: [2, 2, 2], ceil_mode: 1 }, compiled: true },
];

function caseModel(c: Case): Uint8Array {
  const weighted = c.w !== undefined;
  const outChannels = c.op === "ConvTranspose" ? c.w![1] * Number(c.attrs.group ?? 1) : c.w?.[0] ?? 0;
  return buildModel({
    opset: c.opset ?? 13,
    nodes: [{ op: c.op, name: "volume", inputs: weighted ? ["x", "w", "b"] : ["x"], outputs: ["y"], attrs: c.attrs }],
    inputs: [{ name: "x", shape: c.x }],
    outputs: [{ name: "y" }],
    initializers: weighted ? [tensor("w", c.w!, uniform(size(c.w!), 7, 1)), tensor("b", [outChannels], uniform(outChannels, 8, 1))] : [],
  });
}

describe("3-D windowed ops lowered onto the 2-D ops", () => {
  for (const c of CASES) {
    it(`${c.name}: onnxruntime's values${c.compiled ? ", and the same integers compiled" : ""}`, async () => {
      const bytes = caseModel(c);
      const values = Float32Array.from(uniform(size(c.x), 5));
      const want = (await runOrt(bytes, { x: { data: values, shape: c.x } })).y;
      const { graph } = convertOnnx(bytes);
      const x = new Map([["x", Tensor.fromFloat(values, c.x, 16)]]);
      const y = run(graph, x).outputs.get("y")!;
      expect(y.shape).toEqual(want.shape);
      // Input quantization (half a unit of Q16 per value, times the summed |weights|) and one rounding.
      const got = y.toFloat();
      want.data.forEach((v, i) => expect(Math.abs(got[i] - v), `y[${i}]`).toBeLessThan(2e-4));
      if (c.compiled) expect([...wasmSampleRunner(compile(graph).wasm, c.name).run(x).get("y")!.data]).toEqual([...y.data]);
    });
  }

  it("refuses a rank-6 input, groups that do not fit and an empty kernel, naming the node", () => {
    const conv4d = buildModel({
      nodes: [{ op: "Conv", inputs: ["x", "w"], outputs: ["y"], name: "c4" }],
      inputs: [{ name: "x", shape: [1, 1, 2, 2, 2, 2] }],
      outputs: [{ name: "y" }],
      initializers: [tensor("w", [1, 1, 1, 1, 1, 1], [1])],
    });
    expect(() => convertOnnx(conv4d)).toThrow(/^node 'c4' \(Conv\): input X has rank 6, Conv supports 1D, 2D and 3D/);
    const badGroups = buildModel({
      nodes: [{ op: "Conv", inputs: ["x", "w"], outputs: ["y"], name: "g3", attrs: { group: 2 } }],
      inputs: [{ name: "x", shape: [1, 4, 3, 3, 3] }],
      outputs: [{ name: "y" }],
      initializers: [tensor("w", [3, 2, 1, 1, 1], [1, 1, 1, 1, 1, 1])],
    });
    expect(() => convertOnnx(badGroups)).toThrow(/^node 'g3' \(Conv\): W \[3,2,1,1,1\] in 2 group\(s\) does not fit X's 4 channels/);
    const emptyKernel = buildModel({
      nodes: [{ op: "AveragePool", inputs: ["x"], outputs: ["y"], name: "a3", attrs: { kernel_shape: [2, 0, 2] } }],
      inputs: [{ name: "x", shape: [1, 1, 3, 3, 3] }],
      outputs: [{ name: "y" }],
    });
    expect(() => convertOnnx(emptyKernel)).toThrow(/^node 'a3' \(AveragePool\): attribute 'kernel_shape' \[2,0,2\] must hold 3 sizes >= 1/);
  });
});

const INDEX_CASES: [string, number[], Record<string, number | number[]>][] = [
  ["1-D, pads and stride 2", [2, 2, 9], { kernel_shape: [3], pads: [1, 2], strides: [2] }],
  ["2-D, pads, dilations, ceil_mode", [1, 3, 7, 6], { kernel_shape: [2, 3], pads: [1, 0, 1, 2], strides: [2, 2], dilations: [2, 1], ceil_mode: 1 }],
  ["2-D, storage_order 1", [2, 1, 5, 4], { kernel_shape: [3, 2], strides: [1, 2], storage_order: 1 }],
  ["3-D, pads and strides", [1, 2, 5, 4, 5], { kernel_shape: [2, 2, 3], pads: [1, 0, 1, 0, 1, 1], strides: [2, 1, 2] }],
];

/** Seeded values from {-1, -0.5, 0, 0.5, 1}: windows often hold several equal maxima. */
function fewValues(count: number, seed: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: count }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return Math.floor((s / 2 ** 32) * 5) / 2 - 1;
  });
}

describe("MaxPool Indices", () => {
  for (const [name, shape, attrs] of INDEX_CASES) {
    it(`${name}: onnxruntime's indices and values, compiled to the same integers`, async () => {
      const bytes = buildModel({
        opset: 12,
        nodes: [{ op: "MaxPool", name: "pool", inputs: ["x"], outputs: ["y", "i"], attrs }],
        inputs: [{ name: "x", shape }],
        outputs: [{ name: "y" }, { name: "i", type: DT.INT64 }],
      });
      const values = fewValues(shape.reduce((a, b) => a * b, 1), shape.length * 7);
      const want = await runOrt(bytes, { x: { data: values, shape } });
      const { graph } = convertOnnx(bytes);
      const x = new Map([["x", Tensor.fromFloat(values, shape, 16)]]);
      const got = run(graph, x).outputs;
      expect(got.get("i")!.shape).toEqual(want.i.shape);
      expect([...got.get("i")!.data]).toEqual([...want.i.data]);
      expect([...got.get("y")!.toFloat()]).toEqual([...want.y.data]);
      const compiled = wasmSampleRunner(compile(graph).wasm, name).run(x);
      expect([...compiled.get("i")!.data]).toEqual([...got.get("i")!.data]);
      expect([...compiled.get("y")!.data]).toEqual([...got.get("y")!.data]);
    });
  }
});
