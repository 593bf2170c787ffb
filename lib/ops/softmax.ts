/**
 * Softmax and LogSoftmax along one axis (ONNX opset 13 semantics, default axis -1), at ctx.frac.
 * Per slice: m = max x; e_i = e^(x_i - m) at Q30 (in [0, 2^30], the largest is 2^30); S = the
 * exact sum of the e_i (< 2^50: the axis length is limited to 2^20 - 1).
 * Softmax: y_i = e_i * 2^frac / S rounded once (ties away from zero), in [0, 2^frac].
 * LogSoftmax: y_i = (x_i - m) - ln(S / 2^30), the difference exact and the sum rounded once
 * (half up) and saturated. Error bounds in docs/numerics.md.
 */
import { I32_MIN, roundShift, saturate } from "../tensor/fixed.js";
import { sizeOf } from "../tensor/shape.js";
import { Tensor } from "../tensor/tensor.js";
import { fixedExp, fixedLogQ30 } from "./fixed-exp-log.js";
import { divShiftRound } from "./fixed-math.js";
import { type TensorType, check, defineOp, resolveAttrs } from "./op.js";

/** Longest softmax axis: keeps the exact sum of 2^30-scaled terms below 2^50. */
export const MAX_SOFTMAX_AXIS = 2 ** 20 - 1;

export type SoftmaxAttrs = { axis: number };

/** Validate the axis and its length; shared by both ops' infer and kernels. */
function softmaxAxis(kind: string, shape: readonly number[], axis: number): number {
  check(shape.length > 0, `${kind} needs an input of rank >= 1, got a scalar`);
  check(axis >= -shape.length && axis < shape.length, `axis ${axis} is out of range for rank ${shape.length}`);
  const a = axis < 0 ? axis + shape.length : axis;
  check(shape[a] <= MAX_SOFTMAX_AXIS, `${kind} axis length ${shape[a]} exceeds ${MAX_SOFTMAX_AXIS}`);
  return a;
}

/**
 * Run `write(slice, e, sum, max)` for every slice along `axis`: `slice` holds the flat indices,
 * `e` the Q30 exponentials of x - max and `sum` their exact sum.
 */
function forEachSlice(x: Tensor, axis: number,
  write: (slice: Int32Array, e: Float64Array, sum: number, max: number) => void): void {
  const n = x.shape[axis];
  if (n === 0) return;
  const inner = sizeOf(x.shape.slice(axis + 1));
  const outer = sizeOf(x.shape.slice(0, axis));
  const slice = new Int32Array(n);
  const e = new Float64Array(n);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      let max = I32_MIN;
      for (let k = 0; k < n; k++) {
        slice[k] = (o * n + k) * inner + i;
        if (x.data[slice[k]] > max) max = x.data[slice[k]];
      }
      let sum = 0;
      for (let k = 0; k < n; k++) {
        e[k] = fixedExp(x.data[slice[k]] - max, x.frac, 30);
        sum += e[k];
      }
      write(slice, e, sum, max);
    }
  }
}

export function softmax(x: Tensor, attrs: Partial<SoftmaxAttrs> = {}, frac = x.frac): Tensor {
  const axis = softmaxAxis("Softmax", x.shape, resolveAttrs(Softmax, attrs).axis);
  const out = new Int32Array(x.size);
  forEachSlice(x, axis, (slice, e, sum) => {
    for (let k = 0; k < slice.length; k++) out[slice[k]] = divShiftRound(e[k], frac, sum);
  });
  return new Tensor(x.shape, out, frac);
}

export function logSoftmax(x: Tensor, attrs: Partial<SoftmaxAttrs> = {}, frac = x.frac): Tensor {
  const axis = softmaxAxis("LogSoftmax", x.shape, resolveAttrs(LogSoftmax, attrs).axis);
  const out = new Int32Array(x.size);
  // y = d / 2^fx - L / 2^30 at frac `frac`, d = x - max: split d = dHigh * 2^k + dLow with
  // k = fx - frac (when positive) so that dHigh is the integer part at the output frac and
  // dLow * 2^(30 - fx) - L is an exact Q30 remainder; one rounding of the sum (|.| < 2^37).
  const k = Math.max(x.frac - frac, 0);
  forEachSlice(x, axis, (slice, _e, sum, max) => {
    const logSum = fixedLogQ30(sum, 30);
    for (let j = 0; j < slice.length; j++) {
      const d = x.data[slice[j]] - max; // in (-2^32, 0]
      // With k = 0, d at the output frac is an integer (beyond 2^53 only where y saturates).
      const dHigh = k > 0 ? Math.floor(d / 2 ** k) : d * 2 ** (frac - x.frac);
      const dLow = k > 0 ? d - dHigh * 2 ** k : 0;
      out[slice[j]] = saturate(dHigh + roundShift(dLow * 2 ** (30 - x.frac) - logSum, 30 - frac));
    }
  });
  return new Tensor(x.shape, out, frac);
}

function softmaxOp(kind: "Softmax" | "LogSoftmax", summary: string, kernel: typeof softmax) {
  return defineOp<SoftmaxAttrs>({
    kind,
    summary,
    inputs: ["input"],
    attrs: { axis: { type: "int", default: -1, doc: "the axis to normalize (negative from the end)" } },
    outputs: () => 1,
    infer: ([x]: TensorType[], attrs, ctx) => {
      softmaxAxis(kind, x.shape, attrs.axis);
      return [{ shape: [...x.shape], frac: ctx.frac }];
    },
    run: ([x], attrs, ctx) => [kernel(x, attrs, ctx.frac)],
  });
}

export const Softmax = softmaxOp("Softmax", "exp(x - max) / sum along an axis", softmax);
export const LogSoftmax = softmaxOp("LogSoftmax", "x - max - log(sum exp(x - max)) along an axis", logSoftmax);
