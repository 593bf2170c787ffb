/**
 * Real MNIST end to end: the LeNet of fixtures/models/mnist_lenet.onnx (trained by
 * fixtures/pytorch/train_mnist.py) converted by the ONNX front end, the 1000 test digits run
 * through detml's reference executor and through ONNX Runtime (the float model). detml must
 * agree with the float model's argmax on >= 99.5% of the digits and be within 0.5 points of its
 * accuracy. ONNX Runtime itself is checked against the PyTorch logits stored with the digits.
 */
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { convertOnnx } from "../../converter/onnx/index.js";
import { readNpy } from "../../lib/tensor/npy.js";
import { argmaxRows } from "../../lib/batch.js";
import { compareOutputs } from "../../lib/verify/compare.js";
import { referenceEngine } from "../../verify/engines.js";
import { samplesFromArrays } from "../../lib/verify/inputs.js";
import { onnxRuntimeOracle } from "../../lib/verify/oracle.js";

const REPO = resolve(import.meta.dirname, "../..");
const fixture = (path: string) => new Uint8Array(readFileSync(join(REPO, "fixtures", path)));

describe("MNIST LeNet end to end", () => {
  it("classifies the 1000 test digits like the float model", async () => {
    const model = fixture("models/mnist_lenet.onnx");
    const digits = readNpy(fixture("data/mnist_test_1000.npy"), "mnist_test_1000.npy");
    const labels = Array.from(readNpy(fixture("data/mnist_test_1000_labels.npy"), "labels").data);
    const torchLogits = readNpy(fixture("data/mnist_test_1000_logits.npy"), "logits");
    expect(digits.shape).toEqual([1000, 1, 28, 28]);

    // The float model on the whole batch at once (its batch dimension is dynamic).
    const oracle = await onnxRuntimeOracle(model);
    const floatOut = (await oracle.run(new Map([["input", { shape: digits.shape, data: Float64Array.from(digits.data) }]]))).get("logits")!;
    await oracle.dispose?.();
    let torchErr = 0;
    floatOut.data.forEach((v, i) => (torchErr = Math.max(torchErr, Math.abs(v - torchLogits.data[i]))));
    expect(torchErr, "onnxruntime vs PyTorch logits").toBeLessThan(1e-3);

    const { graph } = convertOnnx(model, { shapes: { input: [1, 1, 28, 28] }, source: "mnist_lenet.onnx" });
    const samples = samplesFromArrays(graph, new Map([["input", { path: "mnist_test_1000.npy", npy: digits }]]));
    const engine = await referenceEngine.load(graph);
    const started = performance.now();
    const outputs = [];
    for (const s of samples) outputs.push(await engine.run(s.fixed));
    const ms = performance.now() - started;

    const expected = samples.map((_, i) => new Map([["logits", { shape: [1, 10], data: floatOut.data.slice(i * 10, (i + 1) * 10) }]]));
    const [cmp] = compareOutputs(["logits"], expected, outputs);
    const detmlClass = outputs.map((o) => argmaxRows(o.get("logits")!)![0]);
    const floatClass = argmaxRows({ shape: [1000, 10], data: floatOut.data })!;
    const accuracy = (classes: number[]) => (100 * classes.filter((c, i) => c === labels[i]).length) / labels.length;
    console.log(`MNIST LeNet, 1000 digits on the reference executor in ${(ms / 1000).toFixed(1)} s (${(ms / 1000).toFixed(2)} ms/digit): ` +
      `argmax agreement ${cmp.argmax!.percent.toFixed(1)}%, accuracy detml ${accuracy(detmlClass).toFixed(1)}% vs float ${accuracy(floatClass).toFixed(1)}%, ` +
      `max |logit err| ${cmp.maxAbsError.toExponential(2)} (${(100 * cmp.maxRelError).toFixed(4)}% of the range)`);

    expect(cmp.argmax!.total).toBe(1000);
    expect(cmp.argmax!.percent).toBeGreaterThanOrEqual(99.5);
    expect(Math.abs(accuracy(detmlClass) - accuracy(floatClass))).toBeLessThanOrEqual(0.5);
    expect(cmp.saturated).toBe(0);
  });
});
