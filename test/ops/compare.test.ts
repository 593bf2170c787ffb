import { describe, expect, it } from "vitest";
import { Equal, equal, Greater, greater, Less, less, Where, where } from "../../lib/ops/compare.js";
import { Tensor } from "../../lib/tensor/tensor.js";
import { Rng } from "../helpers/random.js";
import { broadcastRead, broadcastableShapes, expectExact, rawTensor, unravel } from "./arith-random.js";

function typeOf(t: Tensor) {
  return { shape: [...t.shape], frac: t.frac };
}

describe.each([
  { def: Equal, kernel: equal, ref: (a: number, b: number) => a === b },
  { def: Less, kernel: less, ref: (a: number, b: number) => a < b },
  { def: Greater, kernel: greater, ref: (a: number, b: number) => a > b },
])("$def.kind", ({ def, kernel, ref }) => {
  for (let seed = 1; seed <= 6; seed++) {
    it(`matches the float comparison exactly on broadcast inputs with mixed fracs (seed ${seed})`, () => {
      const rng = new Rng(seed * 17 + def.kind.length);
      for (let trial = 0; trial < 20; trial++) {
        const [sa, sb] = broadcastableShapes(rng, 2);
        const a = rawTensor(rng, sa, rng.int(0, 24));
        // Half the time b holds a's values at a higher frac, so Equal sees true cases.
        const b = rng.next() < 0.5 ? rawTensor(rng, sb, rng.int(0, 24)) : realign(a, rng.int(a.frac, 24));
        const out = kernel(a, b);
        const af = a.toFloat();
        const bf = b.toFloat();
        const want = Array.from({ length: out.size }, (_, i) => {
          const idx = unravel(i, out.shape);
          return ref(af[broadcastRead(idx, a.shape)], bf[broadcastRead(idx, b.shape)]) ? 1 : 0;
        });
        expect(out.frac).toBe(0);
        expect(Array.from(out.data)).toEqual(want);
        expect(def.infer([typeOf(a), typeOf(b)], {}, { frac: 16 })).toEqual([typeOf(out)]);
      }
    });
  }

  it("rejects shapes that do not broadcast", () => {
    expect(() => def.infer([{ shape: [3], frac: 0 }, { shape: [2], frac: 0 }], {}, { frac: 16 })).toThrow(/do not broadcast/);
  });
});

/** a's values at a frac >= a.frac (saturated where they do not fit), perturbed by one unit here and there. */
function realign(a: Tensor, frac: number): Tensor {
  const t = Tensor.fromFloat(a.toFloat(), [...a.shape], frac);
  for (let i = 0; i < t.size; i += 3) if (t.data[i] < 2147483647) t.data[i] += 1;
  return t;
}

describe("Where", () => {
  for (let seed = 1; seed <= 6; seed++) {
    it(`picks x or y rescaled to ctx.frac with broadcasting of all three inputs (seed ${seed})`, () => {
      const rng = new Rng(seed + 500);
      for (let trial = 0; trial < 20; trial++) {
        const [sc, sx, sy] = broadcastableShapes(rng, 3);
        const cond = new Tensor(sc, Int32Array.from({ length: sc.reduce((p, d) => p * d, 1) }, () => rng.pick([0, 0, 1, -7, 1 << 20])), rng.int(0, 16));
        const x = rawTensor(rng, sx, rng.int(0, 24));
        const y = rawTensor(rng, sy, rng.int(0, 24));
        const frac = rng.int(0, 24);
        const out = where(cond, x, y, frac);
        const xf = x.toFloat();
        const yf = y.toFloat();
        const want = Array.from({ length: out.size }, (_, i) => {
          const idx = unravel(i, out.shape);
          return cond.data[broadcastRead(idx, sc)] !== 0 ? xf[broadcastRead(idx, sx)] : yf[broadcastRead(idx, sy)];
        });
        expectExact(out, want, "Where");
        expect(Where.infer([typeOf(cond), typeOf(x), typeOf(y)], {}, { frac })).toEqual([typeOf(out)]);
        expect(Where.run([cond, x, y], {}, { frac })[0].equals(out)).toBe(true);
      }
    });
  }

  it("rejects shapes that do not broadcast", () => {
    const t = (shape: number[]) => ({ shape, frac: 16 });
    expect(() => Where.infer([t([2, 1]), t([1, 3]), t([2, 4])], {}, { frac: 16 })).toThrow("shapes [2,1] and [1,3] and [2,4] do not broadcast");
  });
});
