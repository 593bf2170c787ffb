/**
 * Bad input gets one clear error naming what is wrong: a truncated or non-ONNX file, unsupported
 * ops (all listed at once), a symbolic dimension without --shape, a missing external data file,
 * a run-time shape operand, an unsupported attribute value. Models are built in the test.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { convertOnnx } from "../../../converter/onnx/index.js";
import { run } from "../../../lib/executor.js";
import { Tensor } from "../../../lib/tensor/tensor.js";
import { buildModel, DT, tensor } from "./onnx-builder.js";

const FIXTURES = new URL("../../../fixtures/", import.meta.url).pathname;
const mlpBytes = new Uint8Array(readFileSync(`${FIXTURES}models/mlp.onnx`));

const reluModel = (shape: (number | string)[]) => buildModel({
  nodes: [{ op: "Relu", inputs: ["x"], outputs: ["y"] }],
  inputs: [{ name: "x", shape }],
  outputs: [{ name: "y" }],
});

describe("ONNX converter errors", () => {
  it("rejects a truncated file with the protobuf reason", () => {
    expect(() => convertOnnx(mlpBytes.subarray(0, 1000), { source: "cut.onnx" })).toThrow(/^cut\.onnx: not an ONNX model: index out of range/);
  });

  it("rejects a file that is not ONNX", () => {
    const text = new TextEncoder().encode("# a README, not a model\nhello\n");
    expect(() => convertOnnx(text, { source: "README.md" })).toThrow(/^README\.md: not an ONNX model: /);
    expect(() => convertOnnx(new Uint8Array(0), { source: "empty.onnx" })).toThrow("empty.onnx: not an ONNX model: it has no graph");
  });

  it("lists every unsupported op with its nodes in one error", () => {
    const bytes = buildModel({
      nodes: [
        { op: "Relu", inputs: ["x"], outputs: ["a"] },
        { op: "NonMaxSuppression", inputs: ["a"], outputs: ["b"], name: "nms" },
        { op: "SequenceEmpty", inputs: ["b"], outputs: ["c"], name: "seq_1" },
        { op: "NonMaxSuppression", inputs: ["c"], outputs: ["d"], name: "nms_2" },
        { op: "FusedMatMul", inputs: ["d"], outputs: ["y"], name: "fm", domain: "com.microsoft" },
      ],
      inputs: [{ name: "x", shape: [1, 4] }],
      outputs: [{ name: "y" }],
    });
    expect(() => convertOnnx(bytes)).toThrow(
      "unsupported ONNX ops: NonMaxSuppression (nodes 'nms', 'nms_2': its output shape depends on the data), SequenceEmpty (node 'seq_1': sequences and optionals are not tensors), com.microsoft.FusedMatMul (node 'fm')");
  });

  it("asks for --shape on a symbolic dimension that is not a batch", () => {
    const bytes = reluModel(["batch", "seq", 4]);
    expect(() => convertOnnx(bytes)).toThrow("input 'x' has symbolic dimension 'seq' (axis 1): pass --shape x=1,<seq>,4");
    const { graph } = convertOnnx(bytes, { shapes: { x: [1, 5, 4] } });
    expect(graph.inputs).toEqual([{ name: "x", shape: [1, 5, 4], frac: 16 }]);
  });

  it("defaults batch-like dimensions to 1 and checks --shape against the model", () => {
    for (const batch of ["N", "batch_size", "unk__12", ""]) {
      expect(convertOnnx(reluModel([batch, 3])).graph.inputs[0].shape).toEqual([1, 3]);
    }
    expect(() => convertOnnx(reluModel([1, 3]), { shapes: { x: [1, 4] } })).toThrow("--shape x=1,4 gives 4 at axis 1, where the model fixes 3");
    expect(() => convertOnnx(reluModel([1, 3]), { shapes: { x: [3] } })).toThrow("--shape x=3 has rank 1, the model's input 'x' has rank 2");
    expect(() => convertOnnx(reluModel([1, 3]), { shapes: { z: [3] } })).toThrow("--shape z: the model has no input 'z' (inputs: x)");
    expect(() => convertOnnx(buildModel({ nodes: [{ op: "Relu", inputs: ["x"], outputs: ["y"] }], inputs: [{ name: "x" }], outputs: [{ name: "y" }] })))
      .toThrow("input 'x' has no shape in the model: pass --shape x=D0,D1,...");
  });

  it("reads external data relative to baseDir and names a missing file", () => {
    const dir = mkdtempSync(join(tmpdir(), "detml-onnx-ext-"));
    const w: ReturnType<typeof tensor> = {
      name: "w", dims: [2], dataType: DT.FLOAT, dataLocation: 1,
      externalData: [{ key: "location", value: "weights.bin" }, { key: "offset", value: "4" }, { key: "length", value: "8" }],
    };
    const bytes = buildModel({
      nodes: [{ op: "Mul", inputs: ["x", "w"], outputs: ["y"] }],
      inputs: [{ name: "x", shape: [2] }],
      outputs: [{ name: "y" }],
      initializers: [w],
    });
    expect(() => convertOnnx(bytes, { baseDir: dir })).toThrow(`model.onnx: initializer 'w': external_data location 'weights.bin' cannot be read: no such file (looked for ${join(dir, "weights.bin")})`);
    writeFileSync(join(dir, "weights.bin"), new Uint8Array(new Float32Array([99, 0.5, -2]).buffer));
    const { graph } = convertOnnx(bytes, { baseDir: dir });
    const y = run(graph, { x: Tensor.fromFloat([3, 3], [2], 16) }).outputs.get("y")!;
    expect(Array.from(y.toFloat())).toEqual([1.5, -6]);
  });

  it("requires shape-like operands to be constants, naming node and operand", () => {
    const bytes = buildModel({
      nodes: [{ op: "Reshape", inputs: ["x", "s"], outputs: ["y"], name: "r" }],
      inputs: [{ name: "x", shape: [2, 3] }, { name: "s", shape: [2], type: DT.INT64 }],
      outputs: [{ name: "y" }],
    });
    expect(() => convertOnnx(bytes)).toThrow("node 'r' (Reshape): input 1 (shape) must be a constant: detml graphs have static shapes and parameters, and 's' is computed at run time");
  });

  it("rejects unsupported attribute values naming the node", () => {
    const conv4d = buildModel({
      nodes: [{ op: "Conv", inputs: ["x", "w"], outputs: ["y"], name: "c4" }],
      inputs: [{ name: "x", shape: [1, 1, 3, 3, 3, 3] }],
      outputs: [{ name: "y" }],
      initializers: [tensor("w", [1, 1, 1, 1, 1, 1], [1])],
    });
    expect(() => convertOnnx(conv4d)).toThrow(/^node 'c4' \(Conv\): .*supports 1D, 2D and 3D/);
    const cubic = buildModel({
      nodes: [{ op: "Resize", inputs: ["x", "", "scales"], outputs: ["y"], name: "up", attrs: { mode: "lanczos" } }],
      inputs: [{ name: "x", shape: [1, 1, 2, 2] }],
      outputs: [{ name: "y" }],
      initializers: [tensor("scales", [4], [1, 1, 2, 2])],
    });
    expect(() => convertOnnx(cubic)).toThrow("node 'up' (Resize): mode 'lanczos' is not supported (nearest, linear and cubic are)");
    const gelu = buildModel({
      nodes: [{ op: "LeakyRelu", inputs: ["x"], outputs: ["y"], name: "lr", attrs: { alpha: 0.1, gamma: 2 } }],
      inputs: [{ name: "x", shape: [2] }],
      outputs: [{ name: "y" }],
    });
    expect(() => convertOnnx(gelu)).toThrow("node 'lr' (LeakyRelu): attribute 'gamma' is not supported (detml's LeakyRelu has alpha)");
  });
});
