/**
 * The rotary-embedding Transformer fixture end to end (fixtures/pytorch/export_rotary.py): the
 * rotary angles come from the `positions` input at run time (Einsum "i,j->ij", then Sin and Cos
 * in the graph, not folded), attention scores and mixing are Einsums, and the causal mask is a
 * computed comparison of positions feeding Where. It converts, verifies against ONNX Runtime
 * within 1% of the logit range with argmax agreement >= 99% per position (on positions 0..T-1
 * and on shifted positions, which change the angles), matches PyTorch's saved logits, 
 * test/long/trig.long.ts compiles it, runs it bit-identically in the ref, wasm and vm engines
 * and disputes its run (the compile alone takes 2 to 4 s).
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { convertOnnx } from "../../converter/onnx/index.js";
import { run } from "../../lib/executor.js";
import { readNpy } from "../../lib/tensor/npy.js";
import { onnxRuntimeOracle } from "../../lib/verify/oracle.js";
import { verifyGraph } from "../../verify/verify.js";
import { rotarySamples, ROTARY_MODEL } from "./rotary-fixture.js";

describe("rotary Transformer (PyTorch export), end to end", () => {
  const bytes = new Uint8Array(readFileSync(ROTARY_MODEL));

  it("computes sin and cos of run-time positions in the graph", () => {
    const { graph, report } = convertOnnx(bytes, { source: "rotary_transformer.onnx" });
    for (const kind of ["Sin", "Cos", "Where"]) expect(graph.nodes.some((n) => n.op === kind), kind).toBe(true);
    // Five Einsums become MatMuls (the angles' outer product and two per block), plus the linear layers.
    expect(report.opCounts.MatMul).toBeGreaterThanOrEqual(5);
  });

  it("verifies against ONNX Runtime and PyTorch", async () => {
    const { graph } = convertOnnx(bytes, { source: "rotary_transformer.onnx" });
    const samples = rotarySamples([0, 9]);
    const checked = await verifyGraph(graph, await onnxRuntimeOracle(bytes, "rotary_transformer"), samples);
    const [logits] = checked.engines[0].outputs;
    // Measured: 6.9e-6 of the logit range, argmax 128/128 positions (the long suite: 320/320).
    expect(logits.maxRelError).toBeLessThan(0.01);
    expect(logits.argmax!.agree / logits.argmax!.total).toBeGreaterThanOrEqual(0.99);

    // PyTorch's logits for the four token rows at positions 0..T-1 (the first four samples).
    const torch = readNpy(new Uint8Array(readFileSync("fixtures/data/rotary_logits.npy")));
    const want = Float64Array.from(torch.data as ArrayLike<number>, Number);
    const range = Math.max(...want) - Math.min(...want);
    let worst = 0;
    for (let i = 0; i < 4; i++) {
      const got = run(graph, samples[i].fixed).outputs.get("logits")!.toFloat();
      got.forEach((v, k) => (worst = Math.max(worst, Math.abs(v - want[i * got.length + k]))));
    }
    expect(worst / range).toBeLessThan(0.01);
  });
});
