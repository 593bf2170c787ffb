import { describe, expect, it } from "vitest";
import { Add, add, Max, max, Min, min, Mul, mul, Sub, sub } from "../../lib/ops/binary.js";
import type { OpDef } from "../../lib/ops/op.js";
import { Tensor } from "../../lib/tensor/tensor.js";
import { Rng } from "../helpers/random.js";
import { ONE_ROUNDING_TOLERANCE, broadcastRead, broadcastableShapes, expectExact, expectNear, rawTensor, unravel } from "./arith-random.js";

/** Float reference of an elementwise op over broadcast inputs, on their dequantized values. */
function floatBroadcast(inputs: Tensor[], shape: number[], fn: (...v: number[]) => number): number[] {
  const vals = inputs.map((t) => t.toFloat());
  const n = shape.reduce((a, b) => a * b, 1);
  return Array.from({ length: n }, (_, i) => {
    const idx = unravel(i, shape);
    return fn(...inputs.map((t, k) => vals[k][broadcastRead(idx, t.shape)]));
  });
}

function expectInferMatches(def: OpDef, inputs: Tensor[], out: Tensor, frac: number): void {
  const types = inputs.map((t) => ({ shape: [...t.shape], frac: t.frac }));
  expect(def.infer(types, {}, { frac })).toEqual([{ shape: [...out.shape], frac: out.frac }]);
  expect(def.run(inputs, {}, { frac })[0].equals(out)).toBe(true);
}

const ARITH = [
  { def: Add, kernel: add, ref: (a: number, b: number) => a + b },
  { def: Sub, kernel: sub, ref: (a: number, b: number) => a - b },
  { def: Mul, kernel: mul, ref: (a: number, b: number) => a * b },
];

describe.each(ARITH)("$def.kind", ({ def, kernel, ref }) => {
  for (let seed = 1; seed <= 8; seed++) {
    it(`is within one rounding of float on random broadcast shapes and fracs (seed ${seed})`, () => {
      const rng = new Rng(seed * 7919 + def.kind.length);
      for (let trial = 0; trial < 25; trial++) {
        const [sa, sb] = broadcastableShapes(rng, 2);
        const a = rawTensor(rng, sa, rng.int(0, 24));
        const b = rawTensor(rng, sb, rng.int(0, 24));
        const frac = rng.int(0, 24);
        const out = kernel(a, b, frac);
        expectNear(out, floatBroadcast([a, b], [...out.shape], ref), ONE_ROUNDING_TOLERANCE, `${def.kind} ${a} ${b} -> Q${frac}`);
        expectInferMatches(def, [a, b], out, frac);
      }
    });
  }

  it("saturates at the i32 limits", () => {
    const big = Tensor.fromInts([2147483647, -2147483648, 2147483000], [3]);
    const out = kernel(big, Tensor.fromInts([2147483647, 2147483647, -2147483648], [3]), 0);
    const want = floatBroadcast([big, Tensor.fromInts([2147483647, 2147483647, -2147483648], [3])], [3], ref);
    expectExact(out, want, def.kind);
  });

  it("rejects shapes that do not broadcast", () => {
    expect(() => def.infer([{ shape: [2, 3], frac: 16 }, { shape: [4], frac: 16 }], {}, { frac: 16 })).toThrow(/do not broadcast/);
  });
});

describe("wide intermediates beyond 2^53", () => {
  it("Add of a large frac-0 integer and a frac-30 value keeps every bit it can", () => {
    const rng = new Rng(99);
    for (let trial = 0; trial < 200; trial++) {
      const a = Tensor.fromInts([rng.int(2 ** 29, 2 ** 31 - 1) * (rng.next() < 0.5 ? -1 : 1)], []);
      const b = new Tensor([], Int32Array.of(rng.int(-(2 ** 31), 2 ** 31 - 1)), 30);
      expectNear(add(a, b, 0), [a.toFloat()[0] + b.toFloat()[0]], ONE_ROUNDING_TOLERANCE, "Add");
      expectNear(sub(b, a, 1), [b.toFloat()[0] - a.toFloat()[0]], ONE_ROUNDING_TOLERANCE, "Sub");
    }
  });

  it("Mul of two frac-30 values (products near 2^61) is exact then rounded once", () => {
    const rng = new Rng(123);
    for (let trial = 0; trial < 200; trial++) {
      const a = new Tensor([2], Int32Array.of(rng.int(-(2 ** 31), 2 ** 31 - 1), rng.int(2 ** 29, 2 ** 30)), 30);
      const b = new Tensor([2], Int32Array.of(rng.int(-(2 ** 31), 2 ** 31 - 1), -rng.int(2 ** 29, 2 ** 30)), 30);
      const frac = rng.int(24, 30);
      const out = mul(a, b, frac);
      // Bit-exact against BigInt: floor((p + 2^(s-1)) / 2^s) with s = 60 - frac, saturated.
      out.data.forEach((v, i) => {
        const p = BigInt(a.data[i]) * BigInt(b.data[i]);
        const s = BigInt(60 - frac);
        const rounded = (p + (1n << (s - 1n))) >> s;
        const want = rounded > 2147483647n ? 2147483647n : rounded < -2147483648n ? -2147483648n : rounded;
        expect(BigInt(v)).toBe(want);
      });
    }
  });

  it("Mul of integers narrowed to a higher frac saturates instead of wrapping", () => {
    const out = mul(Tensor.fromInts([2147483647, -2147483648, 3], [3]), Tensor.fromInts([2147483647, 2147483647, -5], [3]), 24);
    expect(Array.from(out.data)).toEqual([2147483647, -2147483648, -15 * 2 ** 24]);
  });
});

describe.each([
  { def: Max, kernel: max, ref: Math.max },
  { def: Min, kernel: min, ref: Math.min },
])("$def.kind", ({ def, kernel, ref }) => {
  for (let seed = 1; seed <= 6; seed++) {
    it(`equals the float pick rescaled to ctx.frac over 1..4 inputs (seed ${seed})`, () => {
      const rng = new Rng(seed * 31 + def.kind.length);
      for (let trial = 0; trial < 20; trial++) {
        const shapes = broadcastableShapes(rng, rng.int(1, 4));
        const inputs = shapes.map((s) => rawTensor(rng, s, rng.int(0, 24)));
        const frac = rng.int(0, 24);
        const out = kernel(inputs, frac);
        expectExact(out, floatBroadcast(inputs, [...out.shape], ref), def.kind);
        expectInferMatches(def, inputs, out, frac);
      }
    });
  }

  it("defaults the output frac to the first input's", () => {
    const out = kernel([Tensor.fromFloat([1.5, -2], [2], 8), Tensor.fromFloat([0.25], [1], 16)]);
    expect(out.frac).toBe(8);
  });
});
