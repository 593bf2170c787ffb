/**
 * Shared by the EVM-target tests: a fixture converted from fixtures/models/*.onnx, inputs drawn
 * from a seeded generator (plus edge values that exercise saturation), and the check that the
 * EVM contracts return the reference executor's exact integers for a sample.
 */
import { expect } from "vitest";
import type { ChainConnection } from "../../chain/connect.js";
import { deployEvmModel, inferEvm } from "../../chain/evm-model.js";
import { compileEvm, type EvmOptions, flattenInputs, splitOutputs } from "../../compiler/evm/index.js";
import { convertOnnxFile } from "../../converter/onnx/index.js";
import { run } from "../../lib/executor.js";
import type { Graph } from "../../lib/graph/ir.js";
import { Tensor } from "../../lib/tensor/tensor.js";
import { Rng } from "../helpers/random.js";

export function fixtureGraph(name: string): Graph {
  return convertOnnxFile(`fixtures/models/${name}.onnx`).graph;
}

/** Inputs of the graph: normal values of about `scale` (real units) at each input's frac. */
export function randomInputs(graph: Graph, seed: number, scale = 1): Map<string, Tensor> {
  const rng = new Rng(seed);
  return new Map(graph.inputs.map((v) => {
    const n = v.shape.reduce((a, b) => a * b, 1);
    return [v.name, new Tensor(v.shape, Int32Array.from({ length: n }, () => Math.round(rng.normal() * scale * 2 ** v.frac)), v.frac)];
  }));
}

/** Compile and deploy the graph, run each sample through `infer` and expect the reference's integers. */
export async function expectReferenceOnChain(conn: ChainConnection, graph: Graph, samples: Map<string, Tensor>[], options: EvmOptions = {}): Promise<void> {
  const artifact = compileEvm(graph, options);
  const model = await deployEvmModel(conn, artifact);
  for (const sample of samples) {
    const outputs = splitOutputs(artifact, (await inferEvm(conn, model, flattenInputs(artifact, sample))).output);
    const expected = run(graph, sample).outputs;
    for (const [name, t] of expected) {
      const got = outputs.get(name)!;
      expect(got.shape).toEqual(t.shape);
      expect(got.frac).toBe(t.frac);
      expect([...got.data]).toEqual([...t.data]);
    }
  }
}
