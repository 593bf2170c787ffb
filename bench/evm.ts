/**
 * Gas of models compiled to plain EVM contracts (compiler/evm, docs/evm.md) and, side by side,
 * to contracts calling the DNN-operator precompiles (`--target evm-precompiles`), on the
 * embedded chain (with its precompiles): an MNIST MLP 784-128-64-10 (seeded random weights,
 * He-scaled), the LeNet-5 of fixtures/models, the DCGAN generator of fixtures/models and the
 * trained GAN-art generator (fixtures/models/gan_generator.onnx; over one transaction's gas in
 * plain EVM, so precompiles only), each on a real input (an MNIST test digit for the two
 * classifiers, a seeded normal latent for the generators). Per model and route: multiply-accumulates,
 * model code and weight bytes, deployment gas, the gas of one inference transaction (21,000 base
 * and calldata included) and of its execution alone (that gas minus the transaction's intrinsic
 * cost), execution gas per MAC, and the targets of issue #14 (MLP under 5M, LeNet
 * under 16M: the 2^24 gas cap of one transaction). Each output is checked bit-identical to the
 * reference executor before its gas is reported. Prints a table, writes bench/evm-results.json.
 *
 *   npx tsc -p bench && node dist/bench/evm.js
 */
import { readFileSync, writeFileSync } from "node:fs";
import { connectChain } from "../chain/connect.js";
import { deployEvmModel, inferCalldata, inferEvm } from "../chain/evm-model.js";
import { compileEvm, flattenInputs, overGasCap, splitOutputs } from "../compiler/evm/index.js";
import { compileEvmPrecompiles } from "../compiler/evm/precompiles.js";
import { convertOnnxFile } from "../converter/onnx/index.js";
import { run } from "../lib/executor.js";
import { GraphBuilder } from "../lib/graph/builder.js";
import type { Graph } from "../lib/graph/ir.js";
import { readNpy } from "../lib/tensor/npy.js";
import { Tensor } from "../lib/tensor/tensor.js";
import { SeededRandom } from "../lib/verify/inputs.js";

const TARGETS: Record<string, number> = { mnist_mlp: 5_000_000, mnist_lenet: 16_000_000 };

/** The MNIST MLP of the issue: 784-128-64-10 with Relu, seeded He-scaled weights. */
function mnistMlp(): Graph {
  const rng = new SeededRandom(14);
  const g = new GraphBuilder();
  let x = g.input("input", [1, 784]);
  const sizes = [784, 128, 64, 10];
  for (let l = 0; l < 3; l++) {
    const [n, m] = [sizes[l], sizes[l + 1]];
    const w = g.constant(`w${l}`, Array.from({ length: n * m }, () => rng.normal() * Math.sqrt(2 / n)), [n, m]);
    const b = g.constant(`b${l}`, Array.from({ length: m }, () => rng.normal() * 0.05), [m]);
    x = g.op("Gemm", [x, w, b], {}, { name: `fc${l}` })[0];
    if (l < 2) x = g.op("Relu", [x])[0];
  }
  g.output(x);
  return g.build();
}

/** The first MNIST test digit (fixtures/data) at the graph input's shape and frac. */
function digit(graph: Graph): Map<string, Tensor> {
  const npy = readNpy(readFileSync("fixtures/data/mnist_test_1000.npy"));
  const [input] = graph.inputs;
  return new Map([[input.name, Tensor.fromFloat(Array.from(npy.data.slice(0, 784), Number), input.shape, input.frac)]]);
}

function latent(graph: Graph): Map<string, Tensor> {
  const rng = new SeededRandom(7);
  const [input] = graph.inputs;
  return new Map([[input.name, Tensor.fromFloat(Array.from({ length: input.shape.reduce((a, b) => a * b, 1) }, () => rng.normal()), input.shape, input.frac)]]);
}

/** Intrinsic gas of a call with this calldata: 21,000 plus 4 per zero byte and 16 per other byte. */
function intrinsicGas(data: string): number {
  let gas = 21_000;
  for (let i = 2; i < data.length; i += 2) gas += data.slice(i, i + 2) === "00" ? 4 : 16;
  return gas;
}

interface Row {
  model: string;
  route: "evm" | "evm-precompiles";
  macs: number;
  model_bytes: number;
  data_contracts: number;
  weight_bytes: number;
  memory_bytes: number;
  deploy_gas: number;
  gas_per_inference: number;
  execution_gas: number;
  gas_per_mac: number;
  target_gas: number | null;
  within_target: boolean | null;
  bit_identical: boolean;
}

async function main(): Promise<void> {
  const models: [string, Graph, (g: Graph) => Map<string, Tensor>][] = [
    ["mnist_mlp", mnistMlp(), digit],
    ["mnist_lenet", convertOnnxFile("fixtures/models/mnist_lenet.onnx").graph, digit],
    ["dcgan_generator", convertOnnxFile("fixtures/models/dcgan_generator.onnx").graph, latent],
    ["gan_generator", convertOnnxFile("fixtures/models/gan_generator.onnx").graph, latent],
  ];
  const conn = await connectChain("local", { precompiles: true });
  const rows: Row[] = [];
  try {
    for (const [name, graph, inputOf] of models) for (const route of ["evm", "evm-precompiles"] as const) {
      let artifact;
      try {
        artifact = route === "evm" ? compileEvm(graph) : compileEvmPrecompiles(graph);
      } catch (e) {
        // The plain target refuses a model whose code cannot fit one contract: report it, go on.
        console.log(`${name} (${route}): ${(e as Error).message}`);
        continue;
      }
      if (route === "evm" && overGasCap(artifact)) {
        console.log(`${name} (plain EVM): ${overGasCap(artifact)}`);
        continue;
      }
      const model = await deployEvmModel(conn, artifact);
      const input = inputOf(graph);
      const flat = flattenInputs(artifact, input);
      const { output, gas } = await inferEvm(conn, model, flat, { measureGas: true });
      const outputs = splitOutputs(artifact, output);
      const identical = [...run(graph, input).outputs].every(([out, t]) => outputs.get(out)!.equals(t));
      const execution = Number(gas) - intrinsicGas(inferCalldata(model.abi, flat));
      const target = route === "evm" ? TARGETS[name] ?? null : null;
      rows.push({
        model: name, route, macs: artifact.macs, model_bytes: artifact.model.runtimeBytes, data_contracts: artifact.data.length,
        weight_bytes: artifact.weightBytes, memory_bytes: artifact.memoryBytes, deploy_gas: Number(model.deployGas),
        gas_per_inference: Number(gas), execution_gas: execution, gas_per_mac: Number((execution / artifact.macs).toFixed(2)),
        target_gas: target, within_target: target === null ? null : Number(gas) < target, bit_identical: identical,
      });
    }
  } finally {
    await conn.close();
  }
  const header = ["model", "route", "MACs", "code B", "data", "weights B", "deploy gas", "gas/inference", "execution", "gas/MAC", "target", "identical"];
  const table = [header, ...rows.map((r) => [
    r.model, r.route, r.macs, r.model_bytes, r.data_contracts, r.weight_bytes, r.deploy_gas, r.gas_per_inference, r.execution_gas, r.gas_per_mac,
    r.target_gas === null ? "-" : `${r.within_target ? "under" : "OVER"} ${r.target_gas / 1e6}M`, r.bit_identical ? "yes" : "NO",
  ].map(String))];
  const widths = header.map((_, i) => Math.max(...table.map((row) => row[i].length)));
  for (const row of table) console.log(row.map((c, i) => c.padStart(widths[i])).join("  "));
  writeFileSync("bench/evm-results.json", `${JSON.stringify({ chain: "embedded (ethereumjs, Osaka, with the DNN-operator precompiles)", routes: "plain EVM (evm) and the precompiles (evm-precompiles)", models: rows }, null, 2)}\n`);
  console.log("wrote bench/evm-results.json");
  if (rows.some((r) => !r.bit_identical)) process.exitCode = 1;
}

await main();
