/**
 * Every fixture model (fixtures/models/*.onnx, converted by the ONNX converter) compiles, passes
 * the provability lint (compile() lints every canonical module), runs bit-identically to the
 * reference executor on its fixture input (seeded random samples for a model without a
 * `<name>_input.npy` of its single input), and compiles to the same bytes twice; its FAST build
 * gives the same outputs and the same memory as the canonical build at every op boundary. A
 * fixture the converter cannot convert fails (with the converter's reason), it is not skipped.
 */
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { compile } from "../../compiler/compile.js";
import { convertOnnxFile } from "../../converter/onnx/index.js";
import { run } from "../../lib/executor.js";
import { readInputs } from "../../lib/model-files.js";
import { randomSamples } from "../../lib/verify/inputs.js";
import { loadWasm, WasmRunner } from "../../runtime-wasm/index.js";
import { expectSameTensor, expectWasmMatchesReference } from "./helpers.js";

const MODELS = "fixtures/models";
const DATA = "fixtures/data";
/** Input file per model; the others use data/<name>_input.npy. */
const INPUTS: Record<string, string> = { mnist_lenet: "mnist_test_1000.npy", transformer_block_op17: "transformer_block_input.npy" };
/** Ranges of integer inputs the random samples cannot infer from the graph (positions are not Gather indices). */
const INT_RANGES: Record<string, Record<string, { lo: number; hi: number }>> = {
  rotary_transformer: { positions: { lo: 0, hi: 15 } }, eval_graph: { labels: { lo: 0, hi: 3 } },
  quantized_integer: { a: { lo: 0, hi: 255 }, x: { lo: 0, hi: 255 } },
};
/** Samples checked per model (LeNet's input file holds 1000 digits). */
const SAMPLES = 2;

const names = readdirSync(MODELS).filter((f) => f.endsWith(".onnx")).map((f) => f.replace(/\.onnx$/, "")).sort();

describe("fixture models compile, lint and run bit-identically", () => {
  for (const name of names) {
    it(name, () => {
      const { graph } = convertOnnxFile(join(MODELS, `${name}.onnx`));
      const first = compile(graph, { strict: true });
      expect(compile(graph).wasm).toEqual(first.wasm);
      const runner = new WasmRunner(loadWasm(first.wasm));
      const file = join(DATA, INPUTS[name] ?? `${name}_input.npy`);
      const samples = graph.inputs.length === 1 && existsSync(file)
        ? readInputs(graph, new Map([["", file]])).slice(0, SAMPLES)
        : randomSamples(graph, SAMPLES, 7, { intRanges: INT_RANGES[name] }).map((s) => s.fixed);
      for (const sample of samples) {
        const want = run(graph, sample).outputs;
        const got = runner.run(sample);
        for (const [out, t] of want) expectSameTensor(got.get(out)!, t, `${name}.${out}`);
      }
      expectWasmMatchesReference(graph, Object.fromEntries(samples[0]), "fast");
    });
  }
});
