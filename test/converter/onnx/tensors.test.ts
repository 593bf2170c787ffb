/**
 * Initializer and Constant decoding: every dtype from raw_data (read at the view's own byte
 * offset inside the decoded file buffer, which is generally unaligned) and from the typed fields,
 * and integer graph inputs at frac 0 (token ids into a Gather embedding).
 */
import { describe, expect, it } from "vitest";
import { convertOnnx } from "../../../converter/onnx/index.js";
import { run } from "../../../lib/executor.js";
import { Tensor } from "../../../lib/tensor/tensor.js";
import { buildModel, DT, tensor } from "./onnx-builder.js";

/** Convert a model whose outputs are its initializers, and return them as reals. */
function decodeInitializers(inits: ReturnType<typeof tensor>[]): Map<string, { frac: number; values: number[]; shape: readonly number[] }> {
  const bytes = buildModel({ nodes: [], inputs: [], outputs: inits.map((t) => ({ name: t.name! })), initializers: inits });
  const { graph } = convertOnnx(bytes);
  return new Map([...graph.constants].map(([name, t]) => [name, { frac: t.frac, values: Array.from(t.toFloat()), shape: t.shape }]));
}

describe("ONNX tensor decoding", () => {
  it("reads raw_data of every supported dtype", () => {
    const got = decodeInitializers([
      tensor("f32", [2, 2], [0.5, -1.25, 3, 0]),
      tensor("f64", [2], [0.1, -7], DT.DOUBLE),
      tensor("f16", [3], [0x3c00, 0xc000, 0x3555], DT.FLOAT16),
      tensor("i8", [3], [-128, 0, 127], DT.INT8),
      tensor("u8", [2], [0, 255], DT.UINT8),
      tensor("i32", [2], [-5, 100000], DT.INT32),
      tensor("i64", [3], [-1, 2, 2147483647], DT.INT64),
      tensor("b", [3], [1, 0, 1], DT.BOOL),
    ]);
    expect(got.get("f32")).toMatchObject({ shape: [2, 2], values: [0.5, -1.25, 3, 0] });
    expect(got.get("f64")!.values[1]).toBe(-7);
    expect(Math.abs(got.get("f64")!.values[0] - 0.1)).toBeLessThan(2 ** -got.get("f64")!.frac);
    expect(got.get("f16")!.values.slice(0, 2)).toEqual([1, -2]);
    expect(Math.abs(got.get("f16")!.values[2] - 0.333251953125)).toBeLessThan(2 ** -20);
    for (const [name, values] of [["i8", [-128, 0, 127]], ["u8", [0, 255]], ["i32", [-5, 100000]], ["i64", [-1, 2, 2147483647]], ["b", [1, 0, 1]]] as const) {
      expect(got.get(name), name).toMatchObject({ frac: 0, values });
    }
  });

  it("reads the typed fields (float_data, double_data, int32_data, int64_data)", () => {
    const got = decodeInitializers([
      tensor("f", [3], [1.5, -2, 0.25], DT.FLOAT, true),
      tensor("d", [1], [4.5], DT.DOUBLE, true),
      tensor("i", [2], [-3, 9], DT.INT32, true),
      tensor("l", [2], [7, -8], DT.INT64, true),
      tensor("u8", [2], [3, 250], DT.UINT8, true),
    ]);
    expect(got.get("f")!.values).toEqual([1.5, -2, 0.25]);
    expect(got.get("d")!.values).toEqual([4.5]);
    expect(got.get("i")!.values).toEqual([-3, 9]);
    expect(got.get("l")!.values).toEqual([7, -8]);
    expect(got.get("u8")!.values).toEqual([3, 250]);
  });

  it("names an initializer whose data does not fit its dims, and int64 values beyond i32", () => {
    const short = tensor("w", [3], [1, 2]);
    expect(() => decodeInitializers([short])).toThrow("initializer 'w': raw data has 8 bytes, 3 values of FLOAT need 12");
    expect(() => decodeInitializers([tensor("big", [1], [2 ** 40], DT.INT64)])).toThrow("constant 'big' holds 1099511627776 at index 0, outside the i32 range");
  });

  it("takes int64 token ids as a frac-0 input into a Gather embedding", () => {
    const table = [0.5, 1, -1, 2, 0.25, -0.75];
    const bytes = buildModel({
      nodes: [{ op: "Gather", inputs: ["emb", "tokens"], outputs: ["y"] }],
      inputs: [{ name: "tokens", shape: ["batch", 2], type: DT.INT64 }],
      outputs: [{ name: "y" }],
      initializers: [tensor("emb", [3, 2], table)],
    });
    const { graph } = convertOnnx(bytes);
    expect(graph.inputs).toEqual([{ name: "tokens", shape: [1, 2], frac: 0 }]);
    const y = run(graph, { tokens: Tensor.fromInts([2, 0], [1, 2]) }).outputs.get("y")!;
    expect(y.shape).toEqual([1, 2, 2]);
    expect(Array.from(y.toFloat())).toEqual([0.25, -0.75, 0.5, 1]);
  });
});
