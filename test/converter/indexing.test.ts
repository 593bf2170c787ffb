/**
 * The indexing ops of converter/onnx/indexing.ts against onnxruntime-node on one-node models
 * with the indices fed at run time: ScatterND (reductions none, add, mul, max, min; duplicate
 * and negative indices), ScatterElements on every axis, Scatter (opset 10), MaxUnpool with and
 * without output_shape, ReverseSequence with either axis order, and Compress with a constant
 * condition; the refusals (Compress with a run-time condition, a scatter whose one-hot mask is
 * too large) name the node and say why. One scatter model is also compiled and run in the wasm
 * and vm engines, bit-identical to the reference.
 */
import { describe, expect, it } from "vitest";
import { compile } from "../../compiler/compile.js";
import { convertOnnx } from "../../converter/onnx/index.js";
import { run } from "../../lib/executor.js";
import { Tensor } from "../../lib/tensor/tensor.js";
import { wasmSampleRunner } from "../../verify/runnable.js";
import { buildModel, DT, runOrt, tensor, type ModelSpec } from "./onnx/onnx-builder.js";
import { uniform } from "../helpers/random.js";


const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

interface Feed {
  shape: number[];
  values: number[];
  /** int64 (indices, lengths) rather than float. */
  int?: boolean;
}

/** Run a one-node model in ORT and in the reference executor; returns both outputs 'y' and the graph. */
async function compare(spec: ModelSpec, feeds: Record<string, Feed>, tolerance = 0): Promise<ReturnType<typeof convertOnnx>["graph"]> {
  const bytes = buildModel(spec);
  const want = (await runOrt(bytes, Object.fromEntries(Object.entries(feeds).map(([k, f]) => [k, {
    data: f.int ? BigInt64Array.from(f.values, BigInt) : Float32Array.from(f.values),
    shape: f.shape,
  }])))).y;
  const { graph } = convertOnnx(bytes);
  const y = run(graph, fixedFeeds(feeds)).outputs.get("y")!;
  expect(y.shape).toEqual(want.shape);
  const got = y.toFloat();
  want.data.forEach((v, i) => expect(Math.abs(got[i] - v), `y[${i}]`).toBeLessThanOrEqual(tolerance));
  return graph;
}

function fixedFeeds(feeds: Record<string, Feed>): Record<string, Tensor> {
  // Float test values are multiples of 2^-8, so Q16 holds them exactly and selections are exact.
  return Object.fromEntries(Object.entries(feeds).map(([k, f]) => [k, f.int ? new Tensor(f.shape, Int32Array.from(f.values), 0) : Tensor.fromFloat(Float32Array.from(f.values), f.shape, 16)]));
}

const exact = (count: number, seed: number) => uniform(count, seed).map((v) => Math.round(v * 256) / 128);

function scatterSpec(op: string, shapes: [number[], number[], number[]], attrs: Record<string, number | string>, opset: number): ModelSpec {
  return {
    opset,
    nodes: [{ op, name: `${op.toLowerCase()}_under_test`, inputs: ["data", "indices", "updates"], outputs: ["y"], attrs }],
    inputs: [{ name: "data", shape: shapes[0] }, { name: "indices", shape: shapes[1], type: DT.INT64 }, { name: "updates", shape: shapes[2] }],
    outputs: [{ name: "y" }],
  };
}

describe("scatters against onnxruntime", () => {
  const nd = (reduction: string, indices: number[], tolerance = 0) => compare(
    scatterSpec("ScatterND", [[4, 3, 2], [3, 1], [3, 3, 2]], { reduction }, 18),
    { data: { shape: [4, 3, 2], values: exact(24, 1) }, indices: { shape: [3, 1], values: indices, int: true }, updates: { shape: [3, 3, 2], values: exact(18, 2) } },
    tolerance,
  );

  it("ScatterND none (negative index), add, max, min with a repeated row", async () => {
    await nd("none", [2, -1, 0]);
    for (const reduction of ["add", "max", "min"]) await nd(reduction, [1, 3, 1]);
  });

  it("ScatterND mul with a repeated row (one rounding per product)", async () => {
    await nd("mul", [0, 2, 0], 2 ** -15);
  });

  it("ScatterND of single elements (indices address every axis)", async () => {
    await compare(
      scatterSpec("ScatterND", [[2, 3], [4, 2], [4]], {}, 13),
      { data: { shape: [2, 3], values: exact(6, 3) }, indices: { shape: [4, 2], values: [0, 0, 1, 2, 0, -1, 1, 0], int: true }, updates: { shape: [4], values: exact(4, 4) } },
    );
  });

  it("ScatterElements on each axis, negative indices, add with duplicates; Scatter (opset 10)", async () => {
    for (const axis of [0, 1, -1]) {
      await compare(
        scatterSpec("ScatterElements", [[3, 4], [2, 3], [2, 3]], { axis }, 13),
        { data: { shape: [3, 4], values: exact(12, 5) }, indices: { shape: [2, 3], values: [0, 2, -1, 1, 0, 2], int: true }, updates: { shape: [2, 3], values: exact(6, 6) } },
      );
    }
    await compare(
      scatterSpec("ScatterElements", [[1, 5], [1, 4], [1, 4]], { axis: 1, reduction: "add" }, 16),
      { data: { shape: [1, 5], values: exact(5, 7) }, indices: { shape: [1, 4], values: [1, 3, 1, 1], int: true }, updates: { shape: [1, 4], values: exact(4, 8) } },
    );
    await compare(
      scatterSpec("Scatter", [[3, 3], [1, 2], [1, 2]], { axis: 1 }, 10),
      { data: { shape: [3, 3], values: exact(9, 9) }, indices: { shape: [1, 2], values: [2, 0], int: true }, updates: { shape: [1, 2], values: exact(2, 10) } },
    );
  });

  it("compiles: the wasm and vm engines give the reference's integers", () => {
    const { graph } = convertOnnx(buildModel(scatterSpec("ScatterND", [[4, 3, 2], [3, 1], [3, 3, 2]], { reduction: "add" }, 16)));
    const feeds = fixedFeeds({ data: { shape: [4, 3, 2], values: exact(24, 11) }, indices: { shape: [3, 1], values: [3, 0, 3], int: true }, updates: { shape: [3, 3, 2], values: exact(18, 12) } });
    const want = run(graph, feeds).outputs.get("y")!;
    const { wasm } = compile(graph);
    for (const engine of ["wasm", "vm"] as const) {
      expect([...wasmSampleRunner(wasm, "scatter", engine).run(new Map(Object.entries(feeds))).get("y")!.data], engine).toEqual([...want.data]);
    }
  });

  it("refuses a scatter whose one-hot mask would be too large, naming the node", () => {
    const spec = scatterSpec("ScatterElements", [[64, 128], [64, 128], [64, 128]], { axis: 0 }, 13);
    expect(() => convertOnnx(buildModel(spec))).toThrow(/node 'scatterelements_under_test' \(ScatterElements\): a scatter of 8192 updates into 8192 rows needs a 8192x8192 one-hot mask, above the 4194304-element limit/);
  });
});

describe("MaxUnpool, ReverseSequence and Compress against onnxruntime", () => {
  it("MaxUnpool without output_shape against onnxruntime; with one, the ONNX reference data's layout", async () => {
    const x = exact(8, 13);
    const pooled = { x: { shape: [1, 2, 2, 2], values: x }, i: { shape: [1, 2, 2, 2], values: [0, 3, 9, 14, 16, 19, 26, 31], int: true } };
    const spec = (withShape: boolean): ModelSpec => ({
      opset: 11,
      nodes: [{ op: "MaxUnpool", inputs: ["x", "i", ...(withShape ? ["shape"] : [])], outputs: ["y"], attrs: { kernel_shape: [2, 2], strides: [2, 2] } }],
      inputs: [{ name: "x", shape: [1, 2, 2, 2] }, { name: "i", shape: [1, 2, 2, 2], type: DT.INT64 }],
      outputs: [{ name: "y" }],
      initializers: withShape ? [tensor("shape", [4], [1, 2, 5, 5], DT.INT64)] : [],
    });
    await compare(spec(false), pooled);
    // With output_shape, the ONNX backend data (test_maxunpool_export_with_output_shape) keeps the
    // indices of the implied 4x4 planes and pads each plane to 5x5 at its ends; onnxruntime reads
    // them as positions in the 5x5 planes instead, so the expectation is built here.
    const { graph } = convertOnnx(buildModel(spec(true)));
    const y = run(graph, fixedFeeds(pooled)).outputs.get("y")!;
    const want = new Array<number>(50).fill(0);
    pooled.i.values.forEach((flat, k) => {
      const [plane, row, col] = [Math.floor(flat / 16), Math.floor((flat % 16) / 4), flat % 4];
      want[plane * 25 + row * 5 + col] = x[k];
    });
    expect(y.shape).toEqual([1, 2, 5, 5]);
    expect([...y.toFloat()]).toEqual(want);
  });

  it("ReverseSequence with time_axis 0 and 1", async () => {
    for (const [timeAxis, batchAxis, shape] of [[0, 1, [4, 3, 2]], [1, 0, [3, 4, 2]]] as const) {
      await compare({
        opset: 10,
        nodes: [{ op: "ReverseSequence", inputs: ["x", "lens"], outputs: ["y"], attrs: { time_axis: timeAxis, batch_axis: batchAxis } }],
        inputs: [{ name: "x", shape: [...shape] }, { name: "lens", shape: [3], type: DT.INT64 }],
        outputs: [{ name: "y" }],
      }, { x: { shape: [...shape], values: exact(24, 14) }, lens: { shape: [3], values: [4, 1, 2], int: true } });
    }
  });

  it("Compress with a constant condition, with and without axis; refuses a run-time condition", async () => {
    for (const axis of [1, undefined]) {
      await compare({
        opset: 11,
        nodes: [{ op: "Compress", inputs: ["x", "keep"], outputs: ["y"], attrs: axis === undefined ? {} : { axis } }],
        inputs: [{ name: "x", shape: [2, 3] }],
        outputs: [{ name: "y" }],
        initializers: [tensor("keep", [3], [1, 0, 1], DT.BOOL)],
      }, { x: { shape: [2, 3], values: exact(6, 15) } });
    }
    const runtime = buildModel({
      opset: 11,
      nodes: [{ op: "Compress", name: "compress_under_test", inputs: ["x", "keep"], outputs: ["y"] }],
      inputs: [{ name: "x", shape: [2, 3] }, { name: "keep", shape: [6], type: DT.BOOL }],
      outputs: [{ name: "y" }],
    });
    expect(() => convertOnnx(runtime)).toThrow(/node 'compress_under_test' \(Compress\): input 1 \(condition\) computed at run time is not supported: the output's size is the number of true values/);
  });
});
