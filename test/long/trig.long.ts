/**
 * The rotary Transformer fixture (fixtures/pytorch/export_rotary.py) through every engine: it
 * verifies against ONNX Runtime on its four token rows at five position offsets (the angles of
 * Sin and Cos change with the offset) within 1% of the logit range with argmax agreement >= 99%,
 * runs bit-identically in the ref and wasm engines on every sample and in the vm on two, and its
 * run is disputed: the honest side wins against a liar on either side. Also a TF.js graph model
 * with every trigonometric and hyperbolic op and two Einsums, against tf.loadGraphModel.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { packInputs } from "../../abi/tensors.js";
import { compile } from "../../compiler/compile.js";
import { convertOnnx } from "../../converter/onnx/index.js";
import { HonestView, runDispute, type Cheat, type Role } from "../../dispute/index.js";
import { VIEW_KINDS } from "../../lib/ops/index.js";
import { onnxRuntimeOracle } from "../../lib/verify/oracle.js";
import { referenceEngine, vmEngine, wasmEngine } from "../../verify/engines.js";
import { verifyGraph } from "../../verify/verify.js";
import { Session } from "../../vm/index.js";
import { attr, GraphDefWriter } from "../../fixtures/tfjs/tfjs-files.js";
import { rotarySamples, ROTARY_MODEL } from "../converter/rotary-fixture.js";
import { checkAgainstTfjs, worstRel } from "../converter/tfjs/helpers.js";

describe("rotary Transformer in every engine", () => {
  const bytes = new Uint8Array(readFileSync(ROTARY_MODEL));
  const { graph } = convertOnnx(bytes, { source: "rotary_transformer.onnx" });
  const samples = rotarySamples([0, 3, 9, 40, 250]);

  it("verifies on 20 samples against ONNX Runtime, bit-identical in ref, wasm and vm", async () => {
    const oracle = await onnxRuntimeOracle(bytes, "rotary_transformer");
    const report = await verifyGraph(graph, oracle, samples, { engines: [referenceEngine, wasmEngine] });
    const [logits] = report.engines[0].outputs;
    console.log(`rotary: maxRelError ${logits.maxRelError.toExponential(2)}, argmax ${logits.argmax!.agree}/${logits.argmax!.total}`);
    expect(logits.maxRelError).toBeLessThan(0.01);
    expect(logits.argmax!.agree / logits.argmax!.total).toBeGreaterThanOrEqual(0.99);
    expect(report.engines[1].identicalTo).toEqual({ engine: "ref", identical: true });
    const stepped = await verifyGraph(graph, oracle, [samples[2], samples[17]], { engines: [wasmEngine, vmEngine] });
    expect(stepped.engines[1].identicalTo).toEqual({ engine: "wasm", identical: true });
  });

  it("the honest side wins a dispute over its run against a liar on either side", () => {
    const { wasm, manifest } = compile(graph);
    const fixed = samples[6].fixed;
    const input = packInputs(manifest.inputs, { tokens: fixed.get("tokens")!, positions: fixed.get("positions")! });
    const view = new HonestView(new Session(wasm, input, { snapshotEvery: 1 << 16 }));
    expect(runDispute(view)).toMatchObject({ challenged: false, winner: "submitter", conserved: true });
    const total = view.session.segmentSteps().reduce((a, b) => a + b, 0);
    // The segment of the Sin op (views have none): a lie about the rotary angles' sines.
    const sinOp = graph.nodes.filter((n) => !VIEW_KINDS.has(n.op)).findIndex((n) => n.op === "Sin");
    expect(sinOp).toBeGreaterThanOrEqual(0);
    const cheats: Cheat[] = [{ kind: "output" }, { kind: "step", step: Math.floor(total / 3) }, { kind: "op", op: sinOp }, { kind: "random", seed: 11 }];
    for (const cheat of cheats) {
      for (const cheatSide of ["submitter", "challenger"] as Role[]) {
        const r = runDispute(view, { cheat, cheatSide });
        expect(r.winner, `${JSON.stringify(cheat)} by the ${cheatSide}: ${r.reason}`).toBe(cheatSide === "submitter" ? "challenger" : "submitter");
        expect(r.conserved).toBe(true);
      }
    }
  });
});

describe("TF.js graph ops", () => {
  it("Sin, Cos, Tan, Asin, Acos, Atan, Sinh, Cosh, Asinh, Acosh, Atanh and Einsum against tf.loadGraphModel", async () => {
    const w = new GraphDefWriter();
    const x = w.placeholder("x", [-1, 8]);
    // Inputs in [-1, 1): shifted or scaled into each function's domain by constants.
    const half = w.node("Mul", "half", [x, w.constant("c_half", [0.9], [1])]);
    const above = w.node("AddV2", "above", [w.node("Abs", "abs", [x]), w.constant("c_one", [1.5], [1])]);
    const outputs = ["Sin", "Cos", "Tan", "Atan", "Sinh", "Cosh", "Asinh"].map((op) => w.node(op, op.toLowerCase(), [x]));
    outputs.push(...["Asin", "Acos", "Atanh"].map((op) => w.node(op, op.toLowerCase(), [half])), w.node("Acosh", "acosh", [above]));
    // Einsum through the shared composition: a matrix product and an outer product.
    const weights = w.constant("c_w", Array.from({ length: 24 }, (_, i) => Math.sin(i) / 2), [8, 3]);
    const mixed = w.node("Einsum", "mix", [x, weights], { equation: attr.s("bi,ij->bj"), N: attr.i(2) });
    outputs.push(mixed, w.node("Einsum", "outer", [mixed, x], { equation: attr.s("bi,bj->bij"), N: attr.i(2) }));
    const r = await checkAgainstTfjs(w.toModel(["x"], outputs), { seed: 5 });
    expect(r.outputs).toHaveLength(outputs.length);
    expect(worstRel(r.outputs), JSON.stringify(r.outputs.map((o) => [o.name, o.maxRelError]))).toBeLessThanOrEqual(1e-3);
  });
});
