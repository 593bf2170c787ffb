/**
 * The recurrent fixtures end to end (fixtures/pytorch/export_recurrent.py: LSTM, GRU,
 * bidirectional LSTM and 2-layer bidirectional GRU text classifiers): each converts, verifies on
 * all 100 token sequences within 1% of the logit range with argmax agreement >= 99% against
 * ONNX Runtime and against PyTorch's own logits, runs bit-identically in the ref and wasm engines
 * on every sequence and in the vm on a few, and the LSTM classifier's run is disputed: the honest
 * side wins against a liar on either side. The scripted RNN loop (rnn_loop, an ONNX Loop) runs
 * bit-identically in ref, wasm and vm too.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { packInputs } from "../../abi/tensors.js";
import { compile } from "../../compiler/compile.js";
import { convertOnnx } from "../../converter/onnx/index.js";
import { HonestView, runDispute, type Cheat, type Role } from "../../dispute/index.js";
import { readNpy } from "../../lib/tensor/npy.js";
import { samplesFromArrays } from "../../lib/verify/inputs.js";
import { onnxRuntimeOracle } from "../../lib/verify/oracle.js";
import { referenceEngine, vmEngine, wasmEngine } from "../../verify/engines.js";
import { verifyGraph } from "../../verify/verify.js";
import { Session } from "../../vm/index.js";

const FIXTURES = ["lstm_text", "gru_text", "lstm_bi_text", "gru_bi2_text"];
const tokens = readNpy(new Uint8Array(readFileSync("fixtures/data/recurrent_tokens.npy")));

function load(name: string) {
  const bytes = new Uint8Array(readFileSync(`fixtures/models/recurrent/${name}.onnx`));
  const { graph } = convertOnnx(bytes, { source: `${name}.onnx` });
  return { bytes, graph, samples: samplesFromArrays(graph, new Map([["tokens", { path: "recurrent_tokens.npy", npy: tokens }]])) };
}

describe("recurrent text classifiers", () => {
  for (const name of FIXTURES) {
    it(`${name}: verifies on 100 sequences against ONNX Runtime and PyTorch, bit-identical in ref, wasm and vm`, async () => {
      const { bytes, graph, samples } = load(name);
      expect(samples).toHaveLength(100);
      const oracle = await onnxRuntimeOracle(bytes, name);
      const report = await verifyGraph(graph, oracle, samples, { engines: [referenceEngine, wasmEngine] });
      const [logits] = report.engines[0].outputs;
      expect(logits.maxRelError).toBeLessThan(0.01);
      expect(logits.argmax!.agree / logits.argmax!.total).toBeGreaterThanOrEqual(0.99);
      expect(report.engines[1].identicalTo).toEqual({ engine: "ref", identical: true });
      const stepped = await verifyGraph(graph, oracle, samples.slice(0, 3), { engines: [wasmEngine, vmEngine] });
      expect(stepped.engines[1].identicalTo).toEqual({ engine: "wasm", identical: true });

      // PyTorch's own logits for the same sequences (saved by the export script).
      const torch = readNpy(new Uint8Array(readFileSync(`fixtures/data/${name}_logits.npy`)));
      const torchValues = Float64Array.from(torch.data as ArrayLike<number>, Number);
      const range = Math.max(...torchValues) - Math.min(...torchValues);
      const classes = torch.shape[1];
      let worst = 0;
      let agree = 0;
      const argmax = (v: ArrayLike<number>) => Array.from(v).reduce((best, x, i, all) => (x > all[best] ? i : best), 0);
      const reference = await referenceEngine.load(graph);
      for (const [i, sample] of samples.entries()) {
        const got = (await reference.run(sample.fixed)).get("logits")!.toFloat();
        const want = torchValues.subarray(i * classes, (i + 1) * classes);
        got.forEach((v, k) => (worst = Math.max(worst, Math.abs(v - want[k]))));
        if (argmax(got) === argmax(want)) agree++;
      }
      expect(worst / range).toBeLessThan(0.01);
      expect(agree).toBeGreaterThanOrEqual(99);
    });
  }

  it("rnn_loop (an unrolled ONNX Loop): bit-identical in ref, wasm and vm", async () => {
    const bytes = new Uint8Array(readFileSync("fixtures/models/rnn_loop.onnx"));
    const { graph } = convertOnnx(bytes, { source: "rnn_loop.onnx" });
    const npy = readNpy(new Uint8Array(readFileSync("fixtures/data/rnn_loop_input.npy")));
    const samples = samplesFromArrays(graph, new Map([["x", { path: "rnn_loop_input.npy", npy }]]));
    const oracle = await onnxRuntimeOracle(bytes, "rnn_loop");
    const report = await verifyGraph(graph, oracle, samples, { engines: [referenceEngine, wasmEngine] });
    expect(report.engines[0].outputs[0].maxRelError).toBeLessThan(0.01);
    expect(report.engines[1].identicalTo).toEqual({ engine: "ref", identical: true });
    const stepped = await verifyGraph(graph, oracle, samples.slice(0, 3), { engines: [wasmEngine, vmEngine] });
    expect(stepped.engines[1].identicalTo).toEqual({ engine: "wasm", identical: true });
  });

  it("lstm_text: the honest side wins a dispute over its run against a liar on either side", () => {
    const { graph, samples } = load("lstm_text");
    const { wasm, manifest } = compile(graph);
    const input = packInputs(manifest.inputs, { tokens: samples[7].fixed.get("tokens")! });
    const view = new HonestView(new Session(wasm, input, { snapshotEvery: 1 << 16 }));
    expect(runDispute(view)).toMatchObject({ challenged: false, winner: "submitter", conserved: true });
    const total = view.session.segmentSteps().reduce((a, b) => a + b, 0);
    const cheats: Cheat[] = [{ kind: "output" }, { kind: "step", step: Math.floor(total / 3) }, { kind: "op", op: Math.floor(view.segments / 2) }, { kind: "random", seed: 5 }];
    for (const cheat of cheats) {
      for (const cheatSide of ["submitter", "challenger"] as Role[]) {
        const r = runDispute(view, { cheat, cheatSide });
        expect(r.winner, `${JSON.stringify(cheat)} by the ${cheatSide}: ${r.reason}`).toBe(cheatSide === "submitter" ? "challenger" : "submitter");
        expect(r.conserved).toBe(true);
      }
    }
  });
});
