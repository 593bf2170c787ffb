/**
 * The TF graph-model ops built from the shared compositions (converter/tfjs/graph-ops-composite.ts
 * over converter/common/composite-*.ts): Floor, Ceil, Round, Sign, Softplus, Selu, AddN, the
 * negated comparisons, Cumsum and OneHot against tf.loadGraphModel, in graph-ops.test.ts's style. The oracle gets exactly detml's
 * quantized inputs (samples built here, with many x.5 ties: TF's Round is half to even too), so
 * the exact compositions must match TF.js exactly; Softplus within a few units of Q16. Elementwise
 * ops and Cumsum also run on a conv output, which detml keeps channels-first (no transposes added).
 */
import { describe, expect, it } from "vitest";
import { attr, GraphDefWriter } from "../../../fixtures/tfjs/tfjs-files.js";
import type { Sample } from "../../../lib/verify/inputs.js";
import { Tensor } from "../../../lib/tensor/tensor.js";
import { Rng } from "../../helpers/random.js";
import { checkAgainstTfjs } from "./helpers.js";

/** Samples whose float side is exactly the quantized fixed side; real inputs half ties, half uniform. */
function exactSamples(rng: Rng, inputs: { name: string; shape: number[]; ints?: [number, number] }[], count = 2): Sample[] {
  return Array.from({ length: count }, () => {
    const sample: Sample = { float: new Map(), fixed: new Map() };
    for (const { name, shape, ints } of inputs) {
      const n = shape.reduce((a, b) => a * b, 1);
      const values = Array.from({ length: n }, (_, i) => (ints ? rng.int(...ints) : i % 2 ? Math.round(rng.uniform(-8, 8)) + 0.5 : rng.uniform(-6, 6)));
      const fixed = ints ? Tensor.fromInts(values, shape) : Tensor.fromFloat(values, shape, 16);
      sample.fixed.set(name, fixed);
      sample.float.set(name, { shape, data: Float64Array.from(fixed.toFloat()) });
    }
    return sample;
  });
}

const conv = { strides: attr.ints([1, 1, 1, 1]), padding: attr.s("VALID"), dilations: attr.ints([1, 1, 1, 1]), data_format: attr.s("NHWC") };

describe("TF.js graph models: ops built from shared compositions", () => {
  it("Floor, Ceil, Round (ties to even) and Sign are exact, Softplus close; on a conv output the layout is kept", async () => {
    const w = new GraphDefWriter();
    const rng = new Rng(1);
    const x = w.placeholder("x", [-1, 3, 4, 2]);
    const unary = ["Floor", "Ceil", "Round", "Sign", "Softplus"].map((op) => w.node(op, op.toLowerCase(), [x]));
    const kernel = w.constant("k", Float32Array.from({ length: 4 }, () => rng.uniform(-2, 2)), [1, 1, 2, 2]);
    const c = w.node("Conv2D", "c", [x, kernel], conv);
    const onConv = ["Softplus", "Sign"].map((op) => w.node(op, `conv_${op.toLowerCase()}`, [c]));
    const r = await checkAgainstTfjs(w.toModel(["x"], [...unary, ...onConv]), { samples: exactSamples(new Rng(2), [{ name: "x", shape: [1, 3, 4, 2] }]) });
    const [floor, ceil, round, sign, softplus, convSoftplus, convSign] = r.outputs;
    expect([floor, ceil, round, sign].map((o) => [o.name, o.maxAbsError])).toEqual([floor, ceil, round, sign].map((o) => [o.name, 0]));
    expect(convSign.maxAbsError).toBe(0);
    expect(Math.max(softplus.maxAbsError, convSoftplus.maxAbsError)).toBeLessThanOrEqual(4 * 2 ** -16);
    // The conv output stays channels-first: one transpose in (for the conv), one per conv-side output.
    expect(r.graph.nodes.filter((n) => n.op === "Transpose").length).toBe(3);
  });

  it("Selu, AddN and the negated comparisons (compositions the ONNX front end shares) match TF.js", async () => {
    const w = new GraphDefWriter();
    const x = w.placeholder("x", [-1, 3, 4, 2]);
    const half = w.constant("half", [0.5], []);
    const selu = w.node("Selu", "selu", [x]);
    const sum = w.node("AddN", "sum", [x, selu, x], { N: attr.i(3) });
    const compare = ["NotEqual", "LessEqual", "GreaterEqual"].map((op) => w.node(op, op, [x, half]));
    const r = await checkAgainstTfjs(w.toModel(["x"], [selu, sum, ...compare]), { samples: exactSamples(new Rng(5), [{ name: "x", shape: [1, 3, 4, 2] }]) });
    expect(Math.max(r.outputs[0].maxAbsError, r.outputs[1].maxAbsError)).toBeLessThanOrEqual(4 * 2 ** -16);
    expect(r.outputs.slice(2).map((o) => o.maxAbsError)).toEqual([0, 0, 0]);
  });

  it("Cumsum (exclusive, reverse, on TF and channels-first axes) and OneHot (negative and out-of-range ids)", async () => {
    const w = new GraphDefWriter();
    const rng = new Rng(3);
    const x = w.placeholder("x", [-1, 3, 4, 2]);
    const ids = w.placeholder("ids", [-1, 5], "DT_INT32");
    let axes = 0;
    const axis = (a: number) => w.constant(`axis${axes++}`, [a], [], "DT_INT32");
    const c = w.node("Conv2D", "c", [x, w.constant("k", Float32Array.from({ length: 4 }, () => rng.uniform(-2, 2)), [1, 1, 2, 2])], conv);
    const sums = [[x, 1, false, false], [x, 2, true, false], [c, 3, false, true], [c, 1, true, true], [c, 2, false, false]].map(([v, a, exclusive, reverse], i) =>
      w.node("Cumsum", `cumsum${i}`, [v as string, axis(a as number)], { exclusive: attr.b(exclusive as boolean), reverse: attr.b(reverse as boolean), Tidx: attr.type("DT_INT32") }));
    const hot = w.node("OneHot", "hot", [ids, w.constant("depth", [4], [], "DT_INT32"), w.constant("on", [2.5], []), w.constant("off", [-1], [])], { axis: attr.i(-1), TI: attr.type("DT_INT32") });
    const samples = exactSamples(new Rng(4), [{ name: "x", shape: [1, 3, 4, 2] }, { name: "ids", shape: [1, 5], ints: [-2, 5] }]);
    const r = await checkAgainstTfjs(w.toModel(["x", "ids"], [...sums, hot]), { samples });
    // x's sums are exact; the conv's carry only the conv's own rounding.
    expect(r.outputs.slice(0, 2).map((o) => o.maxAbsError)).toEqual([0, 0]);
    expect(Math.max(...r.outputs.slice(2, 5).map((o) => o.maxAbsError))).toBeLessThanOrEqual(8 * 2 ** -16);
    expect(r.outputs[5].maxAbsError).toBe(0);
    expect(r.graph.nodes.filter((n) => n.op === "MatMul").length).toBe(5);
  });
});
