/**
 * Resize in mode cubic (converter/onnx/vision.ts -> IR ResizeCubic, lib/ops/resize-cubic.ts)
 * against onnxruntime-node on one-node models: enlarging and shrinking, every coordinate
 * transformation mode, cubic_coeff_a -0.75 and -0.5, exclude_outside; scales that give no whole
 * size (cubic, linear, and nearest as Gathers); the refusals (tf_crop_and_resize, other modes,
 * antialias) name the node and say why. GridSample (converter/onnx/vision.ts, a composition ending in one
 * MatMul) in every mode, padding mode and align_corners setting; RoiAlign (the same machinery
 * per box) in its coordinate modes, refusing a sampling_ratio of 0. The heavier checks (compiled
 * GridSample and linear-by-ratio models, the PyTorch bicubic upsampler end to end with a
 * dispute) are in test/long/vision.long.ts.
 */
import { describe, expect, it } from "vitest";
import { compile } from "../../compiler/compile.js";
import { convertOnnx } from "../../converter/onnx/index.js";
import { run } from "../../lib/executor.js";
import { resizeCubic } from "../../lib/ops/resize-cubic.js";
import { Tensor } from "../../lib/tensor/tensor.js";
import { wasmSampleRunner } from "../../verify/runnable.js";
import { buildModel, DT, runOrt, tensor } from "./onnx/onnx-builder.js";
import { uniform as uniformUnit } from "../helpers/random.js";

/** Seeded uniform values in [-2, 2): twice the shared [-1, 1) values (exactly: a doubling). */
const uniform = (count: number, seed: number): number[] => uniformUnit(count, seed).map((v) => 2 * v);

function cubicModel(inShape: number[], outShape: number[], attrs: Record<string, number | string | { float: number }>): Uint8Array {
  return buildModel({
    opset: 13,
    nodes: [{ op: "Resize", name: "resize_under_test", inputs: ["x", "", "", "sizes"], outputs: ["y"], attrs: { mode: "cubic", ...attrs } }],
    inputs: [{ name: "x", shape: inShape }],
    outputs: [{ name: "y" }],
    initializers: [tensor("sizes", [4], outShape, DT.INT64)],
  });
}

function scaledModel(mode: string, attrs: Record<string, string | number | { float: number }>, scales: number[], shape = [1, 1, 5, 6]): Uint8Array {
  return buildModel({
    opset: 13,
    nodes: [{ op: "Resize", name: "resize_scaled", inputs: ["x", "", "scales"], outputs: ["y"], attrs: { mode, ...attrs } }],
    inputs: [{ name: "x", shape }],
    outputs: [{ name: "y" }],
    initializers: [tensor("scales", [4], scales)],
  });
}

const CASES: [string, number[], number[], Record<string, number | string | { float: number }>][] = [
  ["half_pixel, enlarge 4x5 -> 8x10", [1, 2, 4, 5], [1, 2, 8, 10], {}],
  ["pytorch_half_pixel, enlarge 3x3 -> 7x5", [1, 1, 3, 3], [1, 1, 7, 5], { coordinate_transformation_mode: "pytorch_half_pixel" }],
  ["align_corners, shrink 8x6 -> 3x4", [1, 2, 8, 6], [1, 2, 3, 4], { coordinate_transformation_mode: "align_corners" }],
  ["asymmetric, A = -0.5", [2, 1, 4, 4], [2, 1, 6, 8], { coordinate_transformation_mode: "asymmetric", cubic_coeff_a: { float: -0.5 } }],
  ["exclude_outside, A = -0.5, shrink", [1, 1, 6, 6], [1, 1, 4, 3], { exclude_outside: 1, cubic_coeff_a: { float: -0.5 } }],
  ["exclude_outside, enlarge", [1, 1, 3, 4], [1, 1, 9, 8], { exclude_outside: 1 }],
];

describe("ResizeCubic kernel against float64 Keys interpolation", () => {
  /** Keys' kernel at distance s. */
  const keys = (s: number, a: number) => {
    const d = Math.abs(s);
    return d <= 1 ? ((a + 2) * d - (a + 3)) * d * d + 1 : d < 2 ? ((a * d - 5 * a) * d + 8 * a) * d - 4 * a : 0;
  };
  /** The float64 bicubic interpolation (half_pixel coordinates, edge taps clamped) of one plane, in input units. */
  const reference = (x: Tensor, outH: number, outW: number, a: number): number[] => {
    const [inH, inW] = x.shape.slice(-2);
    const at = (y: number, z: number) => x.data[Math.min(Math.max(y, 0), inH - 1) * inW + Math.min(Math.max(z, 0), inW - 1)];
    const out: number[] = [];
    for (let oy = 0; oy < outH; oy++) {
      for (let ox = 0; ox < outW; ox++) {
        const [cy, cx] = [(oy + 0.5) * inH / outH - 0.5, (ox + 0.5) * inW / outW - 0.5];
        const [fy, fx] = [Math.floor(cy), Math.floor(cx)];
        let sum = 0;
        for (let j = -1; j <= 2; j++) for (let i = -1; i <= 2; i++) sum += keys(cy - fy - j, a) * keys(cx - fx - i, a) * at(fy + j, fx + i);
        out.push(sum);
      }
    }
    return out;
  };

  it("is within 0.51 units of the last place plus the Q20 weights' rounding (2^-21 of each tap's value)", () => {
    let worst = 0;
    for (const [inH, inW, outH, outW, seed] of [[4, 5, 9, 7, 1], [7, 6, 3, 4, 2], [5, 5, 12, 11, 3]]) {
      const x = new Tensor([1, 1, inH, inW], Int32Array.from(uniform(inH * inW, seed), (v) => Math.round(v * 65536)), 16);
      const got = resizeCubic(x, [1, 1, outH, outW]).data;
      const want = reference(x, outH, outW, -0.75);
      // 16 taps, each weight product off by at most ~2 * 2^-21 of a value below 2^17 units.
      const bound = 0.51 + 16 * 2 * 2 ** -21 * 2 ** 17 * 1.3;
      want.forEach((v, i) => {
        worst = Math.max(worst, Math.abs(got[i] - v));
        expect(Math.abs(got[i] - v), `[${inH}x${inW} -> ${outH}x${outW}] ${i}`).toBeLessThanOrEqual(bound);
      });
    }
    // Measured: 0.543 units (0.5 from the final rounding, the rest from the Q20 weights).
    expect(worst).toBeLessThan(0.6);
  });
});

describe("Resize cubic against onnxruntime", () => {
  for (const [name, inShape, outShape, attrs] of CASES) {
    it(name, async () => {
      const bytes = cubicModel(inShape, outShape, attrs);
      const x = uniform(inShape.reduce((a, b) => a * b, 1), 31);
      const want = (await runOrt(bytes, { x: { data: Float32Array.from(x), shape: inShape } })).y;
      const { graph } = convertOnnx(bytes);
      expect(graph.nodes.map((n) => n.op)).toEqual(["ResizeCubic"]);
      const y = run(graph, { x: Tensor.fromFloat(Float32Array.from(x), inShape, 16) }).outputs.get("y")!;
      expect(y.shape).toEqual(want.shape);
      const got = y.toFloat();
      // Input quantization (2^-17) times the weights' absolute sum (< 1.3), plus two roundings
      // (2^-17 + 2^-25) and Q20 weights (2^-21 relative each): measured worst 1.6e-5.
      want.data.forEach((v, i) => expect(Math.abs(got[i] - v), `y[${i}]`).toBeLessThan(3e-5));
    });
  }

  it("compiles: the wasm and vm engines give the reference's integers (sizes, and scale ratios)", () => {
    const x = new Map([["x", Tensor.fromFloat(Float32Array.from(uniform(40, 32)), [1, 2, 5, 4], 16)]]);
    const models = [
      cubicModel([1, 2, 5, 4], [1, 2, 7, 9], { exclude_outside: 1 }),
      scaledModel("cubic", {}, [1, 1, 0.8, 1.3], [1, 2, 5, 4]),
      scaledModel("linear", {}, [1, 1, 0.8, 1.3], [1, 2, 5, 4]),
    ];
    for (const bytes of models) {
      const { graph } = convertOnnx(bytes);
      const want = run(graph, x).outputs.get("y")!;
      const { wasm } = compile(graph);
      for (const engine of ["wasm", "vm"] as const) {
        expect([...wasmSampleRunner(wasm, "resize", engine).run(x).get("y")!.data], `${graph.nodes[0].op} ${engine}`).toEqual([...want.data]);
      }
    }
  });

  it("scales that give no whole size: floor(in * scale) outputs, coordinates by the scale itself", async () => {
    const cases: [string, Record<string, string | number | { float: number }>, number[]][] = [
      ["cubic", {}, [1, 1, 0.8, 0.7]],
      // (align_corners by such a scale divides by in * scale - 1, the ONNX reference data's rule,
      // test_resize_downsample_scales_cubic_align_corners; onnxruntime divides by out - 1.)
      ["cubic", { coordinate_transformation_mode: "pytorch_half_pixel", exclude_outside: 1 }, [1, 1, 1.3, 0.6]],
      ["linear", {}, [1, 1, 2.5, 1.5]],
      // 0.8 = 13421773 / 2^24: the exact weights' denominator passes 2^15, so they round to 2^-15.
      ["linear", { coordinate_transformation_mode: "pytorch_half_pixel" }, [1, 1, 0.8, 0.6]],
      ["nearest", { nearest_mode: "round_prefer_ceil" }, [1, 1, 0.7, 1.45]],
      ["nearest", { coordinate_transformation_mode: "asymmetric", nearest_mode: "floor" }, [1, 1, 2.6, 0.45]],
    ];
    for (const [mode, attrs, scales] of cases) {
      const bytes = scaledModel(mode, attrs, scales);
      const x = uniform(5 * 6, 33);
      const want = (await runOrt(bytes, { x: { data: Float32Array.from(x), shape: [1, 1, 5, 6] } })).y;
      const { graph } = convertOnnx(bytes);
      const y = run(graph, { x: Tensor.fromFloat(Float32Array.from(x), [1, 1, 5, 6], 16) }).outputs.get("y")!;
      expect(y.shape, `${mode} ${scales}`).toEqual(want.shape);
      const got = y.toFloat();
      want.data.forEach((v, i) => expect(Math.abs(got[i] - v), `${mode} ${scales} y[${i}]`).toBeLessThan(3e-5));
    }
  });

  it("refuses tf_crop_and_resize, other modes and antialias, naming the node", () => {
    expect(() => convertOnnx(cubicModel([1, 1, 4, 4], [1, 1, 8, 8], { coordinate_transformation_mode: "tf_crop_and_resize" })))
      .toThrow(/node 'resize_under_test' \(Resize\): coordinate_transformation_mode 'tf_crop_and_resize' is not supported: its region of interest/);
    expect(() => convertOnnx(cubicModel([1, 1, 4, 4], [1, 1, 8, 8], { mode: "lanczos" }))).toThrow(/node 'resize_under_test' \(Resize\): mode 'lanczos' is not supported \(nearest, linear and cubic are\)/);
    expect(() => convertOnnx(cubicModel([1, 1, 4, 4], [1, 1, 8, 8], { antialias: 1 }))).toThrow(/node 'resize_under_test' \(Resize\): antialias=1 is not supported/);
  });
});

describe("GridSample against onnxruntime", () => {
  const gridModel = (attrs: Record<string, string | number>) => buildModel({
    opset: 16,
    nodes: [{ op: "GridSample", name: "grid_sample_under_test", inputs: ["x", "grid"], outputs: ["y"], attrs }],
    inputs: [{ name: "x", shape: [2, 2, 4, 5] }, { name: "grid", shape: [2, 3, 4, 2] }],
    outputs: [{ name: "y" }],
  });
  const x = uniform(80, 41);
  // Grid points in [-1.3, 1.3): some outside the image, to exercise the padding modes.
  const grid = uniform(48, 42).map((v) => v * 0.65);
  const feeds = { x: Tensor.fromFloat(Float32Array.from(x), [2, 2, 4, 5], 16), grid: Tensor.fromFloat(Float32Array.from(grid), [2, 3, 4, 2], 16) };

  for (const mode of ["bilinear", "nearest", "bicubic"]) {
    it(`${mode}, every padding mode, align_corners 0 and 1`, async () => {
      for (const padding_mode of ["zeros", "border", "reflection"]) {
        for (const align_corners of [0, 1]) {
          const bytes = gridModel({ mode, padding_mode, align_corners });
          const want = (await runOrt(bytes, { x: { data: Float32Array.from(x), shape: [2, 2, 4, 5] }, grid: { data: Float32Array.from(grid), shape: [2, 3, 4, 2] } })).y;
          const y = run(convertOnnx(bytes).graph, feeds).outputs.get("y")!;
          expect(y.shape).toEqual(want.shape);
          const got = y.toFloat();
          // Coordinates rounded at Q16 (times the image's slope, up to ~4 per pixel), weights rounded
          // once per Mul, one rounding in the MatMul. Measured worst: bilinear 7.0e-5, nearest 7.0e-6
          // (input quantization only), bicubic 1.8e-4 (its weights are Horner chains of Muls).
          want.data.forEach((v, i) => expect(Math.abs(got[i] - v), `${padding_mode} align ${align_corners} y[${i}]`).toBeLessThan(mode === "bicubic" ? 3e-4 : mode === "bilinear" ? 1e-4 : 2e-5));
        }
      }
    });
  }
});

describe("RoiAlign against onnxruntime", () => {
  const roiModel = (opset: number, attrs: Record<string, string | number | { float: number }>) => buildModel({
    opset,
    nodes: [{ op: "RoiAlign", name: "roi_align_under_test", inputs: ["x", "rois", "batch"], outputs: ["y"], attrs }],
    inputs: [{ name: "x", shape: [2, 3, 6, 7] }, { name: "rois", shape: [4, 4] }, { name: "batch", shape: [4], type: DT.INT64 }],
    outputs: [{ name: "y" }],
  });
  const x = uniform(252, 51);
  // (x1, y1, x2, y2) in input pixels before spatial_scale 0.5: one box reaching outside, one degenerate.
  const rois = [1, 2, 9, 10, 0, 0, 14, 12, -3, 4, 5, 15, 6, 6, 6.5, 6.2];
  const batch = [0, 1, 1, 0];

  it("half_pixel and output_half_pixel (opset 16), the opset 10 form", async () => {
    for (const [opset, attrs] of [
      [16, { coordinate_transformation_mode: "half_pixel" }],
      [16, { coordinate_transformation_mode: "output_half_pixel" }],
      [10, {}],
    ] as const) {
      const bytes = roiModel(opset, { ...attrs, output_height: 3, output_width: 2, sampling_ratio: 2, spatial_scale: { float: 0.5 } });
      const want = (await runOrt(bytes, {
        x: { data: Float32Array.from(x), shape: [2, 3, 6, 7] },
        rois: { data: Float32Array.from(rois), shape: [4, 4] },
        batch: { data: BigInt64Array.from(batch, BigInt), shape: [4] },
      })).y;
      const y = run(convertOnnx(bytes).graph, {
        x: Tensor.fromFloat(Float32Array.from(x), [2, 3, 6, 7], 16),
        rois: Tensor.fromFloat(Float32Array.from(rois), [4, 4], 16),
        batch: new Tensor([4], Int32Array.from(batch), 0),
      }).outputs.get("y")!;
      expect(y.shape).toEqual(want.shape);
      const got = y.toFloat();
      // Sample coordinates round at Q16 (Div, Mul), weights once per Mul, one MatMul, one mean.
      want.data.forEach((v, i) => expect(Math.abs(got[i] - v), `opset ${opset} ${JSON.stringify(attrs)} y[${i}]`).toBeLessThan(1e-4));
    }
  });

  it("refuses sampling_ratio 0 and mode max, naming the node", () => {
    expect(() => convertOnnx(roiModel(16, { output_height: 2, output_width: 2 })))
      .toThrow(/node 'roi_align_under_test' \(RoiAlign\): sampling_ratio 0 is not supported: the number of samples per bin would depend on each box's size/);
    expect(() => convertOnnx(roiModel(16, { mode: "max", sampling_ratio: 2 }))).toThrow(/node 'roi_align_under_test' \(RoiAlign\): mode 'max' is not supported/);
  });
});
