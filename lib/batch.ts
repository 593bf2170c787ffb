/**
 * Running a graph over several samples: each sample runs alone (the model's static batch is 1)
 * and every output is stacked on axis 0. Also the argmax along the last axis that `run` and
 * `verify` report for classifier and sequence outputs.
 */
import { run } from "./executor.js";
import type { Graph } from "./graph/ir.js";
import { stackSamples } from "./model-files.js";
import type { Tensor } from "./tensor/tensor.js";

/** Runs one sample on some engine (the reference executor, compiled WASM...); outputs by name. */
export type SampleRunner = (sample: Map<string, Tensor>) => Map<string, Tensor>;

/** Run every sample (with the reference executor unless `runSample` is given) and stack each output over the samples. */
export function runBatch(graph: Graph, samples: Map<string, Tensor>[], runSample: SampleRunner = (s) => run(graph, s).outputs): Map<string, Tensor> {
  const results = samples.map(runSample);
  return new Map(graph.outputs.map((name) => [name, stackSamples(results.map((r) => r.get(name)!))]));
}

/**
 * Index of the largest value along the last axis at every position, for classifier-like and
 * sequence outputs: [C], [N, C] and [N, T, C] (a language model's logits) with C > 1; undefined
 * for other shapes. Takes a Tensor (integers) or a float oracle's values alike: the same order.
 */
export function argmaxRows(t: { shape: readonly number[]; data: ArrayLike<number> }): number[] | undefined {
  const rank = t.shape.length;
  const c = t.shape[rank - 1];
  if (rank < 1 || rank > 3 || !(c > 1)) return undefined;
  const rows = t.data.length / c;
  return Array.from({ length: rows }, (_, r) => {
    let best = 0;
    for (let j = 1; j < c; j++) if (t.data[r * c + j] > t.data[r * c + best]) best = j;
    return best;
  });
}
