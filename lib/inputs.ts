/**
 * The one check of a model's named input tensors against its input slots (name, shape, frac):
 * every given name must be an input, every input must be given with exactly its shape, and each
 * tensor is brought to its slot's frac with the one rounding rule. The reference executor, the
 * fast path and the VM runner (through abi/ packInputs), `trace`/`prove`/`dispute` and the
 * benchmarks all take their inputs through it, so they accept and refuse the same inputs with the
 * same errors. A graph's ValueInfo and a compiled module's TensorSlot are both input slots.
 */
import { rescale } from "./tensor/fixed.js";
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
