/**
 * Window geometry for the compiled Conv, ConvTranspose and pools. The reference kernels read
 * per-axis tap tables (window.ts `axisTaps`: input index per output position and kernel tap, -1
 * on padding). For every output position the taps that land on input values form an arithmetic
 * progression (first tap j0, count, first input i0, then fixed steps: 1 and the dilation for
 * Conv and pools; for a stepped ConvTranspose input, every (step / gcd(step, dilation))-th tap),
 * so the compiled loops read one small table entry per output position and then run branch-free
 * over exactly the valid taps. Skipping the padding taps is exact: the reference adds zeros there.
 */
import { type AxisWindow, axisCounts, axisTaps } from "../../lib/ops/window.js";

/** Bytes of one table entry: [weight byte offset, tap count, input byte offset, window count]. */
export const TAP_ENTRY_BYTES = 16;

export interface AxisTapTable {
  /** Int32 entries, TAP_ENTRY_BYTES each, one per output position. */
  entries: Int32Array;
  /** Byte steps from one valid tap to the next: in the weights and in the input. */
  weightStep: number;
  inputStep: number;
  /** Output positions [lo, hi) where every kernel tap is valid (consecutive taps: the steps above). */
  interior: [number, number];
}

/**
 * The tap table of one axis. `weightStride` and `inputStride` are the BYTE strides of one kernel
 * tap and one input index on this axis; `includePad` selects AveragePool's count rule.
 */
export function axisTapTable(w: AxisWindow, weightStride: number, inputStride: number, includePad = false): AxisTapTable {
  const taps = axisTaps(w);
  const counts = axisCounts(w, includePad);
  const valid: [number, number][][] = [];
  for (let o = 0; o < w.outSize; o++) {
    const list: [number, number][] = [];
    for (let j = 0; j < w.kernel; j++) if (taps[o * w.kernel + j] >= 0) list.push([j, taps[o * w.kernel + j]]);
    valid.push(list);
  }
  // Steps from any position with two valid taps; they are the same for every position.
  const pair = valid.find((l) => l.length >= 2);
  const tapStep = pair ? pair[1][0] - pair[0][0] : 1;
  const indexStep = pair ? pair[1][1] - pair[0][1] : 1;
  const entries = new Int32Array(w.outSize * 4);
  valid.forEach((list, o) => {
    list.forEach(([j, i], t) => {
      if (j !== list[0][0] + t * tapStep || i !== list[0][1] + t * indexStep) {
        throw new Error(`internal: window taps of output ${o} are not an arithmetic progression`);
      }
    });
    const [j0, i0] = list.length > 0 ? list[0] : [0, 0];
    entries.set([j0 * weightStride, list.length, i0 * inputStride, counts[o]], o * 4);
  });
  return { entries, weightStep: tapStep * weightStride, inputStep: indexStep * inputStride, interior: interior(valid, w.kernel) };
}

/** Output positions [from, to) of one axis whose valid taps are the same: `count` from weight byte offset `weight`. */
export interface TapRun {
  from: number;
  to: number;
  weight: number;
  count: number;
}

/** An axis's output positions as maximal runs with the same valid taps (a table entry's first two fields). */
export function tapRuns(t: AxisTapTable): TapRun[] {
  const runs: TapRun[] = [];
  for (let o = 0; o < t.entries.length / 4; o++) {
    const [weight, count] = [t.entries[o * 4], t.entries[o * 4 + 1]];
    const last = runs[runs.length - 1];
    if (last && last.weight === weight && last.count === count) last.to = o + 1;
    else runs.push({ from: o, to: o + 1, weight, count });
  }
  return runs;
}

/** The longest run of output positions [lo, hi) whose taps are all valid (lo = hi when none). */
function interior(valid: [number, number][][], kernel: number): [number, number] {
  let best: [number, number] = [0, 0];
  let start = -1;
  for (let o = 0; o <= valid.length; o++) {
    const full = o < valid.length && valid[o].length === kernel;
    if (full && start < 0) start = o;
    if (!full && start >= 0) {
      if (o - start > best[1] - best[0]) best = [start, o];
      start = -1;
    }
  }
  return best;
}

/**
 * The SIMD kernels' column geometry (FAST build): per kernel column tap kx, the input column
 * offset d such that output column o reads input column o * stride + d (undefined for a tap that
 * is padding everywhere); undefined when the window is not of that form. `taps` is axisTaps.
 */
export function columnOffsets(taps: Int32Array, outSize: number, kernel: number, stride: number): (number | undefined)[] | undefined {
  const offsets: (number | undefined)[] = new Array(kernel).fill(undefined);
  for (let o = 0; o < outSize; o++) {
    for (let kx = 0; kx < kernel; kx++) {
      const i = taps[o * kernel + kx];
      if (i < 0) continue;
      if (offsets[kx] === undefined) offsets[kx] = i - o * stride;
      else if (offsets[kx] !== i - o * stride) return undefined;
    }
  }
  return offsets;
}
