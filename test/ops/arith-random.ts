/**
 * Shared test inputs and checks for the elementwise arithmetic, comparison, reduction and
 * selection ops: tensors whose raw values span small reals to the i32 limits or a narrow range
 * (ties), sets of mutually broadcastable shapes, and assertions against a float64 reference
 * evaluated on the dequantized inputs.
 */
import { expect } from "vitest";
import { I32_MAX, I32_MIN } from "../../lib/tensor/fixed.js";
import { Tensor } from "../../lib/tensor/tensor.js";
import { Rng } from "../helpers/random.js";

/**
 * One rounding of an exact result is off by at most 1/2 unit of the output's last place; the
 * float64 reference adds a tiny error of its own (far below 2^-10 units for non-saturated outputs).
 */
export const ONE_ROUNDING_TOLERANCE = 0.5 + 2 ** -10;

/** A raw i32: mostly moderate magnitudes of several sizes, sometimes within 1000 of the i32 limits. */
export function rawValue(rng: Rng, extremeShare = 0.1): number {
  if (rng.next() < extremeShare) return rng.next() < 0.5 ? I32_MAX - rng.int(0, 1000) : I32_MIN + rng.int(0, 1000);
  const bits = rng.pick([4, 12, 20, 28, 31]);
  return rng.int(-(2 ** bits) + 1, 2 ** bits - 1);
}

/** A tensor of raw values at `frac` (see rawValue). */
export function rawTensor(rng: Rng, shape: number[], frac: number, extremeShare = 0.1): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return new Tensor(shape, Int32Array.from({ length: n }, () => rawValue(rng, extremeShare)), frac);
}

/** A tensor of raw values drawn uniformly from lo..hi at `frac` (a narrow range makes ties common). */
export function rangeTensor(rng: Rng, shape: number[], lo: number, hi: number, frac: number): Tensor {
  return new Tensor(shape, Int32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.int(lo, hi)), frac);
}

/**
 * `count` shapes that broadcast together: an output shape of rank 0..4, each input a random
 * suffix of it with some dimensions replaced by 1.
 */
export function broadcastableShapes(rng: Rng, count: number): number[][] {
  const full = rng.shape(0, 4, 1, 4);
  return Array.from({ length: count }, () => {
    const suffix = full.slice(rng.int(0, full.length));
    return suffix.map((d) => (rng.next() < 0.3 ? 1 : d));
  });
}

/** Row-major multi-index of flat index i in `shape`. */
export function unravel(i: number, shape: readonly number[]): number[] {
  const idx = new Array<number>(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    idx[d] = i % shape[d];
    i = Math.floor(i / shape[d]);
  }
  return idx;
}

/** Flat index in `shape` of the element that multi-index `idx` of a broadcast result reads. */
export function broadcastRead(idx: number[], shape: readonly number[]): number {
  const offset = idx.length - shape.length;
  let flat = 0;
  for (let d = 0; d < shape.length; d++) flat = flat * shape[d] + (shape[d] === 1 ? 0 : idx[offset + d]);
  return flat;
}

/** The real value `r` as the ideal output integer at `frac`, clamped to the i32 range (not rounded). */
export function idealOutput(r: number, frac: number): number {
  return Math.min(I32_MAX, Math.max(I32_MIN, r * 2 ** frac));
}

/** Every output integer within `tolerance` units of the clamped float reference. */
export function expectNear(out: Tensor, reference: ArrayLike<number>, tolerance: number, what: string): void {
  expect(out.size).toBe(reference.length);
  for (let i = 0; i < out.size; i++) {
    const ideal = idealOutput(reference[i], out.frac);
    if (Math.abs(out.data[i] - ideal) > tolerance) {
      throw new Error(`${what}: element ${i} is ${out.data[i]} at frac ${out.frac}, the reference is ${ideal}`);
    }
  }
}

/** Every output integer equal to the float reference quantized (round half up) to the output frac. */
export function expectExact(out: Tensor, reference: ArrayLike<number>, what: string): void {
  expect(out.size).toBe(reference.length);
  for (let i = 0; i < out.size; i++) {
    const ideal = Math.floor(idealOutput(reference[i], out.frac) + 0.5);
    const want = Math.min(I32_MAX, ideal);
    if (out.data[i] !== want) throw new Error(`${what}: element ${i} is ${out.data[i]} at frac ${out.frac}, expected ${want}`);
  }
}
