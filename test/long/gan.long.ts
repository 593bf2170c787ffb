/**
 * GAN art, measured (docs/evm.md, "GAN art"): images of the trained generator
 * (fixtures/models/gan_generator.onnx), for the latents GanArt derives from seeds 1..100 and from
 * the disjoint seeds 101..1100, run by the reference executor and turned into the contract's 8-bit
 * pixels, then classified by the LeNet of fixtures/models/mnist_lenet.onnx (reference executor,
 * pixels / 255). Issue #14's target is 80 of 100 with a class probability of 0.9 or more; the
 * generator committed today gets 72 of seeds 1..100 and 761 of the 1,000 disjoint seeds (a rate
 * of 76%, which 100 seeds measure only to about 4 points), so this asserts those figures as
 * regression floors and prints the counts: raise them with a generator that does better. Then
 * 10 of the seeds minted on the embedded chain through the precompiles: each tokenURI image
 * equals the reference's. Prints the figures. Run with `npm run test:long`, not in the default suite.
 */
import { expect, it } from "vitest";
import { connectChain } from "../../chain/connect.js";
import { convertOnnxFile } from "../../converter/onnx/index.js";
import { run } from "../../lib/executor.js";
import type { Graph } from "../../lib/graph/ir.js";
import { Tensor } from "../../lib/tensor/tensor.js";
import { decodeTokenImage, deployGanArt, GENERATOR_FILE, mint, referenceImage } from "../../examples/gan-art.js";

/** How many of the images for seeds from..to the LeNet classifies with probability >= 0.9, and the classes drawn. */
function confidentDigits(generator: Graph, lenet: Graph, from: bigint, to: bigint): { confident: number; classes: number[] } {
  const [input] = lenet.inputs;
  const shape = input.shape.map((d) => (d > 0 ? d : 1));
  let confident = 0;
  const classes = new Array<number>(10).fill(0);
  for (let seed = from; seed <= to; seed++) {
    const pixels = referenceImage(generator, seed);
    const x = Tensor.fromFloat(Array.from(pixels, (p) => p / 255), shape, input.frac);
    const logits = Array.from(run(lenet, new Map([[input.name, x]])).outputs.get(lenet.outputs[0])!.toFloat());
    const top = Math.max(...logits);
    const probability = 1 / logits.reduce((s, l) => s + Math.exp(l - top), 0);
    if (probability >= 0.9) confident++;
    classes[logits.indexOf(top)]++;
  }
  return { confident, classes };
}

it("classifies generated digits with confidence: seeds 1..100 and the disjoint 101..1100", () => {
  const generator = convertOnnxFile(GENERATOR_FILE).graph;
  const lenet = convertOnnxFile("fixtures/models/mnist_lenet.onnx").graph;
  const first = confidentDigits(generator, lenet, 1n, 100n);
  console.log(`seeds 1..100: ${first.confident}/100 generated digits classified with probability >= 0.9; classes ${first.classes.join(" ")}`);
  const disjoint = confidentDigits(generator, lenet, 101n, 1100n);
  console.log(`seeds 101..1100: ${disjoint.confident}/1000; classes ${disjoint.classes.join(" ")}`);
  expect(first.confident).toBeGreaterThanOrEqual(72);
  expect(disjoint.confident).toBeGreaterThanOrEqual(761);
  // Every digit is drawn (the spread term of the training script).
  expect(Math.min(...disjoint.classes)).toBeGreaterThan(0);
});

it("mints 10 tokens whose tokenURI images are the reference's", async () => {
  const generator = convertOnnxFile(GENERATOR_FILE).graph;
  const conn = await connectChain("local", { precompiles: true });
  try {
    const art = await deployGanArt(conn, generator, "evm-precompiles");
    const gas: bigint[] = [];
    for (let seed = 1n; seed <= 10n; seed++) {
      const minted = await mint(conn, art, seed);
      gas.push(minted.gas);
      expect(Buffer.from(decodeTokenImage(minted.uri, art.side)).equals(Buffer.from(referenceImage(generator, seed)))).toBe(true);
    }
    console.log(`minted 10 tokens, gas per mint ${gas.map(String).join(", ")}`);
  } finally {
    await conn.close();
  }
});
