import { describe, expect, it } from "vitest";
import { ALL_OPS } from "../../lib/ops/index.js";
import * as ops from "../../lib/ops/kernels.js";

describe("the ops namespace", () => {
  it("has a functional kernel for every IR op kind except Identity", () => {
    const names = new Set(Object.keys(ops).map((n) => n.toLowerCase()));
    const missing = ALL_OPS.map((d) => d.kind).filter((k) => k !== "Identity" && !names.has(k.toLowerCase()));
    expect(missing).toEqual([]);
  });

  it("lists every op kind of the foundation issue and the later additions, each once", () => {
    const later = ["Mod", "GatherND", "TopK"];
    const required = `MatMul Gemm Conv ConvTranspose MaxPool AveragePool GlobalAveragePool GlobalMaxPool
      BatchNormalization LayerNormalization Add Sub Mul Div Neg Abs Min Max Relu LeakyRelu PRelu Elu Clip
      Sigmoid HardSigmoid Tanh Exp Log Sqrt Reciprocal Pow Erf Gelu Softmax LogSoftmax Reshape Flatten
      Transpose Concat Split Slice Gather Squeeze Unsqueeze Expand Tile Pad ReduceMean ReduceSum ReduceMax
      ReduceMin ArgMax Equal Less Greater Where Identity Resize`.split(/\s+/).concat(later);
    const kinds = ALL_OPS.map((d) => d.kind);
    expect(new Set(kinds).size).toBe(kinds.length);
    expect([...kinds].sort()).toEqual([...required].sort());
  });
});
