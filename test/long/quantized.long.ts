/**
 * The quantized fixtures at full length (npm run test:long): the QDQ CNN verified on all 64
 * saved inputs in the ref, wasm and vm engines against onnxruntime-node (every engine bit for
 * bit against the reference), PyTorch's post-training quantized export and the QOperator model
 * on their 16 inputs in all three engines, and
 * disputes on the QDQ CNN where a liar about each op, on either side, loses to the honest party.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { packInputs } from "../../abi/tensors.js";
import { compile } from "../../compiler/compile.js";
import { convertOnnx } from "../../converter/onnx/index.js";
import { HonestView, runDispute } from "../../dispute/index.js";
import { readNpy, npyToTensor } from "../../lib/tensor/npy.js";
import { Tensor } from "../../lib/tensor/tensor.js";
import { samplesFromArrays } from "../../lib/verify/inputs.js";
import { onnxRuntimeOracle } from "../../lib/verify/oracle.js";
import { referenceEngine, vmEngine, wasmEngine } from "../../verify/engines.js";
import { verifyGraph } from "../../verify/verify.js";
import { Session } from "../../vm/index.js";

const read = (path: string) => new Uint8Array(readFileSync(path));

async function verifyFixture(name: string, samplesWanted: number) {
  const bytes = read(`fixtures/models/${name}.onnx`);
  const { graph } = convertOnnx(bytes);
  const samples = samplesFromArrays(graph, new Map([["input", { path: name, npy: readNpy(read(`fixtures/data/${name}_input.npy`)) }]]));
  expect(samples.length).toBe(samplesWanted);
  const oracle = await onnxRuntimeOracle(bytes);
  const report = await verifyGraph(graph, oracle, samples, { engines: [referenceEngine, wasmEngine, vmEngine] });
  await oracle.dispose?.();
  return report;
}

describe("quantized fixtures, every sample in every engine", () => {
  it("QDQ CNN: 64 inputs within 1% of the range, argmax >= 99%, wasm and vm bit-identical", async () => {
    const report = await verifyFixture("quantized_qdq_cnn", 64);
    const [ref, wasm, vm] = report.engines;
    expect(ref.outputs[0].maxRelError).toBeLessThan(0.01);
    expect(ref.outputs[0].argmax!.percent).toBeGreaterThanOrEqual(99);
    expect([wasm.identicalTo?.identical, vm.identicalTo?.identical]).toEqual([true, true]);
  });

  it("PyTorch post-training quantized export: 16 inputs within 1% of the range, argmax >= 99%, bit-identical", async () => {
    const report = await verifyFixture("quantized_torch_ptq", 16);
    const [ref, wasm, vm] = report.engines;
    expect(ref.outputs[0].maxRelError).toBeLessThan(0.01);
    expect(ref.outputs[0].argmax!.percent).toBeGreaterThanOrEqual(99);
    expect([wasm.identicalTo?.identical, vm.identicalTo?.identical]).toEqual([true, true]);
  });

  it("QOperator model: 16 inputs, dequantized outputs equal to onnxruntime's up to the Q16 rounding", async () => {
    const report = await verifyFixture("quantized_qlinear", 16);
    const [ref, wasm, vm] = report.engines;
    // One uint8 unit is 0.1 at the output; the Q16 rounding of the dequantized value is 2^-17.
    expect(ref.outputs[0].maxAbsError).toBeLessThan(1e-4);
    expect([wasm.identicalTo?.identical, vm.identicalTo?.identical]).toEqual([true, true]);
  });
});

describe("disputes on the QDQ CNN", () => {
  it("a liar about any op, submitter or challenger, loses inside that op", () => {
    const { graph } = convertOnnx(read("fixtures/models/quantized_qdq_cnn.onnx"));
    const { wasm, manifest } = compile(graph);
    const slot = manifest.inputs[0];
    const x = npyToTensor(readNpy(read("fixtures/data/quantized_qdq_cnn_input.npy")), slot.frac);
    const input = new Tensor(slot.shape, x.data.slice(144, 288), x.frac);
    const view = new HonestView(new Session(wasm, packInputs(manifest.inputs, { input }), { snapshotEvery: 1 << 16 }));
    for (let op = 0; op < view.segments; op++) {
      for (const side of ["submitter", "challenger"] as const) {
        const r = runDispute(view, { cheat: { kind: "op", op }, cheatSide: side, params: { degree: 2 } });
        expect([r.segment, r.winner, r.conserved], `op ${op}, ${side} lies`).toEqual([op, side === "submitter" ? "challenger" : "submitter", true]);
      }
    }
  });
});
