/**
 * Inputs for `detml verify`: each sample is held twice, as the real values the float oracle gets
 * and as the fixed-point tensors detml gets (quantized at the input's frac; integer inputs kept).
 * Samples come from .npy files (a leading batch N against a model input [1, ...] gives N samples)
 * or from a seeded generator: normal(0, 1) reals, and for integer inputs uniform integers in a
 * range that is given, or read off the graph when the input only indexes a Gather.
 */
import { inferTypes } from "../graph/validate.js";
import type { Graph, ValueInfo } from "../graph/ir.js";
import { InputError } from "../inputs.js";
import { assignInputFiles, inputFromNpy, readFileOrFail, splitBatch } from "../model-files.js";
import { readNpy, type NpyArray } from "../tensor/npy.js";
import { sizeOf } from "../tensor/shape.js";
import { Tensor } from "../tensor/tensor.js";
import type { FloatTensor } from "./compare.js";
import type { OracleValue } from "./oracle.js";

export interface Sample {
  /** Real values by input name, for the float oracle. */
  float: Map<string, FloatTensor>;
  /** The same values as detml input tensors. */
  fixed: Map<string, Tensor>;
}

/** Inclusive integer range for random integer inputs. */
export interface IntRange {
  lo: number;
  hi: number;
}

/** A .npy file given for a model input. */
export interface NpyInput {
  path: string;
  npy: NpyArray;
}

/**
 * Match `--input` files to the model's input names: NAME=FILE entries by name, a single bare
 * FILE (key "") to the only input. Reads and parses each file.
 */
export function readNpyInputs(inputNames: readonly string[], files: Map<string, string>): Map<string, NpyInput> {
  const paths = assignInputFiles(inputNames, files, (name) => `missing input '${name}': pass --input ${name}=FILE.npy (or --random N for all inputs)`);
  return new Map(inputNames.map((name) => {
    const path = paths.get(name)!;
    return [name, { path, npy: readNpy(readFileOrFail(path, ".npy input"), path) }];
  }));
}

/**
 * Static shapes for model inputs with symbolic dimensions, read off the given arrays: a symbolic
 * leading dimension becomes 1 (samples run one by one), other symbolic dimensions take the
 * array's size. Inputs with fully static shapes, or already in `given`, are left out.
 */
export function shapesFromArrays(inputs: readonly OracleValue[], arrays: Map<string, NpyInput>, given: Record<string, number[]> = {}): Record<string, number[]> {
  const shapes: Record<string, number[]> = {};
  for (const info of inputs) {
    const arr = arrays.get(info.name);
    if (!arr || info.name in given || info.shape.every((d) => typeof d === "number")) continue;
    const shape = arr.npy.shape;
    if (shape.length !== info.shape.length) {
      throw new InputError(`${arr.path}: input '${info.name}' has shape [${shape.join(",")}] but the model expects rank ${info.shape.length} [${info.shape.join(",")}]`);
    }
    shapes[info.name] = info.shape.map((d, i) => (typeof d === "number" ? d : i === 0 ? 1 : shape[i]));
  }
  return shapes;
}

/** Samples from .npy arrays, checked against the converted graph's static input shapes. */
export function samplesFromArrays(graph: Graph, arrays: Map<string, NpyInput>): Sample[] {
  const perInput = graph.inputs.map((info) => {
    const { path, npy } = arrays.get(info.name) ?? missing(info);
    const fixed = splitBatch(inputFromNpy(npy, info, path), info, path);
    const values = Float64Array.from(npy.data as ArrayLike<number | bigint>, Number);
    const step = sizeOf(info.shape);
    return fixed.map((t, i) => ({ fixed: t, float: { shape: [...info.shape], data: values.slice(i * step, (i + 1) * step) } }));
  });
  const n = perInput[0]?.length ?? 1;
  if (perInput.some((s) => s.length !== n)) {
    throw new InputError(`inputs have different batch sizes (${perInput.map((s, k) => `${graph.inputs[k].name}: ${s.length}`).join(", ")})`);
  }
  return Array.from({ length: n }, (_, i) => ({
    float: new Map(graph.inputs.map((info, k) => [info.name, perInput[k][i].float])),
    fixed: new Map(graph.inputs.map((info, k) => [info.name, perInput[k][i].fixed])),
  }));
}

function missing(info: ValueInfo): never {
  throw new InputError(`missing input '${info.name}' (shape [${info.shape.join(",")}])`);
}

/** mulberry32: a small seeded generator, so `--random N --seed S` is reproducible everywhere. */
export class SeededRandom {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** Standard normal (Box-Muller). */
  normal(): number {
    const u = 1 - this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.next());
  }
  /** Integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
}

/**
 * The valid range of an integer input when the graph says it: every use is as Gather indices,
 * so the range is 0 .. (smallest gathered axis) - 1. Otherwise undefined.
 */
export function inferIntRange(graph: Graph, name: string): IntRange | undefined {
  const uses = graph.nodes.flatMap((node) => node.inputs.flatMap((input, slot) => (input === name ? [{ node, slot }] : [])));
  if (uses.length === 0 || uses.some((u) => u.node.op !== "Gather" || u.slot !== 1)) return undefined;
  const types = inferTypes(graph);
  const sizes = uses.map(({ node }) => {
    const dataShape = types.get(node.inputs[0])!.shape;
    const axis = Number(node.attrs.axis ?? 0);
    return dataShape[axis < 0 ? axis + dataShape.length : axis];
  });
  return { lo: 0, hi: Math.min(...sizes) - 1 };
}

/**
 * `count` seeded random samples for the graph's inputs. Real inputs: normal(0, 1). Integer
 * inputs (frac 0): uniform in `intRanges[name]`, else in the range read off the graph, else
 * 0..1 for booleans; otherwise an error asking for a range or a file.
 */
export function randomSamples(graph: Graph, count: number, seed: number, options: { intRanges?: Record<string, IntRange>; dtypes?: Record<string, string> } = {}): Sample[] {
  const rng = new SeededRandom(seed);
  const ranges = new Map(graph.inputs.filter((info) => info.frac === 0).map((info) => {
    const range = options.intRanges?.[info.name] ?? inferIntRange(graph, info.name) ??
      (options.dtypes?.[info.name] === "bool" ? { lo: 0, hi: 1 } : undefined);
    if (!range) {
      throw new InputError(`input '${info.name}' takes integers whose valid range is unknown: pass --int-range ${info.name}=LO:HI or --input ${info.name}=FILE.npy`);
    }
    return [info.name, range];
  }));
  return Array.from({ length: count }, () => {
    const sample: Sample = { float: new Map(), fixed: new Map() };
    for (const info of graph.inputs) {
      const range = ranges.get(info.name);
      const data = Float64Array.from({ length: sizeOf(info.shape) }, () => (range ? rng.int(range.lo, range.hi) : rng.normal()));
      sample.float.set(info.name, { shape: [...info.shape], data });
      sample.fixed.set(info.name, range ? Tensor.fromInts(data, info.shape) : Tensor.fromFloat(data, info.shape, info.frac));
    }
    return sample;
  });
}
