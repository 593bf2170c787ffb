/**
 * GAN art, measured (docs/evm.md, "GAN art"): images of the trained class-conditional generator
 * (fixtures/models/gan_generator.onnx), for the inputs GanArt derives from seeds 1..100 and from
 * the disjoint seeds 101..1100 (latent, then the one-hot of the digit seed % 10), run by the
 * reference executor and turned into the contract's 8-bit pixels, then classified by the LeNet of
 * fixtures/models/mnist_lenet.onnx (reference executor, pixels / 255). Issue #14's target is 80
 * of 100 with a class probability of 0.9 or more; the floors below are the committed generator's
 * figures (FLOOR_FIRST, FLOOR_DISJOINT: regression floors, raise them with a better generator).
 * It also counts the confident images classified as the digit the seed asked for. Then
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

/** What the committed generator reaches on seeds 1..100 and on 101..1100 (confident images). */
const FLOOR_FIRST = 92;
const FLOOR_DISJOINT = 935;

/**
 * How many of the images for seeds from..to the LeNet classifies with probability >= 0.9, how
 * many of those as the seed's digit (seed % 10, the class GanArt asks for), and the classes drawn.
 */
function confidentDigits(generator: Graph, lenet: Graph, from: bigint, to: bigint): { confident: number; asked: number; classes: number[] } {
  const [input] = lenet.inputs;
  const shape = input.shape.map((d) => (d > 0 ? d : 1));
  let confident = 0;
  let asked = 0;
  const classes = new Array<number>(10).fill(0);
  for (let seed = from; seed <= to; seed++) {
    const pixels = referenceImage(generator, seed);
    const x = Tensor.fromFloat(Array.from(pixels, (p) => p / 255), shape, input.frac);
    const logits = Array.from(run(lenet, new Map([[input.name, x]])).outputs.get(lenet.outputs[0])!.toFloat());
    const top = Math.max(...logits);
    const probability = 1 / logits.reduce((s, l) => s + Math.exp(l - top), 0);
    if (probability >= 0.9) confident++;
    if (probability >= 0.9 && logits.indexOf(top) === Number(seed % 10n)) asked++;
    classes[logits.indexOf(top)]++;
  }
  return { confident, asked, classes };
}

it("classifies generated digits with confidence: seeds 1..100 and the disjoint 101..1100", () => {
  const generator = convertOnnxFile(GENERATOR_FILE).graph;
  const lenet = convertOnnxFile("fixtures/models/mnist_lenet.onnx").graph;
  const first = confidentDigits(generator, lenet, 1n, 100n);
  console.log(`seeds 1..100: ${first.confident}/100 generated digits classified with probability >= 0.9 (${first.asked} as the seed's digit); classes ${first.classes.join(" ")}`);
  const disjoint = confidentDigits(generator, lenet, 101n, 1100n);
  console.log(`seeds 101..1100: ${disjoint.confident}/1000 (${disjoint.asked} as the seed's digit); classes ${disjoint.classes.join(" ")}`);
  expect(first.confident).toBeGreaterThanOrEqual(FLOOR_FIRST);
  expect(disjoint.confident).toBeGreaterThanOrEqual(FLOOR_DISJOINT);
  // The class input works: a confident image is nearly always the digit asked for.
  expect(disjoint.asked).toBeGreaterThanOrEqual(0.95 * disjoint.confident);
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
