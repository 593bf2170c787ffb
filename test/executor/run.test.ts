import { describe, expect, it } from "vitest";
import { run } from "../../lib/executor.js";
import { Tensor } from "../../lib/tensor/tensor.js";
import { addBiasF, conv2dF, matmulF, maxPool2F, reluF } from "../helpers/float-nn.js";
import { buildCnn, buildMlp } from "../helpers/models.js";
import { Rng } from "../helpers/random.js";

// Q16 activations and weights at up to 20 fractional bits: the fixed-point answer of these
// two-layer nets stays within a few 1e-4 of float (docs/numerics.md); 2e-3 leaves margin.
const TOLERANCE = 2e-3;

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe("reference executor", () => {
  for (const seed of [1, 2, 3]) {
    it(`runs an MLP like float math (seed ${seed})`, () => {
      const m = buildMlp(seed);
      const rng = new Rng(100 + seed);
      const xs = Array.from({ length: 16 }, () => rng.uniform(-2, 2));
      const y = run(m.graph, { x: Tensor.fromFloat(xs, [1, 16], 16) }).outputs.get("y")!;
      const h = reluF(addBiasF(matmulF(xs, m.w1, 1, 16, 32), m.b1));
      const want = addBiasF(matmulF(h, m.w2, 1, 32, 10), m.b2);
      expect(y.shape).toEqual([1, 10]);
      expect(maxAbsDiff(y.toFloat(), want)).toBeLessThan(TOLERANCE);
    });

    it(`runs a small CNN like float math (seed ${seed})`, () => {
      const m = buildCnn(seed);
      const rng = new Rng(200 + seed);
      const xs = Array.from({ length: 64 }, () => rng.uniform(0, 1));
      const y = run(m.graph, { x: Tensor.fromFloat(xs, [1, 1, 8, 8], 16) }).outputs.get("y")!;
      const c = conv2dF(xs, 1, 8, 8, m.wc, 4, 3, m.bc, 1);
      const p = maxPool2F(reluF(c.data), 4, c.h, c.w);
      const want = addBiasF(matmulF(p.data, m.wf, 1, 64, 5), m.bf);
      expect(maxAbsDiff(y.toFloat(), want)).toBeLessThan(TOLERANCE);
    });
  }

  it("captures every intermediate value when asked", () => {
    const m = buildCnn(5);
    const x = Tensor.fromFloat(new Array(64).fill(0.5), [1, 1, 8, 8], 16);
    const { values, outputs } = run(m.graph, { x }, { capture: true });
    expect([...values!.keys()]).toEqual(m.graph.nodes.flatMap((n) => n.outputs));
    expect(values!.get("y")!.equals(outputs.get("y")!)).toBe(true);
    expect(values!.get("pool")!.shape).toEqual([1, 4, 4, 4]);
  });

  it("is deterministic: the same input gives the same bytes", () => {
    const m = buildCnn(6);
    const x = new Rng(9).tensor([1, 1, 8, 8]);
    const a = run(m.graph, { x }).outputs.get("y")!;
    const b = run(m.graph, { x }).outputs.get("y")!;
    expect(a.equals(b)).toBe(true);
  });

  it("rejects a wrong input shape, an unknown input and a missing input by name", () => {
    const m = buildMlp(1);
    expect(() => run(m.graph, { x: Tensor.zeros([1, 15], 16) })).toThrow("input 'x' has shape [1,15] but the model expects [1,16]");
    expect(() => run(m.graph, { x: Tensor.zeros([1, 16], 16), z: Tensor.zeros([1], 0) })).toThrow("the model has no input 'z'");
    expect(() => run(m.graph, {})).toThrow("missing input 'x'");
  });

  it("rescales an input given at another frac", () => {
    const m = buildMlp(2);
    const xs = Array.from({ length: 16 }, (_, i) => (i - 8) / 4);
    const a = run(m.graph, { x: Tensor.fromFloat(xs, [1, 16], 16) }).outputs.get("y")!;
    const b = run(m.graph, { x: Tensor.fromFloat(xs, [1, 16], 8) }).outputs.get("y")!;
    expect(a.equals(b)).toBe(true);
  });
});
