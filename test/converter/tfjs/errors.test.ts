/**
 * Bad input to the TF.js front end: every unsupported op or layer listed in one error (control
 * flow called out), missing and short weight shards, broken model.json files, unknown input
 * dimensions and --shape mistakes. Each error must name what is wrong and where.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { convertTfjs, convertTfjsFile, isTfjsModelJson } from "../../../converter/tfjs/index.js";
import { attr, GraphDefWriter } from "../../../fixtures/tfjs/tfjs-files.js";
import { loader, type MemoryModel } from "./helpers.js";

/** x -> conv -> relu graph model with a 2-shard weights manifest. */
function small(): MemoryModel {
  const w = new GraphDefWriter();
  const x = w.placeholder("x", [-1, 4, 4, 2]);
  const k = w.constant("k", Float32Array.from({ length: 3 * 3 * 2 * 3 }, (_, i) => Math.sin(i)), [3, 3, 2, 3]);
  const c = w.node("Conv2D", "conv", [x, k], { strides: attr.ints([1, 1, 1, 1]), padding: attr.s("SAME"), data_format: attr.s("NHWC") });
  return w.toModel(["x"], [w.node("Relu", "relu", [c])], { shardBytes: 100 });
}

const noShards = () => {
  throw new Error("weights must not be read");
};

describe("TF.js converter errors", () => {
  it("lists every unsupported op at once, before reading weights", () => {
    const m = small();
    const nodes = (m.json.modelTopology as { node: { op: string; name: string }[] }).node;
    nodes.push({ op: "NonMaxSuppressionV5", name: "nms" }, { op: "Unique", name: "u1" }, { op: "Unique", name: "u2" });
    expect(() => convertTfjs(m.json, noShards)).toThrow("unsupported TensorFlow ops: NonMaxSuppressionV5 (node 'nms'), Unique (nodes 'u1', 'u2')");
  });

  it("rejects control flow (loops, TensorList) with an explanation", () => {
    const m = small();
    const nodes = (m.json.modelTopology as { node: { op: string; name: string }[] }).node;
    nodes.push({ op: "While", name: "loop" }, { op: "TensorListReserve", name: "list" }, { op: "Merge", name: "merge" });
    expect(() => convertTfjs(m.json, noShards)).toThrow(/While \[control flow\] \(node 'loop'\), TensorListReserve \[control flow\].*Merge \[control flow\].*detml graphs are static dataflow graphs/);
  });

  it("lists every unsupported Keras layer at once", () => {
    const json = {
      format: "layers-model",
      modelTopology: { class_name: "Sequential", config: { name: "s", layers: [
        { class_name: "ConvLSTM2D", config: { name: "lstm", units: 4, batch_input_shape: [null, 5, 3] } },
        { class_name: "Dense", config: { name: "d", units: 2 } },
        { class_name: "Conv3D", config: { name: "gru_a", units: 2 } },
        { class_name: "Conv3D", config: { name: "gru_b", units: 2 } },
      ] } },
      weightsManifest: [],
    };
    expect(() => convertTfjs(json, noShards)).toThrow("unsupported Keras layers: ConvLSTM2D (layer 'lstm'), Conv3D (layers 'gru_a', 'gru_b')");
  });

  it("names a missing shard and a short shard", () => {
    const m = small();
    const [first, second] = [...m.shards.keys()];
    expect(first).toBe("group1-shard1of3.bin");
    const missing = new Map(m.shards);
    missing.delete(second);
    expect(() => convertTfjs(m.json, loader({ ...m, shards: missing }))).toThrow(`model.json: weight shard '${second}' (group 1, shard 2 of 3, weights 'k') cannot be read: no such file`);
    const short = new Map(m.shards);
    short.set(second, short.get(second)!.slice(0, 10));
    expect(() => convertTfjs(m.json, loader({ ...m, shards: short }))).toThrow(/weight shards of group 1 are short: weight 'k' \(float32 \[3,3,2,3\]\) needs bytes 0\.\.216 but the group holds \d+ .*a shard is missing or truncated/);
  });

  it("reads shards beside model.json on disk and reports a missing file by path", () => {
    const dir = mkdtempSync(join(tmpdir(), "detml-tfjs-"));
    const m = small();
    writeFileSync(join(dir, "model.json"), JSON.stringify(m.json));
    const [first] = m.shards.keys();
    writeFileSync(join(dir, first), m.shards.get(first)!);
    expect(isTfjsModelJson(join(dir, "model.json"))).toBe(true);
    // Only the first bytes decide that a file is not JSON; a model.json may start with any whitespace.
    writeFileSync(join(dir, "spaced.json"), " \n".repeat(400) + JSON.stringify(m.json));
    expect(isTfjsModelJson(join(dir, "spaced.json"))).toBe(true);
    writeFileSync(join(dir, "array.json"), JSON.stringify([m.json]));
    expect(isTfjsModelJson(join(dir, "array.json"))).toBe(false);
    expect(() => convertTfjsFile(join(dir, "model.json"))).toThrow(/group1-shard2of3\.bin' \(group 1, shard 2 of 3, weights 'k'\) cannot be read: no such file \(looked for .*group1-shard2of3\.bin\)$/);
    for (const [path, bytes] of m.shards) writeFileSync(join(dir, path), bytes);
    expect(convertTfjsFile(join(dir, "model.json")).graph.outputs).toEqual(["Identity"]);
  });

  it("rejects files that are not TF.js models", () => {
    expect(() => convertTfjs("{not json", noShards, { source: "m.json" })).toThrow(/^m\.json: not valid JSON/);
    expect(() => convertTfjs([{ paths: ["a.bin"], weights: [] }], noShards, { source: "w.json" })).toThrow("w.json: a TF.js model.json must be a JSON object");
    expect(() => convertTfjs({ weightsManifest: [] }, noShards, { source: "w.json" })).toThrow("w.json: no modelTopology: this is not a TF.js model.json");
    expect(() => convertTfjs({ format: "saved-model", modelTopology: { foo: 1 } }, noShards, { source: "x.json" })).toThrow("x.json: unknown TF.js model format (format 'saved-model')");
    const m = small();
    (m.json.weightsManifest as { weights: { quantization?: object }[] }[])[0].weights[0].quantization = { dtype: "int4" };
    expect(() => convertTfjs(m.json, noShards, { source: "q.json" })).toThrow("q.json: weightsManifest[0]: weight 'k' has quantization dtype 'int4' (TF.js knows uint8, uint16, float16)");
    expect(isTfjsModelJson(join(import.meta.dirname, "..", "..", "..", "fixtures", "models", "mlp.onnx"))).toBe(false);
    expect(isTfjsModelJson("/no/such/model.json")).toBe(false);
  });

  it("asks for --shape for unknown non-batch dimensions and checks given shapes", () => {
    const m = small();
    const x = (m.json.modelTopology as { node: { name: string; attr: { shape: { shape: { dim: { size: string }[] } } } }[] }).node[0];
    x.attr.shape.shape.dim[1].size = "-1";
    expect(() => convertTfjs(m.json, loader(m))).toThrow("input 'x' has an unknown dimension at axis 1: pass --shape x=1,<?>,4,2");
    expect(convertTfjs(m.json, loader(m), { shapes: { x: [2, 5, 4, 2] } }).graph.inputs[0].shape).toEqual([2, 5, 4, 2]);
    expect(() => convertTfjs(m.json, loader(m), { shapes: { x: [1, 5, 3, 2] } })).toThrow("--shape x=1,5,3,2 gives 3 at axis 2, where the model fixes 4");
    expect(() => convertTfjs(m.json, loader(m), { shapes: { y: [1] } })).toThrow("--shape y: the model has no input 'y' (inputs: x)");
  });

  it("names the node when an op rejects its operands", () => {
    const w = new GraphDefWriter();
    const x = w.placeholder("x", [1, 4]);
    const r = w.node("Reshape", "reshape", [x, w.node("Relu", "dynamic_shape", [x])]);
    const m = w.toModel(["x"], [r]);
    expect(() => convertTfjs(m.json, loader(m))).toThrow("node 'reshape' (Reshape): input 1 (shape) must be a constant: detml graphs have static shapes and parameters, and 'dynamic_shape' is computed at run time");
  });
});
