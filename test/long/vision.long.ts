/**
 * The long checks of the vision ops (converter/onnx/vision.ts): compiled GridSample models
 * (bicubic with reflection, bilinear with zeros) and a linear Resize by a scale ratio, each run
 * bit-identically in the ref, wasm and vm engines; then the PyTorch bicubic upsampler
 * fixtures/models/bicubic_upsampler.onnx (fixtures/pytorch/export_vision.py) end to end:
 * convert, verify against ONNX Runtime on its 4 images, compile, run bit-identically in the ref,
 * wasm and vm engines, and dispute a run in which the submitter lies about one step.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { packInputs } from "../../abi/tensors.js";
import { compile } from "../../compiler/compile.js";
import { convertOnnx } from "../../converter/onnx/index.js";
import { HonestView, runDispute } from "../../dispute/index.js";
import { run } from "../../lib/executor.js";
import { readNpy } from "../../lib/tensor/npy.js";
import { Tensor } from "../../lib/tensor/tensor.js";
import { samplesFromArrays } from "../../lib/verify/inputs.js";
import { onnxRuntimeOracle } from "../../lib/verify/oracle.js";
import { wasmSampleRunner } from "../../verify/runnable.js";
import { verifyGraph } from "../../verify/verify.js";
import { Session } from "../../vm/index.js";
import { buildModel, tensor } from "../converter/onnx/onnx-builder.js";
import { uniform as uniformUnit } from "../helpers/random.js";

/** Seeded uniform values in [-2, 2): twice the shared [-1, 1) values (exactly: a doubling). */
const uniform = (count: number, seed: number): number[] => uniformUnit(count, seed).map((v) => 2 * v);

/** The compiled graph's wasm and vm outputs must be the reference executor's integers. */
function expectBitIdentical(bytes: Uint8Array, feeds: Map<string, Tensor>): void {
  const { graph } = convertOnnx(bytes);
  const want = run(graph, feeds).outputs.get("y")!;
  const { wasm } = compile(graph);
  for (const engine of ["wasm", "vm"] as const) {
    expect([...wasmSampleRunner(wasm, "vision", engine).run(feeds).get("y")!.data], engine).toEqual([...want.data]);
  }
}

describe("compiled vision ops", () => {
  it("GridSample (bicubic with reflection, bilinear with zeros)", () => {
    const feeds = new Map([
      ["x", Tensor.fromFloat(Float32Array.from(uniform(80, 41)), [2, 2, 4, 5], 16)],
      ["grid", Tensor.fromFloat(Float32Array.from(uniform(48, 42).map((v) => v * 0.65)), [2, 3, 4, 2], 16)],
    ]);
    const cases: Record<string, string | number>[] = [{ mode: "bicubic", padding_mode: "reflection" }, { mode: "bilinear", padding_mode: "zeros", align_corners: 1 }];
    for (const attrs of cases) {
      expectBitIdentical(buildModel({
        opset: 16,
        nodes: [{ op: "GridSample", inputs: ["x", "grid"], outputs: ["y"], attrs }],
        inputs: [{ name: "x", shape: [2, 2, 4, 5] }, { name: "grid", shape: [2, 3, 4, 2] }],
        outputs: [{ name: "y" }],
      }), feeds);
    }
  });

  it("Resize linear by a scale ratio (scale 2.5 x 1.5: floor sizes, coordinates by the scale)", () => {
    expectBitIdentical(buildModel({
      opset: 13,
      nodes: [{ op: "Resize", inputs: ["x", "", "scales"], outputs: ["y"], attrs: { mode: "linear", coordinate_transformation_mode: "asymmetric" } }],
      inputs: [{ name: "x", shape: [1, 2, 5, 4] }],
      outputs: [{ name: "y" }],
      initializers: [tensor("scales", [4], [1, 1, 2.5, 1.5])],
    }), new Map([["x", Tensor.fromFloat(Float32Array.from(uniform(40, 32)), [1, 2, 5, 4], 16)]]));
  });
});

describe("PyTorch bicubic upsampler, end to end", () => {
  const name = "bicubic_upsampler";
  const bytes = new Uint8Array(readFileSync(`fixtures/models/${name}.onnx`));
  const path = "fixtures/data/bicubic_images.npy";
  const images = readNpy(new Uint8Array(readFileSync(path)));

  it("converts, verifies against ONNX Runtime, runs bit-identically in ref, wasm and vm, and disputes", async () => {
    const { graph, report } = convertOnnx(bytes, { source: `${name}.onnx` });
    expect(report.opCounts.ResizeCubic).toBe(2);
    const samples = samplesFromArrays(graph, new Map([["image", { path, npy: images }]]));
    const checked = await verifyGraph(graph, await onnxRuntimeOracle(bytes, name), samples);
    const [upscaled] = checked.engines[0].outputs;
    // Measured over the 4 images: 4.5e-6 of the output range (2.8e-5 absolute).
    expect(upscaled.maxRelError).toBeLessThan(1e-4);
    const { wasm } = compile(graph);
    const want = run(graph, samples[0].fixed).outputs.get("upscaled")!;
    for (const engine of ["wasm", "vm"] as const) {
      expect([...wasmSampleRunner(wasm, name, engine).run(samples[0].fixed).get("upscaled")!.data], engine).toEqual([...want.data]);
    }
    const { manifest } = wasmSampleRunner(wasm, name);
    const view = new HonestView(new Session(wasm, packInputs(manifest.inputs, samples[0].fixed), { snapshotEvery: 1 << 16 }));
    const total = view.session.segmentSteps().reduce((a, b) => a + b, 0);
    const lie = runDispute(view, { cheat: { kind: "step", step: Math.floor(total / 2) }, cheatSide: "submitter" });
    expect(lie).toMatchObject({ challenged: true, winner: "challenger", conserved: true });
  });
});
