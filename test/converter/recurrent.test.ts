/**
 * ONNX LSTM, GRU and RNN through the unrolled composition (converter/common/composite-recurrent.ts)
 * against onnxruntime-node on one-node models built in the test: every direction, both layouts,
 * sequence_lens (constant and fed at run time), initial states, LSTM peepholes, GRU's
 * linear_before_reset, non-default activations with their alpha/beta lists, clip, and every
 * output (Y, Y_h, Y_c); plus the rejections, which name the node and say why. End to end on a
 * PyTorch fixture (fixtures/pytorch/export_recurrent.py, the GRU text classifier): verify
 * against ONNX Runtime, compile, run bit-identically in the ref, wasm and vm engines, dispute a
 * lie about the run. test/long/recurrent.long.ts does all four fixtures on every sample. The
 * TF.js LSTM, GRU, SimpleRNN and Bidirectional layers are built and saved in memory with
 * @tensorflow/tfjs and compared with TF.js itself (the oracle of `detml verify`).
 */
import { readFileSync } from "node:fs";
import * as tf from "@tensorflow/tfjs";
import { describe, expect, it } from "vitest";
import pkg from "onnx-proto";
import { packInputs } from "../../abi/tensors.js";
import { compile } from "../../compiler/compile.js";
import { convertOnnx } from "../../converter/onnx/index.js";
import { convertTfjs } from "../../converter/tfjs/convert.js";
import { HonestView, runDispute } from "../../dispute/index.js";
import { run } from "../../lib/executor.js";
import { readNpy } from "../../lib/tensor/npy.js";
import { Tensor } from "../../lib/tensor/tensor.js";
import { samplesFromArrays } from "../../lib/verify/inputs.js";
import { onnxRuntimeOracle } from "../../lib/verify/oracle.js";
import { wasmSampleRunner } from "../../verify/runnable.js";
import { verifyGraph } from "../../verify/verify.js";
import { Session } from "../../vm/index.js";
import { buildModel, DT, runOrt, tensor, type NodeSpec } from "./onnx/onnx-builder.js";
import { checkAgainstTfjs, layersModelFiles, loader, seedWeights, tfReady, worstRel } from "./tfjs/helpers.js";

const { onnx } = pkg;

/** Seeded uniform values in [-scale, scale). */
function uniform(count: number, seed: number, scale: number): number[] {
  let s = seed >>> 0;
  return Array.from({ length: count }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s / 2 ** 32 * 2 - 1) * scale;
  });
}

interface Case {
  name: string;
  kind: "LSTM" | "GRU" | "RNN";
  steps: number;
  batch: number;
  input: number;
  hidden: number;
  direction?: "forward" | "reverse" | "bidirectional";
  layout?: 0 | 1;
  bias?: boolean;
  lengths?: number[];
  /** Feed sequence_lens at run time instead of as an initializer. */
  lengthsAtRunTime?: boolean;
  initial?: boolean;
  peepholes?: boolean;
  attrs?: Record<string, number>;
  activations?: string[];
  alphas?: number[];
  betas?: number[];
}

const GATES = { LSTM: 4, GRU: 3, RNN: 1 };

/** The one-node model of a case, and its inputs (all but X are initializers unless fed). */
function buildCase(c: Case): { bytes: Uint8Array; feeds: { X: { data: Float32Array; shape: number[] } } } {
  const dirs = c.direction === "bidirectional" ? 2 : 1;
  const gh = GATES[c.kind] * c.hidden;
  const layout = c.layout ?? 0;
  const stateShape = layout === 0 ? [dirs, c.batch, c.hidden] : [c.batch, dirs, c.hidden];
  const xShape = layout === 0 ? [c.steps, c.batch, c.input] : [c.batch, c.steps, c.input];
  const inits = [
    tensor("W", [dirs, gh, c.input], uniform(dirs * gh * c.input, 1, 0.8)),
    tensor("R", [dirs, gh, c.hidden], uniform(dirs * gh * c.hidden, 2, 0.8)),
  ];
  const inputs = ["X", "W", "R", "", "", "", "", ""];
  if (c.bias) {
    inits.push(tensor("B", [dirs, 2 * gh], uniform(dirs * 2 * gh, 3, 0.5)));
    inputs[3] = "B";
  }
  // Values are drawn in layout-0 order and moved for layout 1, so both layouts hold the same data.
  const inLayout = (values: number[], layout0: number[]) => (layout === 0 ? values : swap01(values, layout0));
  const feeds = { X: { data: Float32Array.from(inLayout(uniform(c.steps * c.batch * c.input, 4, 1.5), [c.steps, c.batch, c.input])), shape: xShape } };
  const runtime = [{ name: "X", shape: xShape }] as { name: string; shape: number[]; type?: number }[];
  if (c.lengths) {
    inputs[4] = "L";
    if (c.lengthsAtRunTime) runtime.push({ name: "L", shape: [c.batch], type: DT.INT32 });
    else inits.push(tensor("L", [c.batch], c.lengths, DT.INT32));
  }
  if (c.initial) {
    inits.push(tensor("H0", stateShape, inLayout(uniform(dirs * c.batch * c.hidden, 5, 0.9), [dirs, c.batch, c.hidden])));
    inputs[5] = "H0";
    if (c.kind === "LSTM") {
      inits.push(tensor("C0", stateShape, inLayout(uniform(dirs * c.batch * c.hidden, 6, 0.9), [dirs, c.batch, c.hidden])));
      inputs[6] = "C0";
    }
  }
  if (c.peepholes) {
    inits.push(tensor("P", [dirs, 3 * c.hidden], uniform(dirs * 3 * c.hidden, 7, 0.6)));
    inputs[7] = "P";
  }
  while (inputs[inputs.length - 1] === "") inputs.pop();
  const outputs = ["Y", "Y_h", ...(c.kind === "LSTM" ? ["Y_c"] : [])];
  const node: NodeSpec = {
    op: c.kind,
    name: `${c.kind.toLowerCase()}_under_test`,
    inputs,
    outputs,
    attrs: { hidden_size: c.hidden, layout, ...(c.direction ? { direction: c.direction } : {}), ...c.attrs },
  };
  if (c.alphas) node.attrs!.activation_alpha = { floats: c.alphas };
  if (c.betas) node.attrs!.activation_beta = { floats: c.betas };
  let bytes = buildModel({ opset: 14, nodes: [node], inputs: runtime, outputs: outputs.map((name) => ({ name })), initializers: inits });
  if (c.activations) bytes = withStrings(bytes, "activations", c.activations);
  return { bytes, feeds };
}

/** Add a list-of-strings attribute to the model's first node (the test builder has no such type). */
function withStrings(bytes: Uint8Array, name: string, values: string[]): Uint8Array {
  const model = onnx.ModelProto.decode(bytes);
  model.graph!.node![0].attribute!.push({ name, type: onnx.AttributeProto.AttributeType.STRINGS, strings: values.map((v) => new TextEncoder().encode(v)) });
  return onnx.ModelProto.encode(model).finish();
}

/** Swap the first two axes of a 3-D row-major array (layout 0 <-> layout 1). */
function swap01(values: ArrayLike<number>, [a, b, c]: number[]): number[] {
  const out = new Array<number>(values.length);
  for (let i = 0; i < a; i++) for (let j = 0; j < b; j++) for (let k = 0; k < c; k++) out[(j * a + i) * c + k] = values[(i * b + j) * c + k];
  return out;
}

/** Y [S, dirs, B, H] as layout 1's [B, S, dirs, H]. */
function yToLayout1(values: ArrayLike<number>, [steps, dirs, batch, hidden]: number[]): number[] {
  const out = new Array<number>(values.length);
  for (let t = 0; t < steps; t++) for (let d = 0; d < dirs; d++) for (let b = 0; b < batch; b++) for (let k = 0; k < hidden; k++) {
    out[((b * steps + t) * dirs + d) * hidden + k] = values[((t * dirs + d) * batch + b) * hidden + k];
  }
  return out;
}

/** Convert the case's model and run the reference executor on the quantized X (and fed lengths). */
function runDetml(c: Case): Map<string, Tensor> {
  const { bytes, feeds } = buildCase(c);
  const { graph } = convertOnnx(bytes, { source: `${c.name}.onnx` });
  const inputs: Record<string, Tensor> = { X: Tensor.fromFloat(feeds.X.data, feeds.X.shape, 16) };
  if (c.lengthsAtRunTime) inputs.L = Tensor.fromInts(c.lengths!, [c.batch]);
  return run(graph, inputs).outputs;
}

/** ORT on the case's model; sequence_lens, when fed, as the int32 tensor the model declares. */
async function runOnnxRuntime(c: Case): Promise<Record<string, { data: Float64Array; shape: number[] }>> {
  const { bytes, feeds } = buildCase(c);
  if (!c.lengthsAtRunTime) return runOrt(bytes, { X: feeds.X });
  const ort = (await import("onnxruntime-node")).default;
  const session = await ort.InferenceSession.create(bytes);
  const result = await session.run({
    X: new ort.Tensor("float32", feeds.X.data, feeds.X.shape),
    L: new ort.Tensor("int32", Int32Array.from(c.lengths!), [c.batch]),
  });
  await session.release();
  return Object.fromEntries(Object.entries(result).map(([k, t]) => [k, { data: Float64Array.from(t.data as Float32Array, Number), shape: [...t.dims] }]));
}

/**
 * Every output of detml within `tolerance` (real units) of ONNX Runtime. ONNX Runtime refuses
 * layout 1, so a layout-1 case is checked against its layout-0 twin: detml's outputs must be
 * exactly the twin's with the batch axis moved, and the twin is compared with ONNX Runtime.
 */
async function expectMatchesOrt(c: Case, tolerance = 1e-4): Promise<void> {
  if (c.layout === 1) {
    const twin = runDetml({ ...c, layout: 0 });
    for (const [name, y] of runDetml(c)) {
      const t = twin.get(name)!;
      const want = name === "Y" ? yToLayout1(t.data, [...t.shape]) : swap01(t.data, [...t.shape]);
      expect([...y.data], `${c.name} ${name} vs layout 0`).toEqual(want);
    }
    return expectMatchesOrt({ ...c, layout: 0 }, tolerance);
  }
  const want = await runOnnxRuntime(c);
  const got = runDetml(c);
  for (const [name, ref] of Object.entries(want)) {
    const y = got.get(name)!;
    expect(y.shape, `${c.name} ${name} shape`).toEqual(ref.shape);
    const values = y.toFloat();
    let worst = 0;
    for (let i = 0; i < values.length; i++) worst = Math.max(worst, Math.abs(values[i] - ref.data[i]));
    expect(worst, `${c.name} ${name}: largest error`).toBeLessThan(tolerance);
  }
}

const CASES: Case[] = [
  { name: "LSTM bidirectional, sequence_lens, initial states, peepholes", kind: "LSTM", steps: 5, batch: 3, input: 4, hidden: 3, direction: "bidirectional", bias: true, lengths: [5, 2, 4], initial: true, peepholes: true },
  { name: "LSTM reverse, layout 1, clip", kind: "LSTM", steps: 4, batch: 2, input: 3, hidden: 5, direction: "reverse", layout: 1, bias: true, initial: true, attrs: { clip: 0.75 } },
  { name: "LSTM with activations HardSigmoid, ScaledTanh, Affine", kind: "LSTM", steps: 3, batch: 2, input: 3, hidden: 4, bias: true, activations: ["HardSigmoid", "ScaledTanh", "Affine"], alphas: [0.3, 0.9, 0.7], betas: [0.45, 1.2, 0.1] },
  { name: "GRU bidirectional, sequence_lens fed at run time", kind: "GRU", steps: 4, batch: 3, input: 3, hidden: 4, direction: "bidirectional", bias: true, lengths: [4, 1, 3], lengthsAtRunTime: true, initial: true },
  { name: "GRU linear_before_reset, bidirectional, layout 1", kind: "GRU", steps: 5, batch: 2, input: 4, hidden: 3, direction: "bidirectional", layout: 1, bias: true, initial: true, attrs: { linear_before_reset: 1 } },
  { name: "GRU linear_before_reset without bias or initial state", kind: "GRU", steps: 3, batch: 1, input: 2, hidden: 3, attrs: { linear_before_reset: 1 } },
  { name: "RNN bidirectional with Relu and LeakyRelu", kind: "RNN", steps: 4, batch: 2, input: 3, hidden: 3, direction: "bidirectional", bias: true, initial: true, activations: ["Relu", "LeakyRelu"], alphas: [0.2] },
  { name: "RNN with Softsign, clip and sequence_lens", kind: "RNN", steps: 3, batch: 2, input: 2, hidden: 2, bias: true, lengths: [3, 0], activations: ["Softsign"], attrs: { clip: 0.5 } },
];

describe("ONNX recurrent layers against onnxruntime", () => {
  for (const c of CASES) it(c.name, () => expectMatchesOrt(c));
});

describe("ONNX recurrent layers: rejections", () => {
  const reject = (c: Case, message: RegExp) => expect(() => convertOnnx(buildCase(c).bytes)).toThrow(message);

  it("refuses LSTM input_forget, naming the node", () => {
    reject({ name: "coupled", kind: "LSTM", steps: 2, batch: 1, input: 2, hidden: 2, attrs: { input_forget: 1 } }, /node 'lstm_under_test' \(LSTM\): input_forget=1 .*not supported/);
  });

  it("refuses an activation the IR has no composition for, naming it", () => {
    reject({ name: "unknown", kind: "RNN", steps: 2, batch: 1, input: 2, hidden: 2, activations: ["Gaussian"] }, /node 'rnn_under_test' \(RNN\): activation 'Gaussian' is not supported/);
  });

  it("refuses an activation list of the wrong length", () => {
    reject({ name: "short", kind: "GRU", steps: 2, batch: 1, input: 2, hidden: 2, activations: ["Sigmoid"] }, /1 activations given, GRU needs 2/);
  });
});

describe("PyTorch recurrent text classifier, end to end", () => {
  const name = "gru_text";
  const bytes = new Uint8Array(readFileSync(`fixtures/models/recurrent/${name}.onnx`));
  const tokens = readNpy(new Uint8Array(readFileSync("fixtures/data/recurrent_tokens.npy")));

  it("converts, verifies against ONNX Runtime, runs bit-identically in ref, wasm and vm, and disputes", async () => {
    const { graph, report } = convertOnnx(bytes, { source: `${name}.onnx` });
    expect(report.opCounts.Gemm).toBeGreaterThan(12);
    const samples = samplesFromArrays(graph, new Map([["tokens", { path: "recurrent_tokens.npy", npy: tokens }]])).slice(0, 10);
    const checked = await verifyGraph(graph, await onnxRuntimeOracle(bytes, name), samples);
    const [logits] = checked.engines[0].outputs;
    // Measured on all 100 sequences (long suite): 1.6e-5 of the logit range, argmax 100/100.
    expect(logits.maxRelError).toBeLessThan(1e-3);
    expect(logits.argmax!.agree).toBe(samples.length);
    // One compile for both compiled engines; each must give the reference executor's integers.
    const { wasm } = compile(graph);
    const want = run(graph, samples[0].fixed).outputs.get("logits")!;
    for (const engine of ["wasm", "vm"] as const) {
      const got = wasmSampleRunner(wasm, name, engine).run(samples[0].fixed).get("logits")!;
      expect([...got.data], engine).toEqual([...want.data]);
    }
    // A dispute over the vm run: a submitter who lies about one step loses to the honest challenger.
    const { manifest } = wasmSampleRunner(wasm, name);
    const view = new HonestView(new Session(wasm, packInputs(manifest.inputs, samples[0].fixed), { snapshotEvery: 1 << 16 }));
    const total = view.session.segmentSteps().reduce((a, b) => a + b, 0);
    const lie = runDispute(view, { cheat: { kind: "step", step: Math.floor(total / 2) }, cheatSide: "submitter" });
    expect(lie).toMatchObject({ challenged: true, winner: "challenger", conserved: true });
  });
});

describe("TF.js recurrent layers against TF.js", () => {
  const TOLERANCE = 2e-3;
  const check = async (layers: () => tf.layers.Layer[], inputShape: number[], seed: number, options: Parameters<typeof checkAgainstTfjs>[1] = {}) => {
    await tfReady();
    const model = tf.sequential();
    model.add(tf.layers.inputLayer({ inputShape }));
    layers().forEach((l) => model.add(l));
    seedWeights(model, seed, 0.6);
    const result = await checkAgainstTfjs(await layersModelFiles(model), { seed, count: 3, ...options });
    model.dispose();
    expect(worstRel(result.outputs), JSON.stringify(result.outputs.map((o) => [o.name, o.maxRelError]))).toBeLessThanOrEqual(TOLERANCE);
    return result;
  };

  it("LSTM (last state) and LSTM (sequences, go_backwards) with the default hard_sigmoid gates", async () => {
    await check(() => [tf.layers.lstm({ units: 5, returnSequences: true, goBackwards: true }), tf.layers.lstm({ units: 4 })], [6, 3], 11);
  });

  it("GRU and SimpleRNN with sequences, go_backwards and non-default activations", async () => {
    await check(() => [tf.layers.gru({ units: 4, returnSequences: true, goBackwards: true, recurrentActivation: "sigmoid" }), tf.layers.simpleRNN({ units: 3, returnSequences: true, activation: "relu" })], [5, 3], 12);
  });

  it("Bidirectional LSTM (concat, sequences) and GRU (sum, ave)", async () => {
    await check(() => [tf.layers.bidirectional({ layer: tf.layers.lstm({ units: 3, returnSequences: true }) as tf.RNN, mergeMode: "concat" }), tf.layers.bidirectional({ layer: tf.layers.gru({ units: 4 }) as tf.RNN, mergeMode: "sum" })], [5, 2], 13);
    await check(() => [tf.layers.bidirectional({ layer: tf.layers.simpleRNN({ units: 3, returnSequences: true }) as tf.RNN, mergeMode: "ave" })], [4, 2], 14);
  });

  it("an Embedding -> LSTM -> Dense text classifier", async () => {
    const r = await check(() => [tf.layers.embedding({ inputDim: 20, outputDim: 6 }), tf.layers.lstm({ units: 8 }), tf.layers.dense({ units: 3, activation: "softmax" })], [7], 15);
    // Seven steps of one LSTM cell: a recurrent Gemm per step plus the input projection.
    expect(r.graph.nodes.filter((n) => n.op === "Gemm").length).toBeGreaterThanOrEqual(8);
  });

  it("refuses return_state and stateful layers, saying why", async () => {
    await tfReady();
    const model = tf.sequential();
    model.add(tf.layers.inputLayer({ inputShape: [3, 2] }));
    model.add(tf.layers.simpleRNN({ units: 2 }));
    const files = await layersModelFiles(model);
    const topology = files.json.modelTopology as { config: { layers: { class_name: string; config: Record<string, unknown> }[] } };
    const layer = topology.config.layers.find((l) => l.class_name === "SimpleRNN")!;
    layer.config.stateful = true;
    expect(() => convertTfjs(files.json, loader(files))).toThrow(/stateful=true is not supported \(the state would persist across calls\)/);
    layer.config.stateful = false;
    layer.config.return_state = true;
    expect(() => convertTfjs(files.json, loader(files))).toThrow(/return_state=true is not supported \(a layer gives one output here\)/);
    model.dispose();
  });
});
