import { describe, expect, it } from "vitest";
import { GraphBuilder } from "../../lib/graph/builder.js";
import { Tensor } from "../../lib/tensor/tensor.js";
import { inferIntRange, randomSamples, samplesFromArrays, SeededRandom, shapesFromArrays, type NpyInput } from "../../lib/verify/inputs.js";

/** tokens [1,4] (int) -> Gather from a [vocab, 3] table; x [1,3] real added. */
function embeddingGraph(vocab: number) {
  const g = new GraphBuilder();
  const tokens = g.input("tokens", [1, 4], 0);
  const x = g.input("x", [1, 3]);
  const table = g.constant("table", Array.from({ length: vocab * 3 }, (_, i) => i / 10), [vocab, 3]);
  const e = g.op("Gather", [table, tokens], { axis: 0 })[0];
  g.output(g.op("Add", [e, x], {}, { outputs: ["y"] })[0]);
  return g.build();
}

const npy = (path: string, shape: number[], values: number[], dtype: "float32" | "int64" = "float32"): NpyInput =>
  ({ path, npy: { shape, dtype, data: dtype === "int64" ? Int32Array.from(values) : Float32Array.from(values) } });

describe("SeededRandom", () => {
  it("is reproducible and roughly standard normal", () => {
    const a = new SeededRandom(7);
    const b = new SeededRandom(7);
    const xs = Array.from({ length: 20000 }, () => a.normal());
    expect(Array.from({ length: 20000 }, () => b.normal())).toEqual(xs);
    const mean = xs.reduce((s, v) => s + v, 0) / xs.length;
    const variance = xs.reduce((s, v) => s + (v - mean) ** 2, 0) / xs.length;
    expect(Math.abs(mean)).toBeLessThan(0.03);
    expect(Math.abs(variance - 1)).toBeLessThan(0.05);
    const ints = Array.from({ length: 1000 }, () => a.int(-2, 3));
    expect(Math.min(...ints)).toBe(-2);
    expect(Math.max(...ints)).toBe(3);
  });
});

describe("random samples", () => {
  it("reads the token range off Gather and quantizes reals at the input frac", () => {
    const graph = embeddingGraph(11);
    expect(inferIntRange(graph, "tokens")).toEqual({ lo: 0, hi: 10 });
    expect(inferIntRange(graph, "x")).toBeUndefined();
    const samples = randomSamples(graph, 5, 3);
    expect(samples).toHaveLength(5);
    for (const s of samples) {
      const tokens = s.fixed.get("tokens")!;
      expect(tokens.frac).toBe(0);
      expect(Array.from(tokens.data)).toEqual(Array.from(s.float.get("tokens")!.data));
      expect(tokens.data.every((v) => v >= 0 && v <= 10)).toBe(true);
      const x = s.float.get("x")!;
      expect(s.fixed.get("x")!.equals(Tensor.fromFloat(x.data, [1, 3], 16))).toBe(true);
    }
    expect(randomSamples(graph, 5, 3)[4].float.get("x")).toEqual(samples[4].float.get("x"));
    expect(randomSamples(graph, 1, 4)[0].float.get("x")).not.toEqual(samples[0].float.get("x"));
  });

  it("uses a given range, 0..1 for booleans, and asks for one otherwise", () => {
    const g = new GraphBuilder();
    g.output(g.op("Relu", [g.input("n", [1, 6], 0)], {}, { outputs: ["y"] })[0]);
    const graph = g.build();
    const given = randomSamples(graph, 3, 1, { intRanges: { n: { lo: 5, hi: 6 } } });
    expect(given.every((s) => s.fixed.get("n")!.data.every((v) => v === 5 || v === 6))).toBe(true);
    const bools = randomSamples(graph, 3, 1, { dtypes: { n: "bool" } });
    expect(bools.every((s) => s.fixed.get("n")!.data.every((v) => v === 0 || v === 1))).toBe(true);
    expect(() => randomSamples(graph, 1, 1)).toThrow("input 'n' takes integers whose valid range is unknown: pass --int-range n=LO:HI or --input n=FILE.npy");
  });
});

describe("samples from arrays", () => {
  it("fixes a symbolic batch to 1 and other symbolic dims from the array", () => {
    const arrays = new Map([["x", npy("x.npy", [7, 3, 5], new Array(105).fill(0))]]);
    expect(shapesFromArrays([{ name: "x", dtype: "float32", shape: ["batch", 3, "len"] }], arrays)).toEqual({ x: [1, 3, 5] });
    expect(shapesFromArrays([{ name: "x", dtype: "float32", shape: [7, 3, 5] }], arrays)).toEqual({});
    expect(shapesFromArrays([{ name: "x", dtype: "float32", shape: ["b", 3, 5] }], arrays, { x: [2, 3, 5] })).toEqual({});
    expect(() => shapesFromArrays([{ name: "x", dtype: "float32", shape: ["b", 15] }], arrays)).toThrow("x.npy: input 'x' has shape [7,3,5] but the model expects rank 2 [b,15]");
  });

  it("splits a batch into samples, keeping the float values", () => {
    const graph = embeddingGraph(4);
    const tokens = [0, 1, 2, 3, 3, 2, 1, 0];
    const xs = [0.5, -1, 2, 0.25, 0.125, -3];
    const samples = samplesFromArrays(graph, new Map([["tokens", npy("t.npy", [2, 4], tokens, "int64")], ["x", npy("x.npy", [2, 3], xs)]]));
    expect(samples).toHaveLength(2);
    expect(Array.from(samples[1].float.get("x")!.data)).toEqual([0.25, 0.125, -3]);
    expect(samples[1].float.get("x")!.shape).toEqual([1, 3]);
    expect(Array.from(samples[1].fixed.get("tokens")!.data)).toEqual([3, 2, 1, 0]);
    expect(() => samplesFromArrays(graph, new Map([["tokens", npy("t.npy", [2, 4], tokens, "int64")], ["x", npy("x.npy", [3, 3], [...xs, 0, 0, 0])]])))
      .toThrow("inputs have different batch sizes (tokens: 2, x: 3)");
    expect(() => samplesFromArrays(graph, new Map([["tokens", npy("t.npy", [2, 5], [...tokens, 0, 0], "int64")], ["x", npy("x.npy", [2, 3], xs)]])))
      .toThrow("t.npy: input 'tokens' has shape [2,5] but the model expects [1,4] (or [N,4] for a batch of N)");
  });

  it("refuses an empty batch and a 0-d array with the input, its shape and the shapes expected", () => {
    const graph = embeddingGraph(4);
    const x = npy("x.npy", [1, 3], [1, 2, 3]);
    expect(() => samplesFromArrays(graph, new Map([["tokens", npy("t.npy", [0, 4], [], "int64")], ["x", x]])))
      .toThrow("t.npy: input 'tokens' has shape [0,4], an empty batch, but the model expects [1,4] (or [N,4] for a batch of N >= 1)");
    const g = new GraphBuilder();
    g.output(g.op("Relu", [g.input("s", [1])], {}, { outputs: ["y"] })[0]);
    expect(() => samplesFromArrays(g.build(), new Map([["s", npy("s.npy", [], [0.5])]])))
      .toThrow("s.npy: input 's' has shape [], a 0-d array, but the model expects [1] (or [N] for a batch of N)");
  });
});
