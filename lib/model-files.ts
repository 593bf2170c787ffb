/**
 * File-level helpers shared by the CLI and library users: read a .detml file (with its model id),
 * turn .npy arrays into input tensors (quantizing real values at the input's frac, passing
 * integers through), split a leading batch dimension into single samples, and stack results.
 */
import { readFileSync, statSync } from "node:fs";
import { decodeGraph, sourceHash } from "./graph/codec.js";
import type { Graph } from "./graph/ir.js";
import { InputError, quantizeInput, type InputSlot } from "./inputs.js";
import { readNpy, type NpyArray } from "./tensor/npy.js";
import { sameShape, sizeOf } from "./tensor/shape.js";
import { Tensor } from "./tensor/tensor.js";

export interface LoadedModel {
  graph: Graph;
  bytes: Uint8Array;
  /** SHA-256 of the file (lib/graph/codec.ts sourceHash). */
  sourceHash: string;
  path: string;
}

/**
 * Read a file, turning a missing file, a directory or anything that is not a regular file (a
 * device such as /dev/zero, a FIFO) into a one-line error naming the path, before reading it.
 */
export function readFileOrFail(path: string, what = "file"): Uint8Array {
  try {
    const kind = statSync(path);
    if (!kind.isFile() && !kind.isDirectory()) throw new Error("not a regular file");
    return new Uint8Array(readFileSync(path));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const reason = code === "ENOENT" ? "no such file" : code === "EISDIR" ? "is a directory" : (e as Error).message;
    throw new InputError(`${path}: cannot read ${what}: ${reason}`);
  }
}

export function loadModel(path: string): LoadedModel {
  const bytes = readFileOrFail(path, ".detml model");
  if (bytes[0] === 0 && bytes[1] === 0x61 && bytes[2] === 0x73 && bytes[3] === 0x6d) {
    throw new InputError(`${path}: a compiled WebAssembly module, not a .detml graph (this command takes the .detml it was compiled from; trace, prove and run take the .wasm)`);
  }
  return { graph: decodeGraph(bytes, path), bytes, sourceHash: sourceHash(bytes), path };
}

/**
 * Tensor for a graph input from a parsed .npy. A real-valued input (frac > 0) quantizes whatever
 * numbers it is given; an integer input (frac 0, e.g. token ids) takes integers only.
 */
export function inputFromNpy(npy: NpyArray, info: InputSlot, source: string): Tensor {
  if (info.frac > 0) return quantizeInput(npy.data, npy.shape, info, source); // NaN/Inf refused, saturation warned
  const bad = npy.data.findIndex((v: number) => !Number.isInteger(v));
  if (bad >= 0) {
    throw new InputError(`${source}: input '${info.name}' takes integers (e.g. token ids) but value ${npy.data[bad]} at index ${bad} is not one`);
  }
  return Tensor.fromInts(npy.data, npy.shape);
}

/** Read a .npy file as the tensor of a model input (see inputFromNpy; a leading batch is kept). */
export function readNpyInput(path: string, info: InputSlot): Tensor {
  return inputFromNpy(readNpy(readFileOrFail(path, ".npy input"), path), info, path);
}

/** What batching needs of a model input: its name and shape (a graph's ValueInfo, a manifest's slot). */
export type InputShape = Pick<InputSlot, "name" | "shape">;

/**
 * How many samples an array of shape `shape` holds for a model input. The input's own shape: one
 * sample. Shape [N, ...rest] against an input [1, ...rest]: N samples, N >= 1 (the model runs one
 * sample at a time, so an empty batch has nothing to run and no output shape to report). Anything
 * else, a 0-d array or an empty batch included, is an InputError naming the input, the array's
 * shape and the shapes the model takes.
 */
export function batchSize(shape: readonly number[], info: InputShape, source: string): number {
  if (sameShape(shape, info.shape)) return 1;
  const batched = info.shape[0] === 1 && shape.length === info.shape.length && sameShape(shape.slice(1), info.shape.slice(1));
  if (batched && shape[0] >= 1) return shape[0];
  const expected = `[${info.shape.join(",")}]${info.shape[0] === 1 ? ` (or [${["N", ...info.shape.slice(1)].join(",")}] for a batch of N${batched ? " >= 1" : ""})` : ""}`;
  const what = batched ? "an empty batch" : shape.length === 0 ? "a 0-d array" : undefined;
  throw new InputError(`${source}: input '${info.name}' has shape [${shape.join(",")}]${what ? `, ${what},` : ""} but the model expects ${expected}`);
}

/** Sample `index` of a tensor holding batchSize(t.shape, info) samples (an InputError when out of range). */
export function sampleAt(t: Tensor, info: InputShape, index: number, source: string): Tensor {
  const n = batchSize(t.shape, info, source);
  if (!Number.isInteger(index) || index < 0 || index >= n) throw new InputError(`${source}: sample ${index} is outside the batch of ${n} (0..${n - 1})`);
  if (sameShape(t.shape, info.shape)) return t;
  const step = sizeOf(info.shape);
  return new Tensor(info.shape, t.data.slice(index * step, (index + 1) * step), t.frac);
}

/** Split a tensor into the samples the model takes (see batchSize). */
export function splitBatch(t: Tensor, info: InputShape, source: string): Tensor[] {
  return Array.from({ length: batchSize(t.shape, info, source) }, (_, i) => sampleAt(t, info, i, source));
}

/**
 * Match input files to the model's input names: NAME=FILE entries by name, a single bare FILE
 * (key "") to the only input. Every name must be an input; an input without a file gets the
 * error `missing(name)`.
 */
export function assignInputFiles(inputNames: readonly string[], files: Map<string, string>, missing: (name: string) => string): Map<string, string> {
  const named = new Map(files);
  if (named.has("")) {
    if (inputNames.length !== 1) {
      throw new InputError(`the model has ${inputNames.length} inputs (${inputNames.join(", ")}): name each one with --input NAME=FILE`);
    }
    named.set(inputNames[0], named.get("")!);
    named.delete("");
  }
  for (const name of named.keys()) {
    if (!inputNames.includes(name)) throw new InputError(`the model has no input '${name}' (inputs: ${inputNames.join(", ")})`);
  }
  for (const name of inputNames) if (!named.has(name)) throw new InputError(missing(name));
  return named;
}

/**
 * Read a model's inputs (a graph's, or a compiled module's manifest's) from .npy files. `files`
 * maps input names to paths; a single unnamed file (key "") goes to the only input. Returns one
 * input map per sample.
 */
export function readInputs(model: { inputs: readonly InputSlot[] }, files: Map<string, string>): Map<string, Tensor>[] {
  const paths = assignInputFiles(model.inputs.map((v) => v.name), files, (name) => {
    const info = model.inputs.find((v) => v.name === name)!;
    return `missing input '${name}' (shape [${info.shape.join(",")}]): pass --input ${name}=FILE.npy`;
  });
  const perInput = model.inputs.map((info) => {
    const path = paths.get(info.name)!;
    return splitBatch(readNpyInput(path, info), info, path);
  });
  const n = perInput[0]?.length ?? 1; // a model without inputs runs once
  if (perInput.some((s) => s.length !== n)) throw new InputError(`inputs have different batch sizes (${perInput.map((s, k) => `${model.inputs[k].name}: ${s.length}`).join(", ")})`);
  return Array.from({ length: n }, (_, i) => new Map(model.inputs.map((info, k) => [info.name, perInput[k][i]])));
}

/** Stack per-sample outputs on axis 0 (the inverse of splitBatch for outputs with a leading 1). */
export function stackSamples(samples: Tensor[]): Tensor {
  if (samples.length === 0) throw new InputError("no samples to stack: an empty batch has no output shape");
  if (samples.length === 1) return samples[0];
  const first = samples[0];
  const shape = first.shape[0] === 1 ? [samples.length, ...first.shape.slice(1)] : [samples.length, ...first.shape];
  const data = new Int32Array(first.size * samples.length);
  samples.forEach((s, i) => data.set(s.data, i * first.size));
  return new Tensor(shape, data, first.frac);
}
