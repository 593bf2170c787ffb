/**
 * Prices the DNN-operator precompiles (chain/precompiles.ts) from measured time, each timing
 * repeated until it has run for 1.5 s. On the embedded chain (its ethereumjs) eth_calls to the
 * bn254 pairing precompile 0x08 with two pairs (113,000 gas under EIP-1108), minus the time of an
 * eth_call to the identity precompile 0x04 with one byte (the per-call overhead of a
 * transaction), give this machine's gas per microsecond. The DNN precompiles are timed as
 * functions (`runPrecompile`: decoding, kernel, encoding; their inputs are megabytes, too large
 * for calldata): a large Gemm gives the time per multiply-accumulate, a large Relu the time per
 * element, a large Tanh the extra time per transcendental element. Each time times the gas per microsecond
 * is the measured price, printed next to the schedule in PRECOMPILE_GAS (which must be at least
 * the measured price). Writes bench/precompile-pricing-results.json.
 *
 *   npx tsc -p bench && node dist/bench/precompile-pricing.js
 */
import { writeFileSync } from "node:fs";
import { connectChain } from "../chain/connect.js";
import { PRECOMPILE_GAS, runPrecompile } from "../chain/precompiles.js";
import { encodeOpCall } from "../compiler/evm/precompiles-encoding.js";
import { Tensor } from "../lib/tensor/tensor.js";
import { SeededRandom } from "../lib/verify/inputs.js";

type Hex = `0x${string}`;
const word = (v: bigint): string => v.toString(16).padStart(64, "0");

/** The generators of G1 and G2 of bn254 (EIP-197 encoding: G2 coordinates imaginary part first). */
const G1 = [1n, 2n];
const G2 = [
  11559732032986387107991004021392285783925812861821192530917403151452391805634n,
  10857046999023057135944570762232829481370756359578518086990519993285655852781n,
  4082367875863433681332203403145435568316851327593401208105741076214120093531n,
  8495653923123431417604973247489272438418190587263600148770280649306958101930n,
];
const PAIRING_GAS = 45_000 + 34_000 * 2;

function random(shape: number[], seed: number, scale: number, frac = 16): Tensor {
  const rng = new SeededRandom(seed);
  return Tensor.fromFloat(Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.normal() * scale), shape, frac);
}

/** Microseconds per run of `body`, over at least 1.5 s after a warm-up. */
async function time(body: () => unknown): Promise<number> {
  for (let i = 0; i < 3; i++) await body();
  let runs = 0;
  const started = performance.now();
  while (performance.now() - started < 1500) {
    await body();
    runs++;
  }
  return ((performance.now() - started) * 1000) / runs;
}

async function main(): Promise<void> {
  const conn = await connectChain("local", { precompiles: true });
  const ethCall = (to: Hex, data: Hex) => () => conn.publicClient.call({ to, data, gas: 1n << 24n });
  const overhead = await time(ethCall("0x0000000000000000000000000000000000000004", "0x00"));
  const pairingData = `0x${[...G1, ...G2, ...G1, ...G2].map(word).join("")}` as Hex;
  const pairingUs = (await time(ethCall("0x0000000000000000000000000000000000000008", pairingData))) - overhead;
  await conn.close();
  const gasPerUs = PAIRING_GAS / pairingUs;

  const [m, k, n] = [64, 512, 256];
  const gemmCall = encodeOpCall("Gemm", [random([m, k], 1, 1), random([k, n], 2, 0.05, 20)], 16);
  const gemmUs = await time(() => runPrecompile("Gemm", gemmCall));
  const elements = 200_000;
  const reluCall = encodeOpCall("Relu", [random([elements], 3, 1)], 16);
  const reluUs = await time(() => runPrecompile("Relu", reluCall));
  const tanhCall = encodeOpCall("Tanh", [random([elements], 4, 2)], 16);
  const tanhUs = await time(() => runPrecompile("Tanh", tanhCall));

  const gemmElements = m * k + k * n + m * n;
  const perElementUs = reluUs / (2 * elements);
  const measured = {
    perKiloElement: 1000 * perElementUs * gasPerUs,
    perKiloMac: (1000 * (gemmUs - gemmElements * perElementUs) / (m * k * n)) * gasPerUs,
    perKiloTranscendental: (1000 * (tanhUs - reluUs) / elements) * gasPerUs,
  };
  const results = {
    machine: `${process.platform} ${process.arch}, node ${process.version}`,
    overhead_us: Number(overhead.toFixed(1)),
    pairing: { gas: PAIRING_GAS, us: Number(pairingUs.toFixed(1)), gas_per_us: Number(gasPerUs.toFixed(2)) },
    gemm: { macs: m * k * n, us: Number(gemmUs.toFixed(1)) },
    relu: { elements, us: Number(reluUs.toFixed(1)) },
    tanh: { elements, us: Number(tanhUs.toFixed(1)) },
    measured_gas: Object.fromEntries(Object.entries(measured).map(([key, v]) => [key, Number(v.toFixed(1))])),
    schedule: PRECOMPILE_GAS,
  };
  console.log(`bn254 pairing (2 pairs): ${pairingUs.toFixed(0)} us for ${PAIRING_GAS} gas = ${gasPerUs.toFixed(2)} gas/us (call overhead ${overhead.toFixed(0)} us subtracted)`);
  for (const [key, v] of Object.entries(measured)) {
    const schedule = PRECOMPILE_GAS[key as keyof typeof measured];
    console.log(`${key.padEnd(22)} measured ${v.toFixed(1).padStart(8)} gas   schedule ${String(schedule).padStart(6)}${schedule < v ? "   UNDERPRICED" : ""}`);
  }
  writeFileSync("bench/precompile-pricing-results.json", `${JSON.stringify(results, null, 2)}\n`);
}

await main();
