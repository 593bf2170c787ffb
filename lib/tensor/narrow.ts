/**
 * Narrow weight storage (docs/numerics.md, "Narrow weights"): a constant whose every value is
 * q << s_c, with q a signed 8- or 16-bit integer and s_c (0..31) a shift per index c along one
 * "channel" axis. Its value is still the ordinary i32 tensor (the reference kernels compute on it
 * unchanged); the descriptor only says that the .detml file, the weights image and the WASM data
 * may hold q at the narrow width plus one shift per channel. This file has the descriptor, the
 * rounding of a channel to that form (`narrowChannels`), the check that values match a descriptor,
 * and the q values' extraction and expansion used by the codec and the compiler.
 */
import { I32_MAX, I32_MIN, roundShift } from "./fixed.js";
import { stridesOf } from "./shape.js";

export type NarrowBits = 8 | 16;
export const NARROW_BITS: readonly NarrowBits[] = [8, 16];

/** How a narrow constant is stored: q at `bits`, value = q << shifts[index along axis]. */
export interface NarrowStorage {
  bits: NarrowBits;
  axis: number;
  shifts: readonly number[];
}

/** Largest shift: q << 31 still fits an i32 only for q in {-1, 0}, and a WASM i32.shl takes 0..31. */
export const MAX_NARROW_SHIFT = 31;

/** The channel of each element: its index along `axis`, for row-major data of `shape`. */
export function channelOf(shape: readonly number[], axis: number): (i: number) => number {
  const stride = stridesOf(shape)[axis];
  const dim = shape[axis];
  return (i) => Math.floor(i / stride) % dim;
}

/** One line about what is wrong with `storage` for a tensor of `shape`, or undefined if it is well formed. */
export function storageProblem(shape: readonly number[], storage: NarrowStorage): string | undefined {
  if (!NARROW_BITS.includes(storage.bits)) return `narrow storage of ${storage.bits} bits (8 or 16 expected)`;
  if (!Number.isInteger(storage.axis) || storage.axis < 0 || storage.axis >= shape.length) {
    return `narrow storage axis ${storage.axis} is not an axis of shape [${shape.join(",")}]`;
  }
  if (storage.shifts.length !== shape[storage.axis]) {
    return `narrow storage has ${storage.shifts.length} shifts for ${shape[storage.axis]} channels along axis ${storage.axis}`;
  }
  const bad = storage.shifts.findIndex((s) => !Number.isInteger(s) || s < 0 || s > MAX_NARROW_SHIFT);
  if (bad >= 0) return `narrow storage shift ${storage.shifts[bad]} of channel ${bad} is not in 0..${MAX_NARROW_SHIFT}`;
  return undefined;
}

/** One line naming the first value that is not q << s_c with q at the descriptor's width, or undefined. */
export function valuesProblem(shape: readonly number[], data: Int32Array, storage: NarrowStorage): string | undefined {
  const wrong = storageProblem(shape, storage);
  if (wrong) return wrong;
  const channel = channelOf(shape, storage.axis);
  const [lo, hi] = [-(2 ** (storage.bits - 1)), 2 ** (storage.bits - 1) - 1];
  for (let i = 0; i < data.length; i++) {
    const s = storage.shifts[channel(i)];
    const q = data[i] >> s;
    if (q * 2 ** s !== data[i] || q < lo || q > hi) {
      return `value ${data[i]} at index ${i} (channel ${channel(i)}) is not q << ${s} with q in ${lo}..${hi}`;
    }
  }
  return undefined;
}

/** The q values (data >> s_c), as the narrow typed array the storage's width gives. */
export function narrowValues(shape: readonly number[], data: Int32Array, storage: NarrowStorage): Int8Array | Int16Array {
  const channel = channelOf(shape, storage.axis);
  const out = storage.bits === 8 ? new Int8Array(data.length) : new Int16Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = data[i] >> storage.shifts[channel(i)];
  return out;
}

/**
 * The values q << s_c of narrow q, or a one-line problem when one does not fit an i32 (the only
 * way stored q can disagree with their descriptor: q and the shifts are each in range by width).
 */
export function expandNarrow(shape: readonly number[], q: ArrayLike<number>, storage: NarrowStorage): Int32Array | string {
  const channel = channelOf(shape, storage.axis);
  const out = new Int32Array(q.length);
  for (let i = 0; i < q.length; i++) {
    const v = q[i] * 2 ** storage.shifts[channel(i)];
    if (v < I32_MIN || v > I32_MAX) return `value ${q[i]} << ${storage.shifts[channel(i)]} at index ${i} does not fit an i32`;
    out[i] = v;
  }
  return out;
}

/**
 * v / 2^s rounded to the nearest integer, ties to even. The narrowing rule of the kernels
 * (roundShift, ties up) would add half a unit to every weight on average, since a tie is a
 * value whose low s bits are exactly 2^(s-1), one value in 2^s: an error with a sign that a
 * reduction sums instead of averaging out (2e-3 of ResNet-18's logit range at 16-bit weights).
 */
function roundShiftEven(v: number, s: number): number {
  const q = roundShift(v, s);
  // Only an odd q from a tie moves: v then lies exactly half a step below q's value.
  return s > 0 && (q & 1) !== 0 && q * 2 ** s - v === 2 ** (s - 1) ? q - 1 : q;
}

/**
 * Round i32 values to narrow storage along `axis`: per channel, the smallest shift s (0..31) at
 * which every q = roundShiftEven(v, s) lies in the signed `bits` range (the extremes decide: the
 * rounding is monotonic, and a tie at the range's edge rounds to the even edge, -128 or
 * -32768, or beyond it, as roundShift would), and q << s saturated to the i32 range (only a
 * channel within half a step of 2^31 can need it). Returns the new values and the descriptor. A
 * shift of 0 keeps the channel exact: never finer than the values' own frac.
 */
export function narrowChannels(shape: readonly number[], data: Int32Array, bits: NarrowBits, axis: number): { data: Int32Array; storage: NarrowStorage } {
  const channel = channelOf(shape, axis);
  const channels = shape[axis];
  const [lo, hi] = [-(2 ** (bits - 1)), 2 ** (bits - 1) - 1];
  const min = new Float64Array(channels).fill(0);
  const max = new Float64Array(channels).fill(0);
  for (let i = 0; i < data.length; i++) {
    const c = channel(i);
    if (data[i] < min[c]) min[c] = data[i];
    if (data[i] > max[c]) max[c] = data[i];
  }
  // The rounding is monotonic, so the channel fits when its extremes do.
  const shifts = Array.from({ length: channels }, (_, c) => {
    let s = 0;
    while (s < MAX_NARROW_SHIFT && (roundShiftEven(min[c], s) < lo || roundShiftEven(max[c], s) > hi)) s++;
    return s;
  });
  const out = new Int32Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const s = shifts[channel(i)];
    const q = Math.min(hi, Math.max(lo, roundShiftEven(data[i], s)));
    const v = q * 2 ** s;
    // Saturating q << s to the i32 range keeps it of the form q' << s (I32_MAX >> s << s).
    out[i] = v > I32_MAX ? Math.floor(I32_MAX / 2 ** s) * 2 ** s : v < I32_MIN ? I32_MIN : v;
  }
  return { data: out, storage: { bits, axis, shifts } };
}
