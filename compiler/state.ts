/**
 * State tensors (docs/abi.md, "State"): pairs INPUT=OUTPUT of a graph where the output of one run
 * is the input of the next, as a language model's key/value cache (`past=present`). The compiled
 * module keeps such an input in a buffer of its own memory that `load_inputs` does not fill (zero
 * in the initial memory) and `store_outputs` copies the output into at the end of the run, so
 * the state never goes through the I/O byte streams. This file parses the pairs as the CLI writes
 * them and checks them against the graph: the names, no name twice, the same shape and frac on
 * both sides, and no output that is another pair's input (the copies at the end would then
 * depend on their order). Every refusal is one line naming the pair.
 */
import type { Graph } from "../lib/graph/ir.js";
import type { TensorType } from "../lib/ops/op.js";

export interface StatePair {
  /** The graph input that holds the state during a run. */
  input: string;
  /** The graph output whose value becomes that input for the next run. */
  output: string;
}

/** Pairs from `INPUT=OUTPUT` strings (`--state past=present`, repeatable). */
export function parseStatePairs(specs: readonly string[]): StatePair[] {
  return specs.map((spec) => {
    const m = /^([^=]+)=([^=]+)$/.exec(spec);
    if (!m) throw new StateError(`--state ${JSON.stringify(spec)}: expected INPUT=OUTPUT, e.g. past=present`);
    return { input: m[1], output: m[2] };
  });
}

/** A state pair the compiler refuses (compile.ts prefixes the model's name). */
export class StateError extends Error {
  override name = "StateError";
}

const shapeText = (t: TensorType) => `[${t.shape.join(", ")}] at frac ${t.frac}`;

/**
 * Refuse pairs the compiler cannot keep in memory (a StateError). `types`: every value's shape
 * and frac; `rootOf`: the value a view reads in the end (itself for any other value).
 */
export function checkStatePairs(graph: Graph, types: ReadonlyMap<string, TensorType>, pairs: readonly StatePair[], rootOf: (v: string) => string): void {
  const inputs = new Set(pairs.map((p) => p.input));
  const seen = { input: new Set<string>(), output: new Set<string>() };
  for (const p of pairs) {
    const what = `state ${p.input}=${p.output}`;
    if (!graph.inputs.some((i) => i.name === p.input)) throw new StateError(`${what}: the model has no input '${p.input}' (inputs: ${graph.inputs.map((i) => i.name).join(", ")})`);
    if (!graph.outputs.includes(p.output)) throw new StateError(`${what}: the model has no output '${p.output}' (outputs: ${graph.outputs.join(", ")})`);
    if (seen.input.has(p.input)) throw new StateError(`${what}: input '${p.input}' is in two state pairs`);
    if (seen.output.has(p.output)) throw new StateError(`${what}: output '${p.output}' is in two state pairs`);
    seen.input.add(p.input);
    seen.output.add(p.output);
    const a = types.get(p.input)!;
    const b = types.get(p.output)!;
    if (a.shape.length !== b.shape.length || a.shape.some((d, i) => d !== b.shape[i]) || a.frac !== b.frac) {
      throw new StateError(`${what}: input '${p.input}' is ${shapeText(a)} but output '${p.output}' is ${shapeText(b)}; a state pair needs the same shape and frac`);
    }
    const root = rootOf(p.output);
    if (root !== p.input && inputs.has(root)) {
      throw new StateError(`${what}: output '${p.output}' is the state input '${root}' of another pair, which the end of the run overwrites; copy it through an op first`);
    }
  }
}
