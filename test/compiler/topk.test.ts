/**
 * Differential tests of the TopK emitter: random shapes, axes, k and largest over tie-heavy and
 * extreme values (constant inputs too, which the compiler folds with the reference kernel), the
 * edge cases (k = 1, k = n, all values equal, the i32 limits, ascending input where every element
 * shifts the whole buffer, an inner stride that is not a power of two), a TopK whose Values
 * output nobody reads feeding a Gather, and a heatmap-sized slice. The compiled module must give
 * the reference's bytes in the JS engine and in the rollup VM; on the heatmap the VM's step count
 * per element is bounded, since the VM pays for every instruction of the rejection loop.
 */
import { describe, expect, it } from "vitest";
import { compile } from "../../compiler/compile.js";
import { run } from "../../lib/executor.js";
import { GraphBuilder } from "../../lib/graph/builder.js";
import { I32_MAX, I32_MIN } from "../../lib/tensor/fixed.js";
import { normAxis } from "../../lib/tensor/shape.js";
import { Tensor } from "../../lib/tensor/tensor.js";
import { packTensors, unpackTensors } from "../../abi/tensors.js";
import { decodeModule, Machine, Status } from "../../vm/index.js";
import { Rng } from "../helpers/random.js";
import { rangeTensor, rawTensor } from "../ops/arith-random.js";
import { type CaseBuilder, expectCasesMatch, expectSameTensor, expectVmMatchesReference, expectWasmMatchesReference } from "./helpers.js";

function addTopK(c: CaseBuilder): void {
  const { rng } = c;
  const shape = rng.shape(1, 4, 1, 6);
  const axis = rng.int(-shape.length, shape.length - 1);
  const n = shape[normAxis(axis, shape.length)];
  const frac = rng.pick([0, 16, 20]);
  const values = rng.next() < 0.7 ? rangeTensor(rng, shape, -2, 2, frac) : rawTensor(rng, shape, frac, 0.3);
  const x = rng.next() < 0.8 ? c.input(shape, frac, values) : c.constant(values);
  c.op("TopK", [x], { k: rng.pick([1, n, rng.int(1, n)]), axis, largest: rng.int(0, 1), sorted: rng.int(0, 1) });
}

describe("TopK compiles bit-identical to the reference", () => {
  for (const seed of [1, 2, 3]) {
    it(`random shapes, axes, k, largest; ties and extremes; constant inputs (seed ${seed})`, () => {
      expect(expectCasesMatch(seed, 30, addTopK)).toBe(30);
    });
  }

  it("the FAST build leaves the same memory at every segment boundary", () => {
    expectCasesMatch(9, 12, addTopK, "fast");
  });

  it("edge cases in the JS engine and the VM: k = 1, k = n, all equal, i32 limits, ascending, inner stride 3", () => {
    const rng = new Rng(4);
    const g = new GraphBuilder();
    const inputs: Record<string, Tensor> = {
      equal: new Tensor([3, 9], new Int32Array(27).fill(-5), 16),
      limits: Tensor.fromInts(Array.from({ length: 24 }, (_, j) => [I32_MAX, I32_MIN, 0, I32_MAX, -1, I32_MIN][j % 6]), [2, 12]),
      ascending: Tensor.fromInts(Array.from({ length: 40 }, (_, j) => j - 20), [40]),
      strided: rangeTensor(rng, [2, 10, 3], -1, 1, 8),
    };
    for (const [name, t] of Object.entries(inputs)) g.input(name, t.shape, t.frac);
    const cases: [string, number, number][] = [["equal", 1, 9], ["limits", 1, 12], ["ascending", 0, 40], ["strided", 1, 10]];
    for (const [name, axis, n] of cases) {
      for (const k of [1, Math.max(1, n >> 1), n]) {
        for (const largest of [0, 1]) g.output(...g.op("TopK", [name], { k, axis, largest }));
      }
    }
    const graph = g.build();
    expectWasmMatchesReference(graph, inputs);
    expectVmMatchesReference(graph, inputs);
  });

  it("only the Indices are read, by a Gather (the Values still get a buffer of their own)", () => {
    const g = new GraphBuilder();
    const scores = rangeTensor(new Rng(6), [1, 30], 0, 4, 16);
    const table = new Rng(7).tensor([30, 4]);
    g.input("scores", scores.shape, scores.frac);
    g.input("table", table.shape, table.frac);
    const [, picks] = g.op("TopK", ["scores"], { k: 5 });
    const [flat] = g.op("Reshape", [picks], { shape: [5] });
    g.output(g.op("Gather", ["table", flat], { axis: 0 })[0]);
    expectWasmMatchesReference(g.build(), { scores, table });
    expectVmMatchesReference(g.build(), { scores, table });
  });

  it("a heatmap of 400000 mostly-zero values, k = 100: same outputs in the VM, at most 15 steps per element", () => {
    // A rejected element costs 13 VM steps (load, compare, branch, pointer step and loop test);
    // the k ln(n/k) insertions of random data add the rest.
    const rng = new Rng(8);
    const n = 400000;
    const heat = new Tensor([1, n], Int32Array.from({ length: n }, () => (rng.next() < 0.01 ? rng.int(1, 65536) : 0)), 16);
    const g = new GraphBuilder();
    g.input("heat", heat.shape, heat.frac);
    g.output(...g.op("TopK", ["heat"], { k: 100 }));
    const graph = g.build();
    expectWasmMatchesReference(graph, { heat });
    const { wasm, manifest } = compile(graph);
    const machine = new Machine(decodeModule(wasm), packTensors(manifest.inputs, [heat]));
    const result = machine.runAll();
    expect(result.status).toBe(Status.HALTED);
    const [values, indices] = unpackTensors(manifest.outputs, machine.outputBytes());
    const [wantValues, wantIndices] = [...run(graph, { heat }).outputs.values()];
    expectSameTensor(values, wantValues, "Values in the VM");
    expectSameTensor(indices, wantIndices, "Indices in the VM");
    expect(result.segmentSteps[1] / n).toBeLessThanOrEqual(15);
  });
});
