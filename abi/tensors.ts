/**
 * Tensors in the module's I/O byte streams (docs/abi.md, "Inputs and outputs"): each slot's i32
 * values little-endian at its offset from the first slot, the stream zero-padded to whole chunks.
 * `packInputs` is the one way named inputs become an input stream: checked, ordered and brought
 * to each slot's frac by lib/inputs.ts first.
 */
import { orderInputs, type NamedTensors } from "../lib/inputs.js";
import { Tensor } from "../lib/tensor/tensor.js";
import { chunkAlign } from "../vm/spec/io.js";
import type { TensorSlot } from "./manifest.js";

/** The I/O byte stream of tensors laid out by `slots`: i32 little-endian, zero-padded to whole chunks. */
export function packTensors(slots: readonly TensorSlot[], tensors: readonly Tensor[]): Uint8Array {
  const base = slots.length > 0 ? slots[0].offset : 0;
  const end = slots.reduce((e, s) => Math.max(e, s.offset + s.bytes), base);
  const bytes = new Uint8Array(chunkAlign(end - base));
  const view = new DataView(bytes.buffer);
  slots.forEach((s, k) => {
    const data = tensors[k].data;
    for (let i = 0; i < data.length; i++) view.setInt32(s.offset - base + 4 * i, data[i], true);
  });
  return bytes;
}

/** Tensors from an I/O byte stream laid out by `slots` (the inverse of packTensors). */
export function unpackTensors(slots: readonly TensorSlot[], bytes: Uint8Array): Tensor[] {
  const base = slots.length > 0 ? slots[0].offset : 0;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return slots.map((s) => {
    const data = new Int32Array(s.bytes / 4);
    for (let i = 0; i < data.length; i++) data[i] = view.getInt32(s.offset - base + 4 * i, true);
    return new Tensor(s.shape, data, s.frac);
  });
}

/** The input byte stream of named inputs (checked against the slots, then packed). */
export function packInputs(slots: readonly TensorSlot[], inputs: NamedTensors): Uint8Array {
  return packTensors(slots, orderInputs(slots, inputs));
}

/** Named output tensors from an output byte stream, in the slots' order. */
export function unpackOutputs(slots: readonly TensorSlot[], bytes: Uint8Array): Map<string, Tensor> {
  const tensors = unpackTensors(slots, bytes);
  return new Map(slots.map((s, i) => [s.name, tensors[i]]));
}
