/**
 * Example: a digit classifier written by hand with the GraphBuilder API, no training framework.
 * It averages 50 real MNIST digits per class into templates T_c and classifies by the nearest
 * template, which is a linear layer: logits_c = x·T_c - |T_c|²/2. The graph (Flatten -> MatMul ->
 * Add) is saved as a .detml file, then run on the other 500 digits with the reference executor.
 *
 *   node dist/examples/template-classifier.js [out.detml]
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { GraphBuilder } from "../lib/graph/builder.js";
import { encodeGraph, sourceHash } from "../lib/graph/codec.js";
import { run } from "../lib/executor.js";
import { readNpy } from "../lib/tensor/npy.js";
import { Tensor } from "../lib/tensor/tensor.js";
import { argmaxRows } from "../lib/batch.js";

const PIXELS = 784;
const PER_CLASS = 100; // the fixture holds 100 digits of each class, ordered by class
const TEMPLATE_DIGITS = 50;

export function buildTemplateClassifier(images: ArrayLike<number>): GraphBuilder {
  const templates = new Float64Array(PIXELS * 10); // [784, 10], column c = template of class c
  const bias = new Float64Array(10);
  for (let c = 0; c < 10; c++) {
    for (let k = 0; k < TEMPLATE_DIGITS; k++) {
      const base = (c * PER_CLASS + k) * PIXELS;
      for (let p = 0; p < PIXELS; p++) templates[p * 10 + c] += images[base + p] / TEMPLATE_DIGITS;
    }
    for (let p = 0; p < PIXELS; p++) bias[c] -= templates[p * 10 + c] ** 2 / 2;
  }
  const g = new GraphBuilder();
  const x = g.input("image", [1, 1, 28, 28]);
  const flat = g.op("Flatten", [x], { axis: 1 }, { name: "flatten" })[0];
  const scores = g.op("MatMul", [flat, g.constant("templates", templates, [PIXELS, 10])], {}, { name: "match" })[0];
  g.output(g.op("Add", [scores, g.constant("bias", bias, [10])], {}, { name: "logits", outputs: ["logits"] })[0]);
  g.meta("producer", "examples/template-classifier.ts");
  return g;
}

function main(): void {
  const out = process.argv[2] ?? ".cache/examples/template-classifier.detml";
  const images = readNpy(readFileSync("fixtures/data/mnist_test_1000.npy"), "mnist_test_1000.npy");
  const labels = readNpy(readFileSync("fixtures/data/mnist_test_1000_labels.npy"), "mnist_test_1000_labels.npy");
  const bytes = encodeGraph(buildTemplateClassifier(images.data).build());
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, bytes);
  console.log(`wrote ${out} (${bytes.length} bytes, source hash ${sourceHash(bytes)})`);

  const graph = buildTemplateClassifier(images.data).build();
  let correct = 0;
  let total = 0;
  for (let c = 0; c < 10; c++) {
    for (let k = TEMPLATE_DIGITS; k < PER_CLASS; k++) {
      const i = c * PER_CLASS + k;
      const image = Tensor.fromFloat(images.data.subarray(i * PIXELS, (i + 1) * PIXELS), [1, 1, 28, 28], graph.frac);
      const [predicted] = argmaxRows(run(graph, { image }).outputs.get("logits")!)!;
      correct += predicted === labels.data[i] ? 1 : 0;
      total++;
    }
  }
  console.log(`nearest-template accuracy on ${total} held-out digits: ${((100 * correct) / total).toFixed(1)}%`);
}

if (import.meta.url === `file://${process.argv[1]}`) main();
