/**
 * Quantized models: the QuantizeLinear / DequantizeLinear kernels against exact rational math
 * (ties to even, one rounding), their WASM emitters bit for bit against the kernels on edge
 * values, the converter's folded multipliers against exact x / scale over float32 scales, and
 * the four fixtures of fixtures/pytorch/export_quantized.py end to end: converted, compared with
 * onnxruntime-node (and numpy's integer results), run bit-identically in the ref, wasm and vm
 * engines; the QDQ CNN also plays a dispute. DynamicQuantizeLinear against onnxruntime-node on
 * inputs full of ties. Refusals name the node and the reason.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { compile } from "../../compiler/compile.js";
import { convertOnnx } from "../../converter/onnx/index.js";
import { NodeCtx } from "../../converter/onnx/context.js";
import { dequantizeMultipliers, quantizeMultipliers } from "../../converter/onnx/quantized.js";
import { HonestView, runDispute } from "../../dispute/index.js";
import { run } from "../../lib/executor.js";
import { GraphBuilder } from "../../lib/graph/builder.js";
import type { Graph } from "../../lib/graph/ir.js";
import { dequantizeLinear, quantizeLinear, roundHalfEvenShift } from "../../lib/ops/quantize.js";
import { readNpy, npyToTensor } from "../../lib/tensor/npy.js";
import { Tensor } from "../../lib/tensor/tensor.js";
import { samplesFromArrays } from "../../lib/verify/inputs.js";
import { onnxRuntimeOracle } from "../../lib/verify/oracle.js";
import { packInputs } from "../../abi/tensors.js";
import { referenceEngine, vmEngine, wasmEngine, type Engine } from "../../verify/engines.js";
import { verifyGraph } from "../../verify/verify.js";
import { Session } from "../../vm/index.js";
import { expectWasmMatchesReference } from "../compiler/helpers.js";
import { Rng } from "../helpers/random.js";
import { buildModel, DT, runOrt, tensor } from "./onnx/onnx-builder.js";

const model = (name: string) => new Uint8Array(readFileSync(`fixtures/models/${name}.onnx`));
const npy = (name: string) => readNpy(new Uint8Array(readFileSync(`fixtures/data/${name}.npy`)));

/** Exact roundHalfEven(num / den) of integers (den > 0). */
function exactRoundHalfEven(num: bigint, den: bigint): bigint {
  const q = num >= 0n ? num / den : -((-num + den - 1n) / den);
  const twice = 2n * (num - q * den);
  return twice > den || (twice === den && (q & 1n) === 1n) ? q + 1n : q;
}

/** Run `graph` on every engine and expect bit-identical outputs; returns the reference outputs. */
async function runEverywhere(graph: Graph, inputs: Map<string, Tensor>, engines: Engine[] = [referenceEngine, wasmEngine, vmEngine]): Promise<Map<string, Tensor>> {
  const results: Map<string, Tensor>[] = [];
  for (const engine of engines) results.push(await (await engine.load(graph)).run(inputs));
  for (const [k, r] of results.entries()) {
    for (const [name, t] of results[0]) expect(Array.from(r.get(name)!.data), `${engines[k].name} ${name}`).toEqual(Array.from(t.data));
  }
  return results[0];
}

describe("QuantizeLinear and DequantizeLinear kernels", () => {
  it("round x * multiplier / 2^shift half to even, add the zero point and clamp", () => {
    const x = new Tensor([8], Int32Array.from([1, 3, 5, -1, -3, 7, 600, -600]), 0);
    const y = quantizeLinear(x, new Tensor([], Int32Array.of(1), 0), new Tensor([], Int32Array.of(10), 0), { shift: 1, low: 0, high: 255 });
    // 0.5, 1.5, 2.5, -0.5, -1.5, 3.5 round to 0, 2, 2, 0, -2, 4; 300 and -300 saturate.
    expect(Array.from(y.data)).toEqual([10, 12, 12, 10, 8, 14, 255, 0]);
  });

  it("equal exact rational rounding over random inputs, multipliers, shifts and input fracs", () => {
    const rng = new Rng(16);
    for (let i = 0; i < 2000; i++) {
      const frac = rng.int(0, 30);
      const v = rng.int(-(2 ** 31), 2 ** 31 - 1);
      const m = rng.int(-(2 ** 31), 2 ** 31 - 1);
      const shift = rng.int(-frac, 70 - frac);
      const zp = rng.int(-200, 200);
      const got = quantizeLinear(new Tensor([1], Int32Array.of(v), frac), new Tensor([], Int32Array.of(m), 0), new Tensor([], Int32Array.of(zp), 0), { shift, low: -(2 ** 31), high: 2 ** 31 - 1 });
      const exact = exactRoundHalfEven(BigInt(v) * BigInt(m), 1n << BigInt(shift + frac)) + BigInt(zp);
      const clamped = exact > 2147483647n ? 2147483647n : exact < -2147483648n ? -2147483648n : exact;
      expect(got.data[0], `v=${v} m=${m} shift=${shift} frac=${frac}`).toBe(Number(clamped));
    }
    expect(roundHalfEvenShift(-(2n ** 62n), 63)).toBe(0n);
    expect(roundHalfEvenShift(2n ** 62n, 63)).toBe(0n);
  });

  it("dequantize (x - zp) * multiplier / 2^shift with one round-half-up rounding to the output frac", () => {
    const rng = new Rng(17);
    for (let i = 0; i < 2000; i++) {
      const q = rng.int(-(2 ** 31), 2 ** 31 - 1);
      const zp = rng.int(-128, 255);
      const m = rng.int(1, 2 ** 24);
      const shift = rng.int(0, 60);
      const frac = rng.int(0, 30);
      const got = dequantizeLinear(new Tensor([1], Int32Array.of(q), 0), new Tensor([], Int32Array.of(m), 0), new Tensor([], Int32Array.of(zp), 0), { shift }, frac).data[0];
      const real = (BigInt(q) - BigInt(zp)) * BigInt(m);
      const s = shift - frac;
      let exact = s > 0 ? (real + (1n << BigInt(s - 1))) >> BigInt(s) : real << BigInt(-s);
      exact = exact > 2147483647n ? 2147483647n : exact < -2147483648n ? -2147483648n : exact;
      expect(got).toBe(Number(exact));
    }
  });
});

/** A float32 as mantissa * 2^exponent, read from its bits (normal numbers). */
function float32Parts(v: number): { mantissa: bigint; exponent: number } {
  const bits = new DataView(Float32Array.of(v).buffer).getUint32(0, true);
  return { mantissa: BigInt((bits & 0x7fffff) | 0x800000), exponent: ((bits >>> 23) & 0xff) - 127 - 23 };
}

describe("scales folded into integer multipliers by the converter", () => {
  const rng = new Rng(18);
  const scales = Array.from({ length: 200 }, (_, i) => Math.fround(i % 10 === 0 ? 2 ** rng.int(-12, 4) : 2 ** rng.uniform(-12, 4)));
  const one = (v: number) => new Tensor([], Int32Array.of(v), 0);

  it("QuantizeLinear of Q16 inputs equals the exact roundHalfEven(x / scale) for float32 scales (20 000 values below saturation)", () => {
    let differ = 0;
    for (const scale of scales) {
      const { multipliers: [m], shift, exact } = quantizeMultipliers([scale]);
      if (Number.isInteger(Math.log2(scale))) expect(exact).toBe(true);
      // Values of x / scale up to 300 steps, ties included for the power-of-two scales.
      const xs = Int32Array.from({ length: 100 }, () => Math.round(rng.uniform(-300, 300) * scale * 2 ** 16 * (rng.next() < 0.5 ? 1 : 0.5)));
      const got = quantizeLinear(new Tensor([100], xs, 16), one(m), one(0), { shift, low: -(2 ** 31), high: 2 ** 31 - 1 });
      const { mantissa, exponent } = float32Parts(scale);
      xs.forEach((v, i) => {
        const k = -16 - exponent;
        const want = k >= 0 ? exactRoundHalfEven(BigInt(v) << BigInt(k), mantissa) : exactRoundHalfEven(BigInt(v), mantissa << BigInt(-k));
        if (BigInt(got.data[i]) !== want) differ++;
      });
    }
    expect(differ).toBe(0);
  });

  it("DequantizeLinear gives the correctly rounded (q - zp) * scale at Q16 for float32 scales", () => {
    let differ = 0;
    for (const scale of scales) {
      const { multipliers: [m], shift, exact } = dequantizeMultipliers([scale]);
      expect(exact).toBe(true);
      const qs = Int32Array.from({ length: 100 }, () => rng.int(-128, 255));
      const got = dequantizeLinear(new Tensor([100], qs, 0), one(m), one(7), { shift }, 16);
      const { mantissa, exponent } = float32Parts(scale);
      qs.forEach((q, i) => {
        // round half up of (q - 7) * mantissa * 2^(exponent + 16)
        const real = BigInt(q - 7) * mantissa;
        const s = -(exponent + 16);
        const want = s > 0 ? (real + (1n << BigInt(s - 1))) >> BigInt(s) : real << BigInt(-s);
        if (BigInt(got.data[i]) !== want) differ++;
      });
    }
    expect(differ).toBe(0);
  });
});

describe("the quantization emitters", () => {
  it("compile bit-identical to the kernels on edge values (ties, i32 limits, per-channel, saturation)", async () => {
    const edges = [0, 1, -1, 2, -2, 3, -3, 32767, 32768, -32768, 98304, -98304, 2 ** 31 - 1, -(2 ** 31), 123456789, -987654321];
    const g = new GraphBuilder({ frac: 16 });
    g.input("x", [2, 16], 16);
    g.input("q", [2, 16], 0);
    g.constant("m", new Tensor([2, 1], Int32Array.of(3, 2 ** 31 - 1), 0));
    g.constant("zp", new Tensor([2, 1], Int32Array.of(128, -5), 0));
    g.constant("one", new Tensor([], Int32Array.of(1), 0));
    g.constant("zero", new Tensor([], Int32Array.of(0), 0));
    g.op("QuantizeLinear", ["x", "m", "zp"], { shift: 2, low: 0, high: 255 }, { outputs: ["y8"] });
    g.op("QuantizeLinear", ["x", "m", "zp"], { shift: 40, low: -(2 ** 31), high: 2 ** 31 - 1 }, { outputs: ["y32"] });
    g.op("QuantizeLinear", ["x", "one", "zero"], { shift: -15, low: -128, high: 127 }, { outputs: ["ytie"] });
    g.op("DequantizeLinear", ["q", "m", "zp"], { shift: 20 }, { outputs: ["dq"] });
    g.op("DequantizeLinear", ["q", "m", "zp"], { shift: 0 }, { outputs: ["dqsat"] });
    g.output("y8", "y32", "ytie", "dq", "dqsat");
    const graph = g.build();
    const data = Int32Array.from([...edges, ...edges.map((v) => -v | 0)]);
    const out = await runEverywhere(graph, new Map([["x", new Tensor([2, 16], data, 16)], ["q", new Tensor([2, 16], data, 0)]]), [referenceEngine, wasmEngine]);
    expect(out.get("y8")!.data.some((v) => v === 255)).toBe(true);
    expect(out.get("dqsat")!.data.some((v) => v === 2 ** 31 - 1)).toBe(true);
  });
});

describe("the QDQ CNN (PyTorch fake-quantize export)", () => {
  const bytes = model("quantized_qdq_cnn");
  const { graph, report } = convertOnnx(bytes);

  it("converts to integer Quantize/Dequantize steps around plain float ops with dequantized weights", () => {
    expect(report.opCounts).toEqual({ QuantizeLinear: 4, DequantizeLinear: 4, Conv: 2, Relu: 2, MaxPool: 1, ReduceMean: 1, Gemm: 1 });
  });

  it("verifies against onnxruntime-node within 1% of the range, argmax >= 99%, wasm bit-identical", async () => {
    // The first 16 of the 64 saved inputs (test/long/quantized.long.ts runs all 64 in every engine).
    const samples = samplesFromArrays(graph, new Map([["input", { path: "quantized_qdq_cnn_input.npy", npy: npy("quantized_qdq_cnn_input") }]])).slice(0, 16);
    const oracle = await onnxRuntimeOracle(bytes);
    const result = await verifyGraph(graph, oracle, samples, { engines: [referenceEngine, wasmEngine] });
    await oracle.dispose?.();
    const [ref, wasm] = result.engines;
    const [logits] = ref.outputs;
    expect(logits.samples).toBe(16);
    expect(logits.maxRelError).toBeLessThan(0.01);
    expect(logits.argmax!.percent).toBeGreaterThanOrEqual(99);
    expect(wasm.identicalTo).toEqual({ engine: "ref", identical: true });
  });

  it("runs bit-identically in ref, wasm and vm, and an output liar loses the dispute", async () => {
    const slot = compile(graph).manifest.inputs[0];
    const all = npyToTensor(npy("quantized_qdq_cnn_input"), slot.frac);
    const x = new Tensor(slot.shape, all.data.slice(0, 144), all.frac);
    await runEverywhere(graph, new Map([["input", x]]));
    const { wasm, manifest } = compile(graph);
    const view = new HonestView(new Session(wasm, packInputs(manifest.inputs, { input: x }), { snapshotEvery: 1 << 16 }));
    const r = runDispute(view, { cheat: { kind: "op", op: 1 }, cheatSide: "submitter", params: { degree: 4 } });
    expect([r.challenged, r.winner, r.segment, r.conserved]).toEqual([true, "challenger", 1, true]);
  });
});

describe("PyTorch's post-training quantized export (converted qnnpack modules)", () => {
  const bytes = model("quantized_torch_ptq");
  const { graph, report } = convertOnnx(bytes);

  it("converts the Quantize -> Cast -> Dequantize chains and verifies within 1% of the range, argmax >= 99%", async () => {
    expect(report.opCounts).toEqual({ QuantizeLinear: 4, DequantizeLinear: 4, Conv: 1, Relu: 1, Reshape: 1, Gemm: 1 });
    const samples = samplesFromArrays(graph, new Map([["input", { path: "quantized_torch_ptq_input.npy", npy: npy("quantized_torch_ptq_input") }]]));
    const oracle = await onnxRuntimeOracle(bytes);
    const result = await verifyGraph(graph, oracle, samples, { engines: [referenceEngine, wasmEngine] });
    await oracle.dispose?.();
    const [logits] = result.engines[0].outputs;
    expect(logits.samples).toBe(16);
    expect(logits.maxRelError).toBeLessThan(0.01);
    expect(logits.argmax!.percent).toBeGreaterThanOrEqual(99);
    expect(result.engines[1].identicalTo).toEqual({ engine: "ref", identical: true });
  });
});

describe("the QOperator model (QuantizeLinear, QLinearConv, QLinearMatMul, DequantizeLinear)", () => {
  const bytes = model("quantized_qlinear");
  const { graph } = convertOnnx(bytes);
  const yScale = 0.1;
  const yZero = 120;

  it("gives numpy's exact uint8 results, and onnxruntime's within 1 unit", async () => {
    const samples = samplesFromArrays(graph, new Map([["input", { path: "quantized_qlinear_input.npy", npy: npy("quantized_qlinear_input") }]]));
    const expected = npy("quantized_qlinear_expected").data as Int32Array;
    const oracle = await onnxRuntimeOracle(bytes);
    let differFromNumpy = 0;
    let maxFromOrt = 0;
    for (const [i, s] of samples.entries()) {
      const out = (await (await referenceEngine.load(graph)).run(s.fixed)).get("output")!;
      const ort = (await oracle.run(s.float)).get("output")!;
      for (let k = 0; k < 10; k++) {
        const ours = Math.round(out.data[k] / 2 ** out.frac / yScale) + yZero;
        if (ours !== expected[i * 10 + k]) differFromNumpy++;
        maxFromOrt = Math.max(maxFromOrt, Math.abs(ours - (Math.round(ort.data[k] / yScale) + yZero)));
      }
    }
    await oracle.dispose?.();
    expect(differFromNumpy).toBe(0);
    expect(maxFromOrt).toBeLessThanOrEqual(1);
  });

  it("runs bit-identically in ref, wasm and vm, and the FAST build keeps the canonical memory", async () => {
    const all = npyToTensor(npy("quantized_qlinear_input"), 16);
    const input = new Tensor([1, 3, 8, 8], all.data.slice(0, 192), 16);
    await runEverywhere(graph, new Map([["input", input]]));
    expectWasmMatchesReference(graph, { input }, "fast");
  });
});

describe("MatMulInteger and ConvInteger", () => {
  const bytes = model("quantized_integer");
  const { graph } = convertOnnx(bytes);

  it("give the exact int32 sums of numpy and onnxruntime, bit-identically in ref, wasm and vm", async () => {
    const a = npy("quantized_integer_a").data as Int32Array;
    const x = npy("quantized_integer_x").data as Int32Array;
    const out = await runEverywhere(graph, new Map([["a", new Tensor([2, 16], a, 0)], ["x", new Tensor([1, 2, 6, 6], x, 0)]]));
    expect(Array.from(out.get("mm")!.data)).toEqual(Array.from(npy("quantized_integer_mm").data as Int32Array));
    expect(Array.from(out.get("cv")!.data)).toEqual(Array.from(npy("quantized_integer_cv").data as Int32Array));
    expectWasmMatchesReference(graph, { a: new Tensor([2, 16], a, 0), x: new Tensor([1, 2, 6, 6], x, 0) }, "fast");
    const oracle = await onnxRuntimeOracle(bytes);
    const ort = await oracle.run(new Map([["a", { shape: [2, 16], data: Float64Array.from(a) }], ["x", { shape: [1, 2, 6, 6], data: Float64Array.from(x) }]]));
    await oracle.dispose?.();
    expect(Array.from(ort.get("mm")!.data)).toEqual(Array.from(out.get("mm")!.data));
    expect(Array.from(ort.get("cv")!.data)).toEqual(Array.from(out.get("cv")!.data));
  });
});

describe("the element type of a zero point", () => {
  // int8 activations with a zero point of 0 (symmetric, TensorRT-style QDQ) look like uint8 ones
  // by their values: only the model's stated type tells them apart (NodeCtx.elemType).
  it("int8 activations with zero point 0 keep their negative values, as in onnxruntime", async () => {
    const bytes = buildModel({
      nodes: [
        { op: "QuantizeLinear", inputs: ["x", "s", "z"], outputs: ["q"], name: "q" },
        { op: "DequantizeLinear", inputs: ["q", "s", "z"], outputs: ["y"], name: "dq" },
      ],
      inputs: [{ name: "x", shape: [1, 8] }],
      outputs: [{ name: "y", shape: [1, 8] }],
      initializers: [tensor("s", [], [0.0625]), tensor("z", [], [0], DT.INT8)],
    });
    const { graph } = convertOnnx(bytes);
    // Ties at -16.5, -1.5, 0.5 and 127.5 steps: exact in Q16 and in float32 with a power-of-two scale.
    const x = [-9, -8.5, -1.03125, -0.09375, 0.03125, 1.3, 7.96875, 9];
    const ours = run(graph, { x: new Tensor([1, 8], Int32Array.from(x, (v) => Math.round(v * 2 ** 16)), 16) }).outputs.get("y")!;
    const oracle = await onnxRuntimeOracle(bytes);
    const ort = (await oracle.run(new Map([["x", { shape: [1, 8], data: Float64Array.from(x) }]]))).get("y")!;
    await oracle.dispose?.();
    const steps = Array.from(ours.data, (v) => v / 2 ** 16 / 0.0625);
    expect(steps).toEqual([-128, -128, -16, -2, 0, 21, 127, 127]);
    expect(steps).toEqual(Array.from(ort.data, (v) => v / 0.0625));
  });
});

describe("DequantizeLinear of integers that an op left at the graph frac", () => {
  it("realigns them to frac 0 exactly (Max of uint8 tensors writes at Q16)", async () => {
    const bytes = buildModel({
      nodes: [
        { op: "Max", inputs: ["x", "c"], outputs: ["m"], name: "max" },
        { op: "DequantizeLinear", inputs: ["m", "s", "z"], outputs: ["y"], name: "dq" },
      ],
      inputs: [{ name: "x", shape: [1, 6], type: DT.UINT8 }],
      outputs: [{ name: "y", shape: [1, 6] }],
      initializers: [tensor("c", [1, 6], [0, 10, 100, 200, 255, 3], DT.UINT8), tensor("s", [], [0.0625]), tensor("z", [], [100], DT.UINT8)],
      opset: 13,
    });
    const { graph } = convertOnnx(bytes);
    expect(graph.nodes.map((n) => n.op)).toEqual(["Max", "QuantizeLinear", "DequantizeLinear"]);
    const x = [255, 0, 101, 7, 0, 250];
    const out = await runEverywhere(graph, new Map([["x", new Tensor([1, 6], Int32Array.from(x), 0)]]), [referenceEngine, wasmEngine]);
    const oracle = await onnxRuntimeOracle(bytes);
    const ort = (await oracle.run(new Map([["x", { shape: [1, 6], data: Float64Array.from(x) }]]))).get("y")!;
    await oracle.dispose?.();
    expect(Array.from(out.get("y")!.data, (v) => v / 2 ** 16)).toEqual(Array.from(ort.data));
  });
});

describe("DynamicQuantizeLinear (lib/ops/dynamic-quantize.ts)", () => {
  it("gives onnxruntime's y and zero point exactly, and its scale to the nearest Q16 unit", async () => {
    const bytes = buildModel({
      nodes: [{ op: "DynamicQuantizeLinear", inputs: ["x"], outputs: ["y", "ys", "yz"], name: "dyn" }],
      inputs: [{ name: "x", shape: [3, 16] }],
      outputs: [{ name: "y", type: DT.UINT8 }, { name: "ys" }, { name: "yz", type: DT.UINT8 }],
    });
    const { graph } = convertOnnx(bytes);
    const rng = new Rng(9);
    for (let sample = 0; sample < 12; sample++) {
      // Values on a coarse grid (many exact ties of x / scale), shifted so some samples are one-signed.
      const spread = rng.pick([0.5, 3, 40]);
      const offset = rng.pick([0, spread, -spread]);
      const values = Float32Array.from({ length: 48 }, () => Math.round(rng.uniform(-spread, spread) * 8) / 8 + offset);
      const want = await runOrt(bytes, { x: { data: values, shape: [3, 16] } });
      const got = run(graph, { x: Tensor.fromFloat(values, [3, 16], 16) }).outputs;
      expect([...got.get("y")!.data], `sample ${sample}`).toEqual([...want.y.data]);
      expect(got.get("yz")!.data[0]).toBe(want.yz.data[0]);
      expect(got.get("ys")!.data[0]).toBe(Math.round(want.ys.data[0] * 65536));
    }
  });
});

describe("what the converter refuses, and why", () => {
  const scale = tensor("s", [], [0.1]);
  const zero = tensor("z", [], [0], DT.UINT8);

  it("a scale computed at run time", () => {
    const bytes = buildModel({
      nodes: [{ op: "QuantizeLinear", inputs: ["x", "s", "z"], outputs: ["y"], name: "q" }],
      inputs: [{ name: "x", shape: [1, 4] }, { name: "s", shape: [] }],
      outputs: [{ name: "y", shape: [1, 4], type: DT.UINT8 }],
      initializers: [zero],
    });
    expect(() => convertOnnx(bytes)).toThrow(/node 'q' \(QuantizeLinear\): input 1 \(y_scale\) must be a constant/);
  });

  it("a per-axis scale that does not match the axis", () => {
    const bytes = buildModel({
      nodes: [{ op: "DequantizeLinear", inputs: ["x", "s3"], outputs: ["y"], name: "dq", attrs: { axis: 1 } }],
      inputs: [{ name: "x", shape: [1, 4], type: DT.UINT8 }],
      outputs: [{ name: "y", shape: [1, 4] }],
      initializers: [tensor("s3", [3], [0.1, 0.2, 0.3]), scale],
    });
    expect(() => convertOnnx(bytes)).toThrow(/node 'dq' \(DequantizeLinear\): x_scale of shape \[3\] is neither one value nor one per element of axis 1/);
  });
});
