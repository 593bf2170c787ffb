/**
 * Inputs of the rotary Transformer fixture (fixtures/pytorch/export_rotary.py) for the tests:
 * the four saved token rows, each with positions offset..offset+T-1, as verify samples (real
 * values for ONNX Runtime, frac-0 tensors for detml). The oracle feeds int64 tensors.
 */
import { readFileSync } from "node:fs";
import { readNpy } from "../../lib/tensor/npy.js";
import { Tensor } from "../../lib/tensor/tensor.js";
import type { Sample } from "../../lib/verify/inputs.js";

export const ROTARY_MODEL = "fixtures/models/rotary_transformer.onnx";

/** One sample per (offset, token row), offsets outermost. */
export function rotarySamples(offsets: number[]): Sample[] {
  const tokens = readNpy(new Uint8Array(readFileSync("fixtures/data/rotary_tokens.npy")));
  const [rows, steps] = tokens.shape;
  const ids = Array.from(tokens.data as ArrayLike<number | bigint>, Number);
  return offsets.flatMap((offset) => Array.from({ length: rows }, (_, r) => {
    const row = ids.slice(r * steps, (r + 1) * steps);
    const positions = Array.from({ length: steps }, (_, i) => offset + i);
    return {
      float: new Map([
        ["tokens", { shape: [1, steps], data: Float64Array.from(row), dtype: "int64" }],
        ["positions", { shape: [steps], data: Float64Array.from(positions), dtype: "int64" }],
      ]),
      fixed: new Map([["tokens", Tensor.fromInts(row, [1, steps])], ["positions", Tensor.fromInts(positions, [steps])]]),
    };
  }));
}
