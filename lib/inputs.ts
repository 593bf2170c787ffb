/**
 * The one check of a model's named input tensors against its input slots (name, shape, frac):
 * every given name must be an input, every input must be given with exactly its shape, and each
 * tensor is brought to its slot's frac with the one rounding rule. The reference executor, the
 * fast path and the VM runner (through abi/ packInputs), `trace`/`prove`/`dispute` and the
 * benchmarks all take their inputs through it, so they accept and refuse the same inputs with the
 * same errors. A graph's ValueInfo and a compiled module's TensorSlot are both input slots.
 * `quantizeInput` is the one place real input values become fixed point: NaN and infinities are
 * an error (fixed point has no encoding for them), and values that saturate get a warning.
 */
import { I32_MAX, I32_MIN, quantize, rescale } from "./tensor/fixed.js";
import { sameShape } from "./tensor/shape.js";
import { Tensor } from "./tensor/tensor.js";

/** An input the user got wrong (a file, a name, a shape, a value): a one-line message naming it. */
export class InputError extends Error {
  override name = "InputError";
}

/** What the input path needs to know of a model input. */
export interface InputSlot {
  name: string;
  shape: readonly number[];
  /** Fractional bits the model takes; 0 is an integer input (token ids, indices). */
  frac: number;
}

/** Named input tensors, as a Map or a plain object. */
export type NamedTensors = Map<string, Tensor> | Record<string, Tensor>;

/** Check named inputs against the slots and bring each to its slot's frac; ordered like the slots. */
export function orderInputs(slots: readonly InputSlot[], inputs: NamedTensors): Tensor[] {
  const given = inputs instanceof Map ? inputs : new Map(Object.entries(inputs));
  for (const name of given.keys()) {
    if (!slots.some((s) => s.name === name)) throw new InputError(`the model has no input '${name}' (inputs: ${slots.map((s) => s.name).join(", ")})`);
  }
  return slots.map((s) => {
    const t = given.get(s.name);
    if (!t) throw new InputError(`missing input '${s.name}' (shape [${s.shape.join(",")}])`);
    if (!sameShape(t.shape, s.shape)) {
      throw new InputError(`input '${s.name}' has shape [${t.shape.join(",")}] but the model expects [${s.shape.join(",")}]`);
    }
    return t.frac === s.frac ? t : new Tensor(t.shape, t.data.map((x) => rescale(x, t.frac, s.frac)), s.frac);
  });
}

/** Where input warnings go (the CLI's stderr unless a caller collects them). */
export type WarningSink = (message: string) => void;

const toStderr: WarningSink = (message) => process.stderr.write(`warning: ${message}\n`);

/**
 * Real values of input `slot` (a float array, e.g. from a .npy) as a tensor at the slot's frac.
 * A NaN or infinite value is an InputError naming the input, the count and the first index;
 * values beyond the format's range (|x| >= 2^(31 - frac)) saturate with one warning giving the
 * count and the largest magnitude.
 */
export function quantizeInput(values: ArrayLike<number>, shape: readonly number[], slot: Pick<InputSlot, "name" | "frac">, source: string, warn: WarningSink = toStderr): Tensor {
  let nonFinite = 0;
  let first = -1;
  let saturated = 0;
  let largest = 0;
  const data = new Int32Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const x = Number(values[i]);
    if (!Number.isFinite(x)) {
      nonFinite++;
      if (first < 0) first = i;
      continue;
    }
    const q = quantize(x, slot.frac);
    data[i] = q;
    // quantize rounds half up, then clamps: these are the values the clamp changed.
    const scaled = x * 2 ** slot.frac;
    if (scaled >= I32_MAX + 0.5 || scaled < I32_MIN - 0.5) {
      saturated++;
      largest = Math.max(largest, Math.abs(x));
    }
  }
  if (nonFinite > 0) {
    throw new InputError(`${source}: input '${slot.name}' has ${nonFinite} NaN or infinite value${nonFinite === 1 ? "" : "s"} (first at index ${first}: ${Number(values[first])}); fixed point has no encoding for them`);
  }
  if (saturated > 0) {
    const limit = 2 ** (31 - slot.frac);
    warn(`${source}: input '${slot.name}': ${saturated} value${saturated === 1 ? "" : "s"} outside the range of Q${slot.frac} (|x| < ${limit}; largest |x| ${largest.toPrecision(4)}) saturate to ±${limit}`);
  }
  return new Tensor([...shape], data, slot.frac);
}
