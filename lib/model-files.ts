/**
 * File-level helpers shared by the CLI and library users: read a .detml file (with its model id),
 * turn .npy arrays into input tensors (quantizing real values at the input's frac, passing
 * integers through), split a leading batch dimension into single samples, and stack results.
 */
import { readFileSync } from "node:fs";
import { decodeGraph, modelId } from "./graph/codec.js";
import type { Graph, ValueInfo } from "./graph/ir.js";
import { InputError } from "./executor.js";
import { readNpy, type NpyArray } from "./tensor/npy.js";
import { sameShape, sizeOf } from "./tensor/shape.js";
import { Tensor } from "./tensor/tensor.js";

export interface LoadedModel {
  graph: Graph;
  bytes: Uint8Array;
  id: string;
  path: string;
}

/** Read a file, turning a missing file or directory into a one-line error naming the path. */
export function readFileOrFail(path: string, what = "file"): Uint8Array {
  try {
    return new Uint8Array(readFileSync(path));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const reason = code === "ENOENT" ? "no such file" : code === "EISDIR" ? "is a directory" : (e as Error).message;
    throw new InputError(`${path}: cannot read ${what}: ${reason}`);
  }
}

export function loadModel(path: string): LoadedModel {
  const bytes = readFileOrFail(path, ".detml model");
  return { graph: decodeGraph(bytes, path), bytes, id: modelId(bytes), path };
}

/**
 * Tensor for a graph input from a parsed .npy. A real-valued input (frac > 0) quantizes whatever
 * numbers it is given; an integer input (frac 0, e.g. token ids) takes integers only.
 */
export function inputFromNpy(npy: NpyArray, info: ValueInfo, source: string): Tensor {
  if (info.frac > 0) return Tensor.fromFloat(npy.data, npy.shape, info.frac);
  const bad = npy.data.findIndex((v: number) => !Number.isInteger(v));
  if (bad >= 0) {
    throw new InputError(`${source}: input '${info.name}' takes integers (e.g. token ids) but value ${npy.data[bad]} at index ${bad} is not one`);
  }
  return Tensor.fromInts(npy.data, npy.shape);
}

/**
 * Split a tensor into the samples the model takes. Same shape: one sample. Shape [N, ...rest]
 * against a model input [1, ...rest]: N samples. Anything else is an error naming both shapes.
 */
export function splitBatch(t: Tensor, info: ValueInfo, source: string): Tensor[] {
  if (sameShape(t.shape, info.shape)) return [t];
  const [n, ...rest] = t.shape;
  if (info.shape[0] === 1 && sameShape(rest, info.shape.slice(1))) {
    const step = sizeOf(rest);
    return Array.from({ length: n }, (_, i) => new Tensor(info.shape, t.data.slice(i * step, (i + 1) * step), t.frac));
  }
  throw new InputError(`${source}: input '${info.name}' has shape [${t.shape.join(",")}] but the model expects [${info.shape.join(",")}]` +
    (info.shape[0] === 1 ? ` (or [N,${info.shape.slice(1).join(",")}] for a batch of N)` : ""));
}

/**
 * Read the model's inputs from .npy files. `files` maps input names to paths; a single unnamed
 * file (key "") goes to the only input. Returns one input map per sample.
 */
export function readInputs(graph: Graph, files: Map<string, string>): Map<string, Tensor>[] {
  const named = new Map(files);
  if (named.has("")) {
    if (graph.inputs.length !== 1) {
      throw new InputError(`the model has ${graph.inputs.length} inputs (${graph.inputs.map((v) => v.name).join(", ")}): name each one with --input NAME=FILE`);
    }
    named.set(graph.inputs[0].name, named.get("")!);
    named.delete("");
  }
  for (const name of named.keys()) {
    if (!graph.inputs.some((v) => v.name === name)) throw new InputError(`the model has no input '${name}' (inputs: ${graph.inputs.map((v) => v.name).join(", ")})`);
  }
  const perInput = graph.inputs.map((info) => {
    const path = named.get(info.name);
    if (!path) throw new InputError(`missing input '${info.name}' (shape [${info.shape.join(",")}]): pass --input ${info.name}=FILE.npy`);
    return splitBatch(inputFromNpy(readNpy(readFileOrFail(path, ".npy input"), path), info, path), info, path);
  });
  const n = perInput[0].length;
  if (perInput.some((s) => s.length !== n)) throw new InputError("inputs have different batch sizes");
  return Array.from({ length: n }, (_, i) => new Map(graph.inputs.map((info, k) => [info.name, perInput[k][i]])));
}

/** Stack per-sample outputs on axis 0 (the inverse of splitBatch for outputs with a leading 1). */
export function stackSamples(samples: Tensor[]): Tensor {
  if (samples.length === 1) return samples[0];
  const first = samples[0];
  const shape = first.shape[0] === 1 ? [samples.length, ...first.shape.slice(1)] : [samples.length, ...first.shape];
  const data = new Int32Array(first.size * samples.length);
  samples.forEach((s, i) => data.set(s.data, i * first.size));
  return new Tensor(shape, data, first.frac);
}
