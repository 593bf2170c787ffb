/**
 * Differential tests of the integer-indexing and integer-division emitters: GatherND (random
 * shapes, tuple depths, batch_dims, negative indices, indices at a frac, constant or run-time
 * indices), Mod (both fmod modes, integer and mixed fracs, raw values up to the i32 limits) and
 * Div's floor and trunc modes (zero divisors included). The compiled module must reproduce the
 * reference byte for byte (the edge values also in the rollup VM), and trap (`unreachable`, in
 * the JS engine and in the VM) exactly where the reference kernel throws: a GatherND index out
 * of range, a Mod by zero.
 */
import { describe, expect, it } from "vitest";
import { compile } from "../../compiler/compile.js";
import { run } from "../../lib/executor.js";
import { GraphBuilder } from "../../lib/graph/builder.js";
import { I32_MAX, I32_MIN } from "../../lib/tensor/fixed.js";
import { Tensor } from "../../lib/tensor/tensor.js";
import { loadWasm, WasmRunner } from "../../runtime-wasm/index.js";
import { VmRunner } from "../../runtime-wasm/vm-runner.js";
import { broadcastableShapes, rawTensor } from "../ops/arith-random.js";
import type { Rng } from "../helpers/random.js";
import { type CaseBuilder, expectCasesMatch, expectVmMatchesReference, expectWasmMatchesReference } from "./helpers.js";

function addGatherND(c: CaseBuilder): void {
  const { rng } = c;
  const shape = rng.shape(1, 4, 1, 4);
  const r = shape.length;
  const data = c.input(shape, rng.pick([0, 16, 20]));
  const b = rng.int(0, Math.min(r - 1, 2));
  const m = rng.int(1, r - b);
  const indicesShape = [...shape.slice(0, b), ...rng.shape(0, 2, 1, 3), m];
  const size = indicesShape.reduce((x, y) => x * y, 1);
  const wanted = Array.from({ length: size }, (_, i) => rng.int(-shape[b + (i % m)], shape[b + (i % m)] - 1));
  const frac = rng.pick([0, 0, 8, 16]);
  // At a frac, each index is off by less than half a unit, which the rescale to frac 0 rounds away.
  const ids = new Tensor(indicesShape, Int32Array.from(wanted, (v) => v * 2 ** frac + (frac ? rng.int(-(2 ** (frac - 1)) + 1, 2 ** (frac - 1) - 1) : 0)), frac);
  c.op("GatherND", [data, c.operand(ids)], { batch_dims: b });
}

/** Raw values (small to the i32 limits) with zeros replaced, or kept for a zero-divisor test. */
function divisor(rng: Rng, shape: number[], frac: number, zeros: boolean): Tensor {
  const t = rawTensor(rng, shape, frac, 0.1);
  return new Tensor(shape, t.data.map((v) => (zeros && rng.next() < 0.15 ? 0 : v === 0 ? 1 : v)), frac);
}

function addDivision(c: CaseBuilder): void {
  const { rng } = c;
  const [sa, sb] = broadcastableShapes(rng, 2);
  const integer = rng.next() < 0.5;
  const [fa, fb] = integer ? [0, 0] : [rng.pick([0, 8, 16, 30]), rng.pick([0, 8, 16, 30])];
  const a = c.input(sa, fa);
  if (rng.next() < 0.5) c.op("Mod", [a, c.operand(divisor(rng, sb, fb, false))], { fmod: rng.int(0, 1) });
  else c.op("Div", [a, c.operand(divisor(rng, sb, fb, true))], { mode: rng.pick(["floor", "trunc"]) });
}

/** A one-node graph of `kind` on inputs x (data/dividend) and y; expect the reference and the wasm run to fail. */
function expectBothFail(kind: string, x: Tensor, y: Tensor, attrs: Record<string, number>, message: string): void {
  const g = new GraphBuilder();
  g.input("x", x.shape, x.frac);
  g.input("y", y.shape, y.frac);
  g.output(g.op(kind, ["x", "y"], attrs, { name: "n" })[0]);
  const graph = g.build();
  expect(() => run(graph, { x, y })).toThrow(message);
  const { wasm } = compile(graph, { strict: true });
  expect(() => new WasmRunner(loadWasm(wasm)).run({ x, y })).toThrow(/unreachable/);
  expect(() => new VmRunner(wasm).run({ x, y })).toThrow(/the VM stopped in segment 1, op op_0 \(n: \w+\): .*unreachable/i);
}

describe("GatherND, Mod and integer Div compile bit-identical to the reference", () => {
  for (const seed of [1, 2, 3]) {
    it(`GatherND: random shapes, depths, batch_dims, negative and fractional indices (seed ${seed})`, () => {
      expect(expectCasesMatch(seed, 30, addGatherND)).toBeGreaterThan(20);
    });
    it(`Mod and Div floor/trunc: integer and mixed fracs, extremes, zero divisors for Div (seed ${seed})`, () => {
      expect(expectCasesMatch(seed + 10, 30, addDivision)).toBeGreaterThan(20);
    });
  }

  it("the FAST build leaves the same memory at every segment boundary", () => {
    expectCasesMatch(7, 12, (c) => (c.rng.next() < 0.5 ? addGatherND(c) : addDivision(c)), "fast");
  });

  it("edge values: I32_MIN by -1, remainders beyond i32, floor and trunc signs", () => {
    const g = new GraphBuilder();
    const x = Tensor.fromInts([I32_MIN, I32_MIN, -7, 7, -7, 0, I32_MAX], [7]);
    const y = Tensor.fromInts([-1, 1, 2, -2, -2, -3, -1], [7]);
    const small = new Tensor([2], Int32Array.of(-1, 1), 16);
    const big = Tensor.fromInts([2 ** 30, -(2 ** 30)], [2]);
    const inputs = { x, y, small, big };
    for (const [name, t] of Object.entries(inputs)) g.input(name, t.shape, t.frac);
    for (const fmod of [0, 1]) g.output(g.op("Mod", ["x", "y"], { fmod })[0], g.op("Mod", ["small", "big"], { fmod })[0]);
    for (const mode of ["floor", "trunc"]) g.output(g.op("Div", ["x", "y"], { mode })[0], g.op("Div", ["small", "big"], { mode })[0]);
    expectWasmMatchesReference(g.build(), inputs);
    expectVmMatchesReference(g.build(), inputs);
    expect([...run(g.build(), inputs).outputs.values()].map((t) => [...t.data])).toEqual([
      [0, 0, 1, -1, -1, 0, 0], [I32_MAX, I32_MIN],
      [0, 0, -1, 1, -1, 0, 0], [-1, 1],
      [I32_MAX, I32_MIN, -4, -4, 3, 0, -I32_MAX], [-1, -1],
      [I32_MAX, I32_MIN, -3, -3, 3, 0, -I32_MAX], [0, 0],
    ]);
  });

  it("traps where the reference throws: a GatherND index out of range, a Mod by zero", () => {
    const data = new Tensor([2, 3], Int32Array.from([1, 2, 3, 4, 5, 6]), 16);
    expectBothFail("GatherND", data, Tensor.fromInts([1, 3], [1, 2]), {}, "GatherND index 3 is out of range for axis 1 of size 3");
    expectBothFail("GatherND", data, Tensor.fromInts([-3, 0], [1, 2]), {}, "GatherND index -3 is out of range for axis 0 of size 2");
    expectBothFail("GatherND", data, Tensor.fromInts([0, 4], [2, 1]), { batch_dims: 1 }, "GatherND index 4 is out of range for axis 1 of size 3");
    expectBothFail("Mod", Tensor.fromInts([5, 6], [2]), Tensor.fromInts([3, 0], [2]), { fmod: 0 }, "Mod divisor is 0");
    expectBothFail("Mod", Tensor.fromInts([5, 6], [2]), Tensor.fromInts([0], [1]), { fmod: 1 }, "Mod divisor is 0");
  });
});
