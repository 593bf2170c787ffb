/**
 * The conversion-time evaluator: hand-checked cases for the integer rules (Div and Cast
 * truncate, Div's floor mode and Mod's fmod, comparisons give bools, Reshape's 0 and -1) and,
 * for the data-movement and reduction folders, random shapes and parameters checked against
 * onnxruntime on the same float32 values (a model whose only input is a constant folds
 * completely; the float64 fold of float32 data must agree with onnxruntime's float32 result to
 * float32 precision).
 */
import { describe, expect, it } from "vitest";
import { evaluate } from "../../../converter/common/fold.js";
import { constValue, intVector, scalar, type ConstValue } from "../../../converter/common/values.js";
import { convertOnnx } from "../../../converter/onnx/index.js";
import { run } from "../../../lib/executor.js";
import { Rng } from "../../helpers/random.js";
import { buildModel, DT, runOrt, tensor, type NodeSpec } from "../onnx/onnx-builder.js";

const values = (v: ConstValue) => Array.from(v.data);
const floats = (shape: number[], data: number[]) => constValue("float", shape, data);

describe("constant folding: integer and shape rules", () => {
  it("Div truncates integers (or floors, mode floor), Mod follows fmod, Cast to int truncates, to bool tests nonzero", () => {
    const ints = constValue("int", [4], [7, -7, 9, 1]);
    expect(values(evaluate("Div", [ints, scalar("int", 2)], {})[0])).toEqual([3, -3, 4, 0]);
    expect(values(evaluate("Div", [floats([1], [7]), scalar("float", 2)], {})[0])).toEqual([3.5]);
    expect(values(evaluate("Div", [ints, scalar("int", 2)], { mode: "floor" })[0])).toEqual([3, -4, 4, 0]);
    expect(values(evaluate("Div", [floats([1], [-7]), scalar("float", 2)], { mode: "trunc" })[0])).toEqual([-3]);
    expect(values(evaluate("Mod", [ints, scalar("int", -2)], { fmod: 0 })[0])).toEqual([-1, -1, -1, -1]);
    expect(values(evaluate("Mod", [ints, scalar("int", -2)], { fmod: 1 })[0])).toEqual([1, -1, 1, 1]);
    expect(() => evaluate("Mod", [ints, scalar("int", 0)], {})).toThrow("Mod divisor is 0");
    const cast = evaluate("Cast", [floats([4], [1.7, -1.7, 0, 0.2])], { to: "int" })[0];
    expect([cast.dtype, ...values(cast)]).toEqual(["int", 1, -1, 0, 0]);
    expect(values(evaluate("Cast", [floats([3], [0, -0.5, 2])], { to: "bool" })[0])).toEqual([0, 1, 1]);
  });

  it("comparisons give bools and Where picks by them with broadcasting", () => {
    const [eq] = evaluate("Equal", [intVector([1, 2, 3]), scalar("int", 2)], {});
    expect([eq.dtype, ...values(eq)]).toEqual(["bool", 0, 1, 0]);
    const [w] = evaluate("Where", [constValue("bool", [2, 1], [1, 0]), scalar("float", -1), floats([3], [5, 6, 7])], {});
    expect(w.shape).toEqual([2, 3]);
    expect(values(w)).toEqual([-1, -1, -1, 5, 6, 7]);
  });

  it("Reshape copies 0 dims and infers -1; Squeeze/Unsqueeze move axes", () => {
    const x = floats([2, 3, 4], Array.from({ length: 24 }, (_, i) => i));
    expect(evaluate("Reshape", [x], { shape: [0, -1] })[0].shape).toEqual([2, 12]);
    expect(evaluate("Unsqueeze", [x], { axes: [0, -1] })[0].shape).toEqual([1, 2, 3, 4, 1]);
    expect(evaluate("Squeeze", [floats([1, 3, 1], [1, 2, 3])], {})[0].shape).toEqual([3]);
    expect(() => evaluate("Reshape", [x], { shape: [5, -1] })).toThrow("cannot reshape [2,3,4] (24 values) to [5,-1]");
  });

  it("Range, ConstantOfShape and Gather with negative indices", () => {
    expect(values(evaluate("Range", [scalar("int", 1), scalar("int", 8), scalar("int", 3)], {})[0])).toEqual([1, 4, 7]);
    const [filled] = evaluate("ConstantOfShape", [intVector([2, 2])], { value: 1.5, dtype: "float" });
    expect([filled.shape, values(filled)]).toEqual([[2, 2], [1.5, 1.5, 1.5, 1.5]]);
    const [g] = evaluate("Gather", [intVector([10, 20, 30]), constValue("int", [2], [-1, 0])], { axis: 0 });
    expect(values(g)).toEqual([30, 10]);
  });
});

/** A random case: a node on constant inputs, and the attributes it needs. */
function randomCase(rng: Rng, op: string): { node: NodeSpec; inits: ReturnType<typeof tensor>[] } {
  const shape = rng.shape(1, 4, 1, 4);
  const rank = shape.length;
  const data = (s: number[]) => Array.from({ length: s.reduce((a, b) => a * b, 1) }, () => Math.fround(rng.uniform(-2, 2)));
  const a = tensor("a", shape, data(shape));
  const i64 = (name: string, v: number[]) => tensor(name, [v.length], v, DT.INT64);
  const axis = rng.int(-rank, rank - 1);
  switch (op) {
    case "Transpose": {
      const perm = [...shape.keys()].sort(() => rng.next() - 0.5);
      return { node: { op, inputs: ["a"], outputs: ["y"], attrs: { perm } }, inits: [a] };
    }
    case "Slice": {
      const ax = (axis + rank) % rank;
      const step = rng.pick([-2, -1, 1, 2]);
      return { node: { op, inputs: ["a", "s", "e", "x", "p"], outputs: ["y"] }, inits: [a, i64("s", [rng.int(-5, 5)]), i64("e", [rng.int(-5, 5)]), i64("x", [ax]), i64("p", [step])] };
    }
    case "Gather": {
      const n = shape[(axis + rank) % rank];
      const idx = Array.from({ length: rng.int(1, 3) }, () => rng.int(-n, n - 1));
      return { node: { op, inputs: ["a", "i"], outputs: ["y"], attrs: { axis } }, inits: [a, tensor("i", [idx.length], idx, DT.INT64)] };
    }
    case "Concat": {
      const other = [...shape];
      other[(axis + rank) % rank] = rng.int(1, 3);
      return { node: { op, inputs: ["a", "b"], outputs: ["y"], attrs: { axis } }, inits: [a, tensor("b", other, data(other))] };
    }
    case "Tile":
      return { node: { op, inputs: ["a", "r"], outputs: ["y"] }, inits: [a, i64("r", shape.map(() => rng.int(1, 2)))] };
    case "Expand":
      return { node: { op, inputs: ["a", "s"], outputs: ["y"] }, inits: [a, i64("s", [rng.int(1, 2), ...shape.map((d) => (d === 1 ? rng.int(1, 3) : d))])] };
    case "Sub": case "Mul": case "Div": case "Max": {
      const other = shape.slice(rng.int(0, rank - 1)).map((d) => (rng.next() < 0.3 ? 1 : d));
      return { node: { op, inputs: ["a", "b"], outputs: ["y"] }, inits: [a, tensor("b", other, data(other).map((v) => (Math.abs(v) < 0.1 ? 0.5 : v)))] };
    }
    case "ReduceSum": // axes became an input in opset 13 for ReduceSum only
      return { node: { op, inputs: ["a", "x"], outputs: ["y"], attrs: { keepdims: rng.int(0, 1) } }, inits: [a, i64("x", [axis])] };
    default: // the other reductions
      return { node: { op, inputs: ["a"], outputs: ["y"], attrs: { axes: [axis], keepdims: rng.int(0, 1) } }, inits: [a] };
  }
}

describe("constant folding agrees with onnxruntime on random cases", () => {
  const OPS = ["Transpose", "Slice", "Gather", "Concat", "Tile", "Expand", "Sub", "Mul", "Div", "Max", "ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin", "ReduceProd"];
  for (const op of OPS) {
    it(op, async () => {
      for (let seed = 1; seed <= 4; seed++) {
        const rng = new Rng(seed * 31 + op.length);
        const { node, inits } = randomCase(rng, op);
        const bytes = buildModel({ opset: 13, nodes: [node], inputs: [], outputs: [{ name: "y" }], initializers: inits });
        const { graph, report } = convertOnnx(bytes);
        expect(graph.nodes).toEqual([]);
        expect(report.folded).toBe(1);
        // The folded constant is quantized when emitted: compare within its own quantization step.
        const got = run(graph, {}).outputs.get("y")!;
        const want = (await runOrt(bytes, {})).y;
        expect(got.shape, `seed ${seed}`).toEqual(want.shape);
        got.toFloat().forEach((v, i) => expect(Math.abs(v - want.data[i]), `seed ${seed} [${i}]`).toBeLessThanOrEqual(2 ** -got.frac + 1e-6 * Math.abs(v)));
      }
    });
  }
});
