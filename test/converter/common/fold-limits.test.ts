/**
 * Constant folding (and every constant the converters compute from a model-controlled size) is
 * bounded by the SizeGuard (converter/common/size-guard.ts): Range(0, 1e8) used to take 42 s and
 * 2.2 GB and write a 400 MB .detml, Range(0, 1e10) and friends died with "Invalid array length".
 * Each hostile model here is a few hundred bytes; each must fail fast with one line naming the
 * node, its op type and the size, before anything is allocated, and the limit must be raisable
 * (maxFoldedBytes / --max-folded-bytes). Shapes with negative or huge dimensions get a clear
 * error too, and a model with a large weight may fold tensors as large as it by default.
 */
import { describe, expect, it } from "vitest";
import { evaluate } from "../../../converter/common/fold.js";
import { DEFAULT_MAX_FOLDED_BYTES, formatBytes, SizeGuard } from "../../../converter/common/size-guard.js";
import { scalar } from "../../../converter/common/values.js";
import { convertOnnx } from "../../../converter/onnx/index.js";
import { convertTfjs } from "../../../converter/tfjs/index.js";
import { attr, GraphDefWriter } from "../../../fixtures/tfjs/tfjs-files.js";
import { buildModel, DT, tensor } from "../onnx/onnx-builder.js";
import { loader } from "../tfjs/helpers.js";
import { foldModel, rangeModel } from "./hostile-models.js";

const limitError = (node: string, op: string, what: string, elements: number, size: string, limit = "64 MiB") =>
  `node '${node}' (${op}): ${what} would create ${elements} elements (${size}), more than the ${limit} limit; raise it with --max-folded-bytes`;

/** Convert, expecting the error; fails when it takes long (the check must come before any allocation). */
function expectFastError(convert: () => unknown, message: string): void {
  const start = performance.now();
  expect(convert).toThrow(message);
  expect(performance.now() - start).toBeLessThan(3000);
}

describe("the size limit on folded tensors", () => {
  it("Range(0, 1e8) and Range(0, 1e10) fail fast, naming node, op and size", () => {
    expectFastError(() => convertOnnx(rangeModel(1e8)), limitError("range_1", "Range", "folding", 1e8, "400 MB"));
    expectFastError(() => convertOnnx(rangeModel(1e10)), limitError("range_1", "Range", "folding", 1e10, "40 GB"));
    const bad = foldModel({ op: "Range", name: "r0", inputs: ["s", "l", "d"], outputs: ["y"] }, { s: 0, l: 10, d: 0 });
    expect(() => convertOnnx(bad)).toThrow("node 'r0' (Range): Range(0, 10, 0) needs a finite start and limit and a finite nonzero delta");
  });

  it("ConstantOfShape, Expand and Tile to huge shapes fail fast; negative dimensions get a clear error", () => {
    const cos = (shape: number[]) => foldModel({ op: "ConstantOfShape", name: "fill", inputs: ["shape"], outputs: ["y"] }, { shape });
    expectFastError(() => convertOnnx(cos([100000, 100000])), limitError("fill", "ConstantOfShape", "folding", 1e10, "40 GB"));
    expectFastError(() => convertOnnx(cos([2 ** 40, 2 ** 40])), limitError("fill", "ConstantOfShape", "folding", 2 ** 80, "4840000000000 TB"));
    expect(() => convertOnnx(cos([-1, 4]))).toThrow("node 'fill' (ConstantOfShape): folding would create a tensor of shape [-1,4]: dimensions must be integers >= 0");
    const expand = foldModel({ op: "Expand", name: "ex", inputs: ["x", "shape"], outputs: ["y"] }, { x: [1, 2], shape: [100000, 100000, 1] });
    expectFastError(() => convertOnnx(expand), limitError("ex", "Expand", "folding", 2e10, "80 GB"));
    const tile = foldModel({ op: "Tile", name: "t", inputs: ["x", "repeats"], outputs: ["y"] }, { x: [1, 2], repeats: [1e9] });
    expectFastError(() => convertOnnx(tile), limitError("t", "Tile", "folding", 2e9, "8 GB"));
    const negative = foldModel({ op: "Tile", name: "t", inputs: ["x", "repeats"], outputs: ["y"] }, { x: [1, 2], repeats: [-3] });
    expect(() => convertOnnx(negative)).toThrow("node 't' (Tile): Tile attribute 'repeats' [-3] has a negative entry");
  });

  it("growth from broadcasting and from repeated Concat operands is bounded too", () => {
    const n = 20000;
    const column = tensor("a", [n, 1], new Array(n).fill(1));
    const row = tensor("b", [1, n], new Array(n).fill(2));
    const add = buildModel({ nodes: [{ op: "Add", name: "outer", inputs: ["a", "b"], outputs: ["y"] }], inputs: [], outputs: [{ name: "y" }], initializers: [column, row] });
    expectFastError(() => convertOnnx(add), limitError("outer", "Add", "folding", n * n, "1.6 GB"));
    // 20 copies of a 4 MB initializer: each operand is fine, the result is not.
    const big = tensor("w", [1 << 20], new Array(1 << 20).fill(0.5));
    const concat = buildModel({ nodes: [{ op: "Concat", name: "cat", inputs: new Array(20).fill("w"), outputs: ["y"], attrs: { axis: 0 } }], inputs: [], outputs: [{ name: "y" }], initializers: [big] });
    expectFastError(() => convertOnnx(concat), limitError("cat", "Concat", "folding", 20 << 20, "80 MiB"));
  });

  it("constants that compositions build from a runtime shape or an attribute go through the guard", () => {
    const oneHot = buildModel({
      nodes: [{ op: "OneHot", name: "oh", inputs: ["i", "depth", "values"], outputs: ["y"] }],
      inputs: [{ name: "i", shape: [1, 3], type: DT.INT64 }],
      outputs: [{ name: "y" }],
      initializers: [tensor("depth", [], [1e9], DT.INT64), tensor("values", [2], [0, 1])],
    });
    expectFastError(() => convertOnnx(oneHot), limitError("oh", "OneHot", "the constant 'positions'", 1e9, "4 GB"));
    const trilu = buildModel({ nodes: [{ op: "Trilu", name: "tri", inputs: ["x"], outputs: ["y"] }], inputs: [{ name: "x", shape: [30000, 30000] }], outputs: [{ name: "y" }] });
    expectFastError(() => convertOnnx(trilu), limitError("tri", "Trilu", "the constant 'mask'", 9e8, "3.6 GB"));
  });

  it("a static shape with a huge dimension is an error, not 'Invalid typed array length'", () => {
    const expand = buildModel({
      nodes: [{ op: "Expand", name: "ex", inputs: ["x", "shape"], outputs: ["y"] }],
      inputs: [{ name: "x", shape: [1] }],
      outputs: [{ name: "y" }],
      initializers: [tensor("shape", [2], [100000, 100000], DT.INT64)],
    });
    expect(() => convertOnnx(expand)).toThrow("node 'ex' (Expand): value 'y' would have shape [100000,100000], 10000000000 elements: more than the 2^30 a detml tensor can hold");
    const relu = buildModel({ nodes: [{ op: "Relu", inputs: ["x"], outputs: ["y"] }], inputs: [{ name: "x", shape: ["n", "m"] }], outputs: [{ name: "y" }] });
    expect(() => convertOnnx(relu, { shapes: { x: [1e6, 1e6] } })).toThrow("value 'x' would have shape [1000000,1000000], 1000000000000 elements: more than the 2^30 a detml tensor can hold");
  });

  it("maxFoldedBytes sets the limit: a moderate fold fails below it and passes at it", () => {
    const model = rangeModel(1000);
    expect(() => convertOnnx(model, { maxFoldedBytes: 3999 })).toThrow(limitError("range_1", "Range", "folding", 1000, "4000 bytes", "3999 bytes"));
    const { graph } = convertOnnx(model, { maxFoldedBytes: 4000 });
    expect(graph.constants.get("y")!.shape).toEqual([1000]);
    expect(Array.from(convertOnnx(rangeModel(1e7)).graph.constants.get("y")!.data.subarray(-2))).toEqual([1e7 - 2, 1e7 - 1]);
    expect(() => convertOnnx(model, { maxFoldedBytes: 0 })).toThrow("--max-folded-bytes 0: must be a positive integer (bytes)");
  });

  it("by default a model may fold a tensor as large as its largest weight; a limit set by hand stays as set", () => {
    const guard = new SizeGuard();
    expect(guard.limitBytes).toBe(DEFAULT_MAX_FOLDED_BYTES);
    guard.admitSource(20e6);
    expect(guard.limitBytes).toBe(80e6);
    expect(guard.count(20e6)).toBe(20e6);
    expect(() => guard.count(20e6 + 1)).toThrow("folding would create 20000001 elements (80000004 bytes), more than the 80000000 bytes limit");
    const set = new SizeGuard(1000);
    set.admitSource(1e6);
    expect(set.limitBytes).toBe(1000);
    // The Transpose of a weight folds; it is over a hand-set limit below the weight's size.
    const w = tensor("w", [30, 40], new Array(1200).fill(1));
    const transpose = buildModel({ nodes: [{ op: "Transpose", name: "tr", inputs: ["w"], outputs: ["y"], attrs: { perm: [1, 0] } }], inputs: [], outputs: [{ name: "y" }], initializers: [w] });
    expect(convertOnnx(transpose, { maxFoldedBytes: 4800 }).graph.constants.get("y")!.shape).toEqual([40, 30]);
    expect(() => convertOnnx(transpose, { maxFoldedBytes: 4799 })).toThrow(limitError("tr", "Transpose", "folding", 1200, "4800 bytes", "4799 bytes"));
    expect([formatBytes(64 * 2 ** 20), formatBytes(4e8), formatBytes(999)]).toEqual(["64 MiB", "400 MB", "999 bytes"]);
  });

  it("evaluate() without a guard applies the default limit", () => {
    expect(() => evaluate("Range", [scalar("int", 0), scalar("int", 1e8), scalar("int", 1)], {})).toThrow("folding would create 100000000 elements (400 MB), more than the 64 MiB limit");
    expect(evaluate("Range", [scalar("int", 0), scalar("int", 3), scalar("int", 1)], {})[0].data).toEqual(new Float64Array([0, 1, 2]));
  });

  it("a Split's model-given output count is bounded before a sizes list is built from it", () => {
    const split = buildModel({
      nodes: [{ op: "Split", name: "sp", inputs: ["x"], outputs: ["a", "b"], attrs: { axis: 0, num_outputs: 1e9 } }],
      inputs: [{ name: "x", shape: [4] }],
      outputs: [{ name: "a" }, { name: "b" }],
      opset: 18,
    });
    expectFastError(() => convertOnnx(split), "node 'sp' (Split): attribute 'num_outputs' is 1000000000 but the node has 2 outputs");
  });
});

describe("the size limit in the TF.js front end", () => {
  it("an inline Const whose one value fills a huge shape fails fast, naming the node", () => {
    const w = new GraphDefWriter();
    const x = w.placeholder("x", [2]);
    w.nodes.push({ name: "fill", op: "Const", input: [], attr: { dtype: attr.type("DT_FLOAT"), value: { tensor: { dtype: "DT_FLOAT", tensorShape: { dim: [{ size: "100000" }, { size: "100000" }] }, floatVal: [1] } } } });
    const m = w.toModel(["x"], [w.node("Mul", "mul", [x, "fill"])]);
    expectFastError(() => convertTfjs(m.json, loader(m)), limitError("fill", "Const", "the inline value of Const 'fill'", 1e10, "40 GB"));
  });

  it("a Tile of a constant with huge multiples fails fast; the limit option applies", () => {
    const w = new GraphDefWriter();
    const x = w.placeholder("x", [2]);
    const k = w.constant("k", [1, 2], [2]);
    const multiples = w.constant("multiples", [1e9], [1], "DT_INT32");
    const tiled = w.node("Tile", "tile", [k, multiples], { Tmultiples: attr.type("DT_INT32") });
    const m = w.toModel(["x"], [w.node("Mul", "mul", [x, tiled])]);
    expectFastError(() => convertTfjs(m.json, loader(m)), limitError("tile", "Tile", "folding", 2e9, "8 GB"));
    expect(() => convertTfjs(m.json, loader(m), { maxFoldedBytes: 1000 })).toThrow(limitError("tile", "Tile", "folding", 2e9, "8 GB", "1000 bytes"));
  });

  it("Split's num_split and Unpack's axis length are bounded before one output each is made", () => {
    const w = new GraphDefWriter();
    const x = w.placeholder("x", [4]);
    const axis = w.constant("axis", [0], [], "DT_INT32");
    const m = w.toModel(["x"], [w.node("Split", "sp", [axis, x], { num_split: attr.i(1e9) })]);
    expectFastError(() => convertTfjs(m.json, loader(m)), "node 'sp' (Split): num_split 1000000000 is not supported (1 to 65536 outputs are)");
    const u = new GraphDefWriter();
    const long = u.placeholder("x", [1e8]);
    const um = u.toModel(["x"], [u.node("Unpack", "un", [long], { num: attr.i(1e8), axis: attr.i(0) })]);
    expectFastError(() => convertTfjs(um.json, loader(um)), "node 'un' (Unpack): an axis of length 100000000 is not supported (1 to 65536 outputs are)");
  });
});
