/**
 * `npm run demo`: the main job on the bundled example. It converts the LeNet that
 * fixtures/pytorch/train_mnist.py trained on real MNIST digits, inspects it, classifies a few
 * real digits with the detml CLI (printing them), compiles it to provable integer-only WASM,
 * runs that, traces the same run in the rollup VM, plays a dispute in which a submitter who
 * altered one op of that run loses its bond to the honest challenger, plays it again through
 * transactions on an in-process chain (the StepVerifier and Referee contracts deciding, with the
 * gas of every move), and then measures over the 1000 held-out
 * digits detml's accuracy and its agreement with the float PyTorch model, in WASM and in the
 * reference executor (which must agree bit for bit).
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { argmaxRows } from "../lib/batch.js";
import { run } from "../lib/executor.js";
import { loadModel } from "../lib/model-files.js";
import { readNpy, writeNpy } from "../lib/tensor/npy.js";
import { Tensor } from "../lib/tensor/tensor.js";
import { loadWasm, WasmRunner } from "../runtime-wasm/index.js";

const WORK = ".cache/demo";
const ONNX = "fixtures/models/mnist_lenet.onnx";
const MODEL = join(WORK, "mnist_lenet.detml");
const WASM = join(WORK, "mnist_lenet.wasm");

function detml(...args: string[]): string {
  console.log(`\n$ detml ${args.join(" ")}`);
  const out = execFileSync(process.execPath, ["dist/bin/detml.js", ...args], { encoding: "utf8" });
  process.stdout.write(out);
  return out;
}

/** A 28x28 digit as text, two shades. */
function digitArt(pixels: ArrayLike<number>): string {
  const rows: string[] = [];
  for (let y = 2; y < 26; y += 2) {
    let line = "";
    for (let x = 2; x < 26; x++) {
      const v = Math.max(pixels[y * 28 + x], pixels[(y + 1) * 28 + x]);
      line += v > 0.6 ? "#" : v > 0.2 ? "+" : " ";
    }
    rows.push(`    ${line}`);
  }
  return rows.join("\n");
}

function main(): void {
  mkdirSync(WORK, { recursive: true });
  const images = readNpy(readFileSync("fixtures/data/mnist_test_1000.npy"));
  const labels = readNpy(readFileSync("fixtures/data/mnist_test_1000_labels.npy")).data;
  const torchLogits = readNpy(readFileSync("fixtures/data/mnist_test_1000_logits.npy"));

  detml("convert", ONNX, "-o", MODEL);
  detml("inspect", MODEL);

  const picks = [3, 142, 777]; // a 0, a 1 and a 7 from the held-out set
  const sample = new Float32Array(picks.length * 784);
  picks.forEach((i, k) => sample.set(images.data.subarray(i * 784, (i + 1) * 784), k * 784));
  const input = join(WORK, "digits.npy");
  writeFileSync(input, writeNpy([picks.length, 1, 28, 28], sample));
  for (const i of picks) console.log(`\ndigit #${i} (label ${labels[i]}):\n${digitArt(images.data.subarray(i * 784, (i + 1) * 784))}`);
  detml("run", MODEL, "--input", input);
  detml("compile", MODEL, "-o", WASM);
  detml("run", WASM, "--input", input);
  writeFileSync(join(WORK, "digit.npy"), writeNpy([1, 1, 28, 28], sample.subarray(0, 784)));
  detml("trace", WASM, "--input", join(WORK, "digit.npy"));
  detml("dispute", WASM, "--input", join(WORK, "digit.npy"), "--cheat", "op:3");
  detml("dispute", WASM, "--input", join(WORK, "digit.npy"), "--cheat", "op:3", "--chain", "local");

  console.log("\nAll 1000 held-out digits:");
  const model = loadModel(MODEL);
  const { graph } = model;
  const wasm = new WasmRunner(loadWasm(readFileSync(WASM)));
  let correct = 0;
  let agree = 0;
  let identical = 0;
  let refMs = 0;
  let wasmMs = 0;
  for (let i = 0; i < 1000; i++) {
    const x = Tensor.fromFloat(images.data.subarray(i * 784, (i + 1) * 784), [1, 1, 28, 28], graph.frac);
    const inputs = new Map([[graph.inputs[0].name, x]]);
    let t = performance.now();
    const ref = run(graph, inputs).outputs.get(graph.outputs[0])!;
    refMs += performance.now() - t;
    t = performance.now();
    const fast = wasm.run(inputs).get(graph.outputs[0])!;
    wasmMs += performance.now() - t;
    identical += ref.equals(fast) ? 1 : 0;
    const [predicted] = argmaxRows(fast)!;
    const torch = torchLogits.data.subarray(i * 10, i * 10 + 10);
    correct += predicted === labels[i] ? 1 : 0;
    agree += predicted === torch.indexOf(Math.max(...torch)) ? 1 : 0;
  }
  const floatAccuracy = JSON.parse(readFileSync("fixtures/models/mnist_lenet.json", "utf8")).float_test_accuracy * 100;
  console.log(`  detml accuracy ${(correct / 10).toFixed(1)}% (PyTorch float: ${floatAccuracy.toFixed(1)}%)`);
  console.log(`  agreement with PyTorch's predictions: ${agree}/1000`);
  console.log(`  WASM output bit-identical to the reference executor: ${identical}/1000`);
  console.log(`  per digit: reference ${(refMs / 1000).toFixed(2)} ms, WASM ${(wasmMs / 1000).toFixed(3)} ms`);
}

main();
