/**
 * Tied weights (converter/common/draft.ts `matMulTransposed`): a language model's head that reads
 * the token table through a Transpose (GPT-2's tied embeddings) becomes Gemm(x, table, transB=1)
 * on that same table, so the converted graph stores it once. Checked on a model built here: the
 * table is stored once, the outputs equal those of the same model with the head given as its own
 * pre-transposed initializer (no Transpose: the plain MatMul path) bit for bit, and both agree with
 * onnxruntime; and on the small GPT of the fixtures, whose parameter count after conversion is
 * PyTorch's (the tied table once).
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { convertOnnx } from "../../converter/onnx/index.js";
import { run } from "../../lib/executor.js";
import { Tensor } from "../../lib/tensor/tensor.js";
import { buildModel, DT, runOrt, tensor } from "./onnx/onnx-builder.js";
import { Rng } from "../helpers/random.js";

const [V, D, T] = [40, 12, 5];
const rng = new Rng(17);
const table = Array.from({ length: V * D }, () => (rng.next() - 0.5) * 0.8);
const transposed = Array.from({ length: D * V }, (_, i) => table[(i % V) * D + Math.floor(i / V)]);

/** tokens [1, T] -> Gather(table) -> Tanh -> MatMul with the table transposed: by a Transpose node, or pre-transposed. */
function model(tied: boolean): Uint8Array {
  return buildModel({
    inputs: [{ name: "tokens", shape: [1, T], type: DT.INT64 }],
    outputs: [{ name: "logits", shape: [1, T, V] }],
    initializers: [tensor("table", [V, D], table), ...(tied ? [] : [tensor("head", [D, V], transposed)])],
    nodes: [
      { op: "Gather", inputs: ["table", "tokens"], outputs: ["emb"] },
      { op: "Tanh", inputs: ["emb"], outputs: ["h"] },
      ...(tied ? [{ op: "Transpose", inputs: ["table"], outputs: ["head"], attrs: { perm: [1, 0] } }] : []),
      { op: "MatMul", inputs: ["h", "head"], outputs: ["logits"] },
    ],
  });
}

describe("tied weights", () => {
  const tokens = [3, 0, 39, 17, 3];
  const feed = new Map([["tokens", Tensor.fromInts(tokens, [1, T])]]);

  it("a MatMul on a transposed constant reads the constant itself, with the plain MatMul's results", async () => {
    const tied = convertOnnx(model(true), { source: "tied.onnx" }).graph;
    const plain = convertOnnx(model(false), { source: "plain.onnx" }).graph;
    const stored = (g: typeof tied) => [...g.constants.values()].reduce((n, t) => n + t.size, 0);
    expect(stored(tied)).toBe(V * D);
    expect(stored(plain)).toBe(2 * V * D);
    const gemm = tied.nodes.find((n) => n.op === "Gemm")!;
    expect(gemm.inputs[1]).toBe(tied.nodes.find((n) => n.op === "Gather")!.inputs[0]);
    const a = run(tied, feed).outputs.get("logits")!;
    const b = run(plain, feed).outputs.get("logits")!;
    expect(a.shape).toEqual([1, T, V]);
    expect(Array.from(a.data)).toEqual(Array.from(b.data));
    const ort = await runOrt(model(true), { tokens: { data: BigInt64Array.from(tokens.map(BigInt)), shape: [1, T] } });
    const got = a.toFloat();
    ort.logits.data.forEach((x, i) => expect(Math.abs(got[i] - x)).toBeLessThan(1e-3));
  });

  it("the small GPT stores its tied token table once", () => {
    const graph = convertOnnx(new Uint8Array(readFileSync("fixtures/models/small_gpt/small_gpt.onnx")), { source: "small_gpt.onnx" }).graph;
    const params = [...graph.constants.values()].reduce((n, t) => n + t.size, 0);
    // 1,237,056 trainable parameters in PyTorch (docs/generate.md), the table of 8192 x 96 among them, once.
    expect(params).toBeLessThan(1_237_056 + 10_000);
  });
});
