/**
 * Graph-model conversion, op by op: small GraphDefs in TF.js's JSON encoding (built with the
 * fixtures' GraphDefWriter, seeded weights), converted and compared with tf.loadGraphModel on
 * seeded random inputs through the verify core. Same tolerance rule as layers.test.ts: max error
 * / output range <= 2e-3 (Q16.16 activations, a few chained ops).
 */
import { describe, expect, it } from "vitest";
import { attr, GraphDefWriter } from "../../../fixtures/tfjs/tfjs-files.js";
import { Rng } from "../../helpers/random.js";
import { checkAgainstTfjs, worstRel } from "./helpers.js";

const TOLERANCE = 2e-3;

function randomValues(rng: Rng, shape: number[], lo = -1, hi = 1): Float32Array {
  return Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.uniform(lo, hi));
}

/** A writer with a float input `x` and helpers for seeded float and int constants. */
function graph(seed: number, shape: number[]) {
  const w = new GraphDefWriter();
  const rng = new Rng(seed);
  const x = w.placeholder("x", [-1, ...shape.slice(1)]);
  let count = 0;
  const weight = (s: number[], lo = -1, hi = 1) => w.constant(`w${count++}`, randomValues(rng, s, lo, hi), s);
  const ints = (values: number[], s = [values.length]) => w.constant(`c${count++}`, values, s, "DT_INT32");
  return { w, x, weight, ints };
}

async function check(w: GraphDefWriter, outputs: string[], inputs = ["x"]) {
  const r = await checkAgainstTfjs(w.toModel(inputs, outputs), { seed: 3 });
  expect(worstRel(r.outputs), JSON.stringify(r.outputs.map((o) => [o.name, o.maxRelError]))).toBeLessThanOrEqual(TOLERANCE);
  return r;
}

const nhwc = { data_format: attr.s("NHWC") };
const conv = (strides: number[], padding: string) => ({ strides: attr.ints(strides), padding: attr.s(padding), dilations: attr.ints([1, 1, 1, 1]), ...nhwc });

describe("TF.js graph models", () => {
  it("Conv2D with EXPLICIT padding, _FusedConv2D with Prelu, depthwise, FusedBatchNormV3, pools", async () => {
    const { w, x, weight } = graph(1, [1, 7, 6, 3]);
    const c1 = w.node("Conv2D", "c1", [x, weight([3, 3, 3, 4])], { ...conv([1, 2, 1, 1], "EXPLICIT"), explicit_paddings: attr.ints([0, 0, 1, 2, 0, 1, 0, 0]) });
    const c2 = w.node("_FusedConv2D", "c2", [c1, weight([1, 1, 4, 4]), weight([4]), weight([4], 0, 0.5)], { ...conv([1, 1, 1, 1], "SAME"), fused_ops: attr.strs(["BiasAdd", "Prelu"]), num_args: attr.i(2) });
    const dw = w.node("DepthwiseConv2dNative", "dw", [c2, weight([3, 3, 4, 2])], conv([1, 1, 1, 1], "SAME"));
    const bn = w.node("FusedBatchNormV3", "bn", [dw, weight([8]), weight([8]), weight([8]), weight([8], 0.5, 1.5)], { epsilon: attr.f(0.001), is_training: attr.b(false), ...nhwc });
    const pool = w.node("MaxPool", "pool", [bn], { ksize: attr.ints([1, 3, 3, 1]), strides: attr.ints([1, 2, 2, 1]), padding: attr.s("SAME"), ...nhwc });
    const avg = w.node("AvgPool", "avg", [pool], { ksize: attr.ints([1, 2, 2, 1]), strides: attr.ints([1, 1, 1, 1]), padding: attr.s("SAME"), ...nhwc });
    const r = await check(w, [avg]);
    expect(r.report.batchNormsFused).toBe(1);
  });

  it("MatMul forms, BiasAdd, elementwise math and activations", async () => {
    const { w, x, weight } = graph(2, [1, 6]);
    const m = w.node("_FusedMatMul", "m", [x, weight([5, 6]), weight([5])], { transpose_a: attr.b(false), transpose_b: attr.b(true), fused_ops: attr.strs(["BiasAdd", "Relu6"]), num_args: attr.i(1) });
    const bmm = w.node("BatchMatMulV2", "bmm", [w.node("Reshape", "r", [m, w.constant("shape", [1, 5, 1], [3], "DT_INT32")]), weight([1, 4, 1])], { adj_x: attr.b(false), adj_y: attr.b(true) });
    const sq = w.node("SquaredDifference", "sq", [bmm, weight([4])]);
    const rs = w.node("Rsqrt", "rs", [w.node("AddV2", "one", [sq, weight([1], 1, 1)])]);
    const e = w.node("Elu", "e", [w.node("Sub", "sub", [rs, weight([4])])]);
    const t = w.node("Tanh", "t", [w.node("Mul", "mul", [e, w.node("Square", "sqr", [e])])]);
    const l = w.node("LeakyRelu", "l", [w.node("RealDiv", "div", [t, weight([4], 1, 2)])], { alpha: attr.f(0.3) });
    const mx = w.node("Maximum", "mx", [w.node("Sigmoid", "s", [l]), w.node("Minimum", "mn", [l, weight([1])])]);
    const sm = w.node("Softmax", "sm", [w.node("AddN", "addn", [mx, l, e], { N: attr.i(3) })]);
    await check(w, [sm, w.node("ClipByValue", "clip", [e, weight([], -0.5, -0.5), weight([], 0.5, 0.5)])]);
  });

  it("shape ops: StridedSlice masks, Slice, Pack/Unpack, Split, ExpandDims, Squeeze, Transpose of an NCHW value", async () => {
    const { w, x, weight, ints } = graph(3, [1, 6, 5, 4]);
    const c = w.node("Conv2D", "c", [x, weight([1, 1, 4, 4])], conv([1, 1, 1, 1], "VALID"));
    // x[:, 1:, ::-2, 2] with a new axis at the end (shrink axis 3, new axis 4).
    const ss = w.node("StridedSlice", "ss", [c, ints([0, 1, 0, 2, 0]), ints([0, 0, 0, 3, 0]), ints([1, 1, -2, 1, 1])], {
      begin_mask: attr.i(1 | 4), end_mask: attr.i(1 | 2 | 4), shrink_axis_mask: attr.i(8), new_axis_mask: attr.i(16), ellipsis_mask: attr.i(0), Index: attr.type("DT_INT32"),
    });
    // Ellipsis: c[..., 1:3]
    const se = w.node("StridedSlice", "se", [c, ints([0, 1]), ints([0, 3]), ints([1, 1])], { ellipsis_mask: attr.i(1), begin_mask: attr.i(0), end_mask: attr.i(0), shrink_axis_mask: attr.i(0), new_axis_mask: attr.i(0) });
    const sl = w.node("Slice", "sl", [c, ints([0, 1, 1, 0]), ints([-1, 3, -1, 2])]);
    const tr = w.node("Transpose", "tr", [sl, ints([0, 3, 1, 2])]);
    const un = w.node("Unpack", "un", [tr], { num: attr.i(2), axis: attr.i(1) });
    const pk = w.node("Pack", "pk", ["un:1", "un"], { axis: attr.i(3), N: attr.i(2) });
    const sp = w.node("SplitV", "sp", [c, ints([1, -1]), w.constant("axis", [3], [], "DT_INT32")], { num_split: attr.i(2) });
    const ex = w.node("ExpandDims", "ex", ["sp:1", w.constant("dim", [1], [], "DT_INT32")]);
    const sq = w.node("Squeeze", "sq", [w.node("Split", "s2", [w.constant("axis2", [1], [], "DT_INT32"), ex], { num_split: attr.i(1) })], { squeeze_dims: attr.ints([1]) });
    // The same NCHW value read in the TF layout directly and through a Transpose (two different physical transposes).
    const r1 = w.node("Reshape", "r1", [c, ints([1, -1])]);
    const r2 = w.node("Reshape", "r2", [w.node("Transpose", "t2", [c, ints([0, 2, 1, 3])]), ints([1, -1])]);
    await check(w, [ss, se, pk, sq, r1, r2]);
  });

  it("Pad, PadV2, MirrorPad, ConcatV2, reductions, Tile, BroadcastTo, resize", async () => {
    const { w, x, ints } = graph(4, [1, 4, 5, 2]);
    const pad = w.node("Pad", "pad", [x, ints([0, 0, 1, 0, 0, 2, 0, 0], [4, 2])]);
    const padv2 = w.node("PadV2", "padv2", [x, ints([0, 0, 0, 1, 2, 0, 0, 0], [4, 2]), w.constant("cv", [0.5], [])]);
    const reflect = w.node("MirrorPad", "reflect", [x, ints([0, 0, 2, 1, 1, 2, 0, 0], [4, 2])], { mode: attr.s("REFLECT") });
    const symmetric = w.node("MirrorPad", "symmetric", [x, ints([0, 0, 2, 1, 1, 2, 0, 0], [4, 2])], { mode: attr.s("SYMMETRIC") });
    const cat = w.node("ConcatV2", "cat", [pad, padv2, w.constant("ax", [-1], [], "DT_INT32")], { N: attr.i(2) });
    const mean = w.node("Mean", "mean", [cat, ints([1, 2])], { keep_dims: attr.b(true) });
    const sum = w.node("Sum", "sum", [symmetric, ints([3])], { keep_dims: attr.b(false) });
    const max = w.node("Max", "max", [reflect, ints([0, 2])], { keep_dims: attr.b(false) });
    const tile = w.node("Tile", "tile", [mean, ints([1, 2, 1, 1])]);
    const bc = w.node("BroadcastTo", "bc", [mean, ints([1, 3, 2, 4])]);
    const bil = w.node("ResizeBilinear", "bil", [x, ints([7, 3])], { align_corners: attr.b(false), half_pixel_centers: attr.b(true) });
    const alc = w.node("ResizeBilinear", "alc", [x, ints([6, 9])], { align_corners: attr.b(true), half_pixel_centers: attr.b(false) });
    const nn = w.node("ResizeNearestNeighbor", "nn", [x, ints([9, 7])], { align_corners: attr.b(false), half_pixel_centers: attr.b(true) });
    const nna = w.node("ResizeNearestNeighbor", "nna", [x, ints([7, 9])], { align_corners: attr.b(true), half_pixel_centers: attr.b(false) });
    await check(w, [symmetric, sum, max, tile, bc, bil, alc, nn, nna]);
  });

  it("FloorDiv, FloorMod and comparisons of int tensors; GatherNd at ArgMax positions (MoveNet's decoder)", async () => {
    const { w, x, weight, ints } = graph(6, [1, 4, 5, 3]);
    const ids = w.placeholder("ids", [-1, 6], "DT_INT32");
    const arith = ["FloorDiv", "FloorMod"].flatMap((op) => [3, -4].map((d) => w.node(op, `${op}${d}`, [ids, ints([d], [])])));
    const compare = ["Equal", "NotEqual", "Less", "Greater", "LessEqual", "GreaterEqual"].map((op) => w.node(op, op, [ids, ints([1, -2, 0, 5, -7, 2], [6])]));
    // The peak of each channel of a sigmoid heatmap: ArgMax over the flattened 4x5 grid, row and
    // column by FloorDiv/FloorMod, a [C, 4] index (batch, row, column, channel) packed as int tensors.
    const heat = w.node("Sigmoid", "heat", [w.node("Conv2D", "c", [x, weight([1, 1, 3, 3])], conv([1, 1, 1, 1], "VALID"))]);
    const am = w.node("ArgMax", "am", [w.node("Reshape", "flat", [heat, ints([1, 20, 3])]), w.constant("ax", [1], [], "DT_INT32")], { output_type: attr.type("DT_INT32") });
    const row = w.node("Reshape", "row", [w.node("FloorDiv", "div5", [am, ints([5], [])]), ints([3])]);
    const col = w.node("Reshape", "col", [w.node("FloorMod", "mod5", [am, ints([5], [])]), ints([3])]);
    const index = w.node("Pack", "index", [ints([0, 0, 0]), row, col, ints([0, 1, 2])], { axis: attr.i(1), N: attr.i(4), T: attr.type("DT_INT32") });
    const peaks = w.node("GatherNd", "peaks", [heat, index], { Tparams: attr.type("DT_FLOAT"), Tindices: attr.type("DT_INT32") });
    const rows = w.node("GatherNd", "rows", [heat, ints([0, 3, 0, 1], [2, 2])], { Tparams: attr.type("DT_FLOAT"), Tindices: attr.type("DT_INT32") });
    const r = await checkAgainstTfjs(w.toModel(["x", "ids"], [...arith, ...compare, peaks, rows]), { seed: 5, intRanges: { ids: { lo: -20, hi: 20 } } });
    const exact = r.outputs.slice(0, arith.length + compare.length);
    expect(exact.map((o) => [o.integer, o.mismatches])).toEqual(exact.map(() => [true, 0]));
    expect(worstRel(r.outputs.slice(exact.length))).toBeLessThanOrEqual(TOLERANCE);
    expect(r.graph.nodes.filter((n) => n.op === "GatherND").map((n) => n.name)).toEqual(["peaks", "rows"]);
    expect(r.graph.nodes.filter((n) => n.op === "Div").map((n) => n.attrs.mode)).toEqual(["floor", "floor", "floor"]);
  });

  it("TopKV2 (CenterNet's decoder): a flattened heatmap with FloorDiv/FloorMod of its indices, channels of an NCHW value, int ties", async () => {
    const { w, x, weight, ints } = graph(7, [1, 4, 5, 3]);
    const heat = w.node("Sigmoid", "heat", [w.node("Conv2D", "c", [x, weight([1, 1, 3, 3])], conv([1, 1, 1, 1], "VALID"))]);
    const sorted = { sorted: attr.b(true) };
    const top = w.node("TopKV2", "top", [w.node("Reshape", "flat", [heat, ints([1, 60])]), ints([10], [])], sorted);
    const cell = w.node("FloorDiv", "cell", ["top:1", ints([3], [])]);
    const cls = w.node("FloorMod", "cls", ["top:1", ints([3], [])]);
    // The conv output is channels-first in the draft: TopKV2's last TF axis is draft axis 1.
    const channels = w.node("TopKV2", "channels", [heat, ints([2], [])], sorted);
    // Values in -2..2: most of the 12 are tied, and TF.js also puts the lower index first.
    const ids = w.placeholder("ids", [-1, 12], "DT_INT32");
    const tied = w.node("TopKV2", "tied", [ids, ints([5], [])], { ...sorted, T: attr.type("DT_INT32") });
    const outputs = [top, "top:1", cell, cls, channels, "channels:1", tied, "tied:1"];
    const r = await checkAgainstTfjs(w.toModel(["x", "ids"], outputs), { seed: 5, intRanges: { ids: { lo: -2, hi: 2 } } });
    const exact = [1, 2, 3, 5, 6, 7].map((i) => r.outputs[i]);
    expect(exact.map((o) => [o.name, o.integer, o.mismatches])).toEqual(exact.map((o) => [o.name, true, 0]));
    expect(worstRel([r.outputs[0], r.outputs[4]])).toBeLessThanOrEqual(TOLERANCE);
    expect(r.graph.nodes.filter((n) => n.op === "TopK").map((n) => [n.name, n.attrs.k, n.attrs.axis])).toEqual([["top", 10, 1], ["channels", 2, 1], ["tied", 5, 1]]);
  });

  it("Shape -> StridedSlice -> Pack -> Reshape folds away; GatherV2 with int ids, Cast, ArgMax", async () => {
    const { w, x, weight, ints } = graph(5, [1, 3, 4]);
    const shape = w.node("Shape", "shape", [x], { out_type: attr.type("DT_INT32") });
    const batch = w.node("StridedSlice", "batch", [shape, ints([0]), ints([1]), ints([1])], { shrink_axis_mask: attr.i(1), begin_mask: attr.i(0), end_mask: attr.i(0), ellipsis_mask: attr.i(0), new_axis_mask: attr.i(0) });
    const target = w.node("Pack", "target", [batch, w.constant("minus1", [-1], [], "DT_INT32")], { axis: attr.i(0), N: attr.i(2), T: attr.type("DT_INT32") });
    const flat = w.node("Reshape", "flat", [x, target]);
    const ids = w.placeholder("ids", [-1, 3], "DT_INT32");
    const emb = w.node("GatherV2", "emb", [weight([10, 12]), ids, w.constant("gax", [0], [], "DT_INT32")], { batch_dims: attr.i(0) });
    const sum = w.node("AddV2", "sum", [w.node("Cast", "cast", [emb], { DstT: attr.type("DT_FLOAT") }), w.node("ExpandDims", "ex", [flat, w.constant("d", [1], [], "DT_INT32")])]);
    const am = w.node("ArgMax", "am", [sum, w.constant("amax", [2], [], "DT_INT32")], { output_type: attr.type("DT_INT32") });
    const r = await checkAgainstTfjs(w.toModel(["x", "ids"], [sum, am]), { seed: 4 });
    expect(worstRel(r.outputs.slice(0, 1))).toBeLessThanOrEqual(TOLERANCE);
    expect(r.outputs[1].integer).toBe(true);
    expect(r.graph.nodes.map((n) => n.op)).not.toContain("Shape");
    expect(r.graph.inputs.map((v) => [v.name, v.frac])).toEqual([["x", 16], ["ids", 0]]);
  });
});
