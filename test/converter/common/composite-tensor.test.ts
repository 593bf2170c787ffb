/**
 * The compositions with axes of converter/common/composite-tensor.ts through the ONNX front end,
 * against float64 definitions written here: Trilu, CumSum (every axis, exclusive, reverse; real
 * and integer inputs), OneHot (negative and out-of-range indices, real indices), Hardmax (ties,
 * the pre-13 2-D coercion) and GatherElements (negative indices, indices smaller than data) must
 * be exact; ReduceProd, MeanVarianceNormalization and LRN within the bounds stated beside their
 * compositions. Errors name the node and say what is not supported.
 */
import { describe, expect, it } from "vitest";
import { sizeOf } from "../../../lib/tensor/shape.js";
import { Tensor } from "../../../lib/tensor/tensor.js";
import { Rng } from "../../helpers/random.js";
import { convert, coords, DT, expectValues, f32, flatIndex, i64, runModel, single } from "./composite-helpers.js";

const ULP = 2 ** -16;

/** Apply `fn` to every line of `x` (shape) along `axis`: fn(line values) -> new line values. */
function alongAxis(values: ArrayLike<number>, shape: number[], axis: number, fn: (line: number[]) => number[]): number[] {
  const out = new Array<number>(values.length);
  for (let i = 0; i < values.length; i++) {
    const at = coords(i, shape);
    if (at[axis] !== 0) continue;
    const positions = Array.from({ length: shape[axis] }, (_, k) => flatIndex(at.map((c, d) => (d === axis ? k : c)), shape));
    fn(positions.map((p) => values[p])).forEach((v, k) => (out[positions[k]] = v));
  }
  return out;
}

describe("compositions with axes (ONNX)", () => {
  it("Trilu keeps the upper or lower triangle exactly, for any k (constant or absent)", () => {
    const x = new Rng(1).tensor([2, 4, 5], 16, -3, 3);
    const xs = x.toFloat();
    for (const upper of [0, 1]) {
      for (const k of [undefined, -2, 0, 1, 4, 9]) {
        const spec = single(14, { op: "Trilu", inputs: k === undefined ? ["x"] : ["x", "k"], attrs: { upper } }, x.shape, k === undefined ? [] : [i64("k", [k], [])]);
        const want = xs.map((v, i) => {
          const [, r, c] = coords(i, x.shape);
          return (upper ? c - r >= (k ?? 0) : c - r <= (k ?? 0)) ? v : 0;
        });
        expectValues(runModel(spec, { x }), want, x.shape, `Trilu upper ${upper} k ${k}`);
      }
    }
  });

  it("CumSum is the exact cumulative sum along every axis, exclusive and reverse", () => {
    const cumsum = (exclusive: boolean, reverse: boolean) => (line: number[]) => {
      const order = reverse ? [...line].reverse() : line;
      let acc = 0;
      const sums = order.map((v) => (exclusive ? ((acc += v) - v) : (acc += v)));
      return reverse ? sums.reverse() : sums;
    };
    for (const shape of [[7], [3, 5], [2, 3, 4]]) {
      const x = new Rng(shape.length).tensor(shape, 16, -50, 50);
      for (let axis = -1; axis < shape.length; axis++) {
        for (const [exclusive, reverse] of [[0, 0], [1, 0], [0, 1], [1, 1]]) {
          const spec = single(14, { op: "CumSum", inputs: ["x", "axis"], attrs: { exclusive, reverse } }, shape, [i64("axis", [axis], [])]);
          const want = alongAxis(x.toFloat(), shape, (axis + shape.length) % shape.length, cumsum(!!exclusive, !!reverse));
          expectValues(runModel(spec, { x }), want, shape, `CumSum [${shape}] axis ${axis} exclusive ${exclusive} reverse ${reverse}`);
        }
      }
    }
    const ints = Tensor.fromInts([5, -3, 1000, 7, -20000, 2], [6]);
    const spec = single(14, { op: "CumSum", inputs: ["x", "axis"] }, [6], [i64("axis", [0], [])], DT.INT64);
    expectValues(runModel(spec, { x: ints }), [5, 2, 1002, 1009, -18991, -18989], [6], "CumSum of int64");
  });

  it("OneHot: negative indices count from the end, out-of-range ones give all off, real indices truncate", () => {
    const depth = 4;
    const indices = [-6, -5, -4, -1, 0, 3, 4, 9, 2, 1, -2, 0];
    const ids = Tensor.fromInts(indices, [3, 4]);
    for (const axis of [-1, 0, 1, -3]) {
      const spec = { ...single(11, { op: "OneHot", inputs: ["x", "depth", "values"], attrs: { axis } }, [3, 4], [f32("depth", [depth], []), f32("values", [-0.5, 2])], DT.INT64) };
      const a = (axis + 3) % 3;
      const outShape = [3, 4];
      outShape.splice(a, 0, depth);
      const want = Array.from({ length: sizeOf(outShape) }, (_, i) => {
        const at = coords(i, outShape);
        const index = indices[flatIndex(at.filter((_, d) => d !== a), [3, 4])];
        return (index < 0 ? index + depth : index) === at[a] ? 2 : -0.5;
      });
      expectValues(runModel(spec, { x: ids }), want, outShape, `OneHot axis ${axis}`);
    }
    const real = Tensor.fromFloat([0.75, 2.5, -0.5, -1.25, 3.999], [5], 16);
    const spec = single(11, { op: "OneHot", inputs: ["x", "depth", "values"] }, [5], [i64("depth", [3], []), i64("values", [0, 7])]);
    const want = [0, 2, 0, -1, 3].flatMap((t) => [0, 1, 2].map((p) => ((t < 0 ? t + 3 : t) === p ? 7 : 0)));
    expectValues(runModel(spec, { x: real }), want, [5, 3], "OneHot of real indices");
  });

  it("Hardmax marks the first maximum (ties) along any axis; before opset 13 on the 2-D view", () => {
    const rng = new Rng(4);
    const shape = [3, 4, 5];
    const x = Tensor.fromFloat(Array.from({ length: 60 }, () => rng.int(0, 2)), shape, 16);
    const hardmax = (line: number[]) => line.map((_, k) => (k === line.indexOf(Math.max(...line)) ? 1 : 0));
    for (const axis of [0, 1, 2, -1]) {
      const want = alongAxis(x.toFloat(), shape, (axis + 3) % 3, hardmax);
      expectValues(runModel(single(13, { op: "Hardmax", inputs: ["x"], attrs: { axis } }, shape), { x }), want, shape, `Hardmax axis ${axis}`);
    }
    // Opset 11, axis 1: one line per batch over the 4 * 5 trailing values.
    const want = alongAxis(x.toFloat(), [3, 20], 1, hardmax);
    expectValues(runModel(single(11, { op: "Hardmax", inputs: ["x"], attrs: { axis: 1 } }, shape), { x }), want, shape, "Hardmax-11 axis 1");
  });

  it("GatherElements picks data at the index along the axis, exactly, for any axis and negative indices", () => {
    const rng = new Rng(5);
    const data = rng.tensor([3, 4, 5], 16, -9, 9);
    const ds = data.toFloat();
    for (const [axis, iShape] of [[0, [2, 4, 5]], [1, [3, 6, 2]], [2, [2, 3, 7]], [-1, [3, 4, 1]]] as [number, number[]][]) {
      const a = (axis + 3) % 3;
      const indices = Array.from({ length: sizeOf(iShape) }, () => rng.int(-[3, 4, 5][a], [3, 4, 5][a] - 1));
      const spec = {
        opset: 13,
        nodes: [{ op: "GatherElements", inputs: ["data", "ids"], outputs: ["y"], attrs: { axis } }],
        inputs: [{ name: "data", shape: [3, 4, 5] }, { name: "ids", shape: iShape, type: DT.INT64 }],
        outputs: [{ name: "y" }],
      };
      const want = indices.map((index, i) => {
        const at = coords(i, iShape);
        at[a] = index < 0 ? index + [3, 4, 5][a] : index;
        return ds[flatIndex(at, [3, 4, 5])];
      });
      const y = runModel(spec, { data, ids: Tensor.fromInts(indices, iShape) });
      expectValues(y, want, iShape, `GatherElements axis ${axis}`);
    }
  });

  it("ReduceProd (a chain of Muls) within one rounding per Mul; constants fold", () => {
    const x = new Rng(6).tensor([3, 4, 2], 16, -1, 1);
    const xs = x.toFloat();
    for (const [axes, keepdims] of [[[1], 1], [[0, 2], 0], [undefined, 0], [[-1], 1]] as [number[] | undefined, number][]) {
      const reduced = (axes ?? [0, 1, 2]).map((a) => (a + 3) % 3);
      const groupShape = x.shape.map((d, k) => (reduced.includes(k) ? 1 : d));
      const products = new Array<number>(sizeOf(groupShape)).fill(1);
      xs.forEach((v, i) => (products[flatIndex(coords(i, x.shape).map((c, k) => (reduced.includes(k) ? 0 : c)), groupShape)] *= v));
      const outShape = keepdims ? groupShape : groupShape.filter((_, k) => !reduced.includes(k));
      const factors = sizeOf(reduced.map((a) => x.shape[a]));
      const spec = single(13, { op: "ReduceProd", inputs: ["x"], attrs: { ...(axes ? { axes } : {}), keepdims } }, x.shape);
      // Factors in [-1, 1]: each Mul's rounding (half a unit) is carried by factors of magnitude <= 1.
      expectValues(runModel(spec, { x }), products, outShape, `ReduceProd axes ${axes} keepdims ${keepdims}`, () => (factors - 1) * ULP / 2);
    }
    const folded = convert({ opset: 13, nodes: [{ op: "ReduceProd", inputs: ["c"], outputs: ["p"], attrs: { keepdims: 0 } }, { op: "Mul", inputs: ["x", "p"], outputs: ["y"] }],
      inputs: [{ name: "x", shape: [2] }], outputs: [{ name: "y" }], initializers: [f32("c", [1.5, -2, 3])] });
    expect(folded.nodes.map((n) => n.op)).toEqual(["Mul"]);
  });

  it("MeanVarianceNormalization within 1 ulp of (x - mean) / (std + 1e-9) over default and trailing axes", () => {
    const x = new Rng(7).tensor([2, 3, 4, 5], 16, -6, 10);
    const xs = x.toFloat();
    for (const axes of [undefined, [2, 3], [0, 1, 3]]) {
      const reduced = axes ?? [0, 2, 3];
      const groupShape = x.shape.map((d, k) => (reduced.includes(k) ? 1 : d));
      const group = (i: number) => flatIndex(coords(i, x.shape).map((c, k) => (reduced.includes(k) ? 0 : c)), groupShape);
      const count = sizeOf(reduced.map((a) => x.shape[a]));
      const mean = new Array<number>(sizeOf(groupShape)).fill(0);
      const sq = new Array<number>(sizeOf(groupShape)).fill(0);
      xs.forEach((v, i) => (mean[group(i)] += v / count));
      xs.forEach((v, i) => (sq[group(i)] += (v - mean[group(i)]) ** 2 / count));
      const want = xs.map((v, i) => (v - mean[group(i)]) / (Math.sqrt(sq[group(i)]) + 1e-9));
      const spec = single(13, { op: "MeanVarianceNormalization", inputs: ["x"], ...(axes ? { attrs: { axes } } : {}) }, x.shape);
      const graph = convert(spec);
      expect(graph.nodes.filter((n) => n.op === "Transpose").length, `transposes for axes ${axes}`).toBe(axes?.[0] === 2 ? 0 : 2);
      expectValues(runModel(spec, { x }), want, x.shape, `MVN axes ${axes}`, () => ULP);
    }
  });

  it("LRN within its stated relative bound, for beta 0.75 (Exp/Log), 0.5 (Sqrt) and 1, sizes 3 to 5, large activations", () => {
    const rng = new Rng(8);
    for (const [size, alpha, beta, bias, scale] of [[3, 1e-4, 0.75, 1, 4], [5, 2e-4, 0.5, 2, 4], [4, 1e-3, 1, 1, 20], [5, 1e-4, 0.75, 1, 300]]) {
      const shape = [2, 6, 3, 2];
      const x = rng.tensor(shape, 16, -scale, scale);
      const xs = x.toFloat();
      const [lo, hi] = [Math.floor((size - 1) / 2), Math.ceil((size - 1) / 2)];
      const want = xs.map((v, i) => {
        const at = coords(i, shape);
        let sum = 0;
        for (let ch = Math.max(0, at[1] - lo); ch <= Math.min(5, at[1] + hi); ch++) sum += xs[flatIndex([at[0], ch, at[2], at[3]], shape)] ** 2;
        return v / (bias + (alpha / size) * sum) ** beta;
      });
      const bound = (1.5 * beta * size + beta + 2) * 2 ** -17;
      const spec = single(13, { op: "LRN", inputs: ["x"], attrs: { size, alpha: { float: alpha }, beta: { float: beta }, bias: { float: bias } } }, shape);
      expectValues(runModel(spec, { x }), want, shape, `LRN size ${size} beta ${beta}`, (i) => bound * Math.abs(want[i]) + 2 ** -17);
    }
  });

  it("errors name the node and say what is not supported", () => {
    const cases: [ReturnType<typeof single>, RegExp][] = [
      [{ ...single(14, { op: "CumSum", inputs: ["x", "a"], name: "cs" }, [4]), inputs: [{ name: "x", shape: [4] }, { name: "a", shape: [], type: DT.INT64 }] }, /node 'cs' \(CumSum\): input 1 \(axis\) must be a constant/],
      [single(14, { op: "CumSum", inputs: ["x", "a"], name: "long" }, [1, 2000], [i64("a", [1], [])]), /node 'long' \(CumSum\): an axis of length 2000 is not supported/],
      [single(13, { op: "ReduceProd", inputs: ["x"], name: "rp" }, [5, 20]), /node 'rp' \(ReduceProd\): a product of 100 values per output is not supported/],
      [single(13, { op: "LRN", inputs: ["x"], name: "lrn", attrs: { size: 3, bias: { float: 0 } } }, [1, 4, 2, 2]), /node 'lrn' \(LRN\): bias 0 and alpha 0.0001 are not supported/],
      [single(13, { op: "Celu", inputs: ["x"], name: "celu", attrs: { alpha: { float: 0 } } }, [3]), /node 'celu' \(Celu\): alpha = 0 is not supported/],
      [single(11, { op: "OneHot", inputs: ["x", "d", "v"], name: "oh" }, [3], [f32("d", [2.5], []), f32("v", [0, 1])], DT.INT64), /node 'oh' \(OneHot\): depth 2.5 is not supported/],
    ];
    for (const [spec, message] of cases) expect(() => convert(spec)).toThrow(message);
  });
});
