/**
 * Constant values as converters see them before quantization: a shape, an element class
 * (float, int or bool) and the values as float64. Weights, folded shape arithmetic and constant
 * subgraphs live in this form until the emitter quantizes them into detml Tensors, so folding
 * and BatchNorm fusion happen in float, once, before any rounding. Integers are exact up to
 * 2^53, which covers every shape and index value (INT64_MAX sentinels become 2^63 and are clamped
 * by the ops that accept them). Front-end neutral: the ONNX and TF.js readers both produce these.
 */
import { chooseFrac, quantizeInto } from "../../lib/tensor/fixed.js";
import { sizeOf, type Shape } from "../../lib/tensor/shape.js";
import { Tensor } from "../../lib/tensor/tensor.js";
import type { SizeGuard } from "./size-guard.js";

/** Element class: what the values mean (not how the source stored them). */
export type ValueClass = "float" | "int" | "bool";

export interface ConstValue {
  dtype: ValueClass;
  shape: number[];
  data: Float64Array;
}

export function constValue(dtype: ValueClass, shape: Shape, data: ArrayLike<number>): ConstValue {
  const values = data instanceof Float64Array ? data : Float64Array.from(data);
  if (values.length !== sizeOf(shape)) {
    throw new Error(`constant of shape [${shape.join(",")}] needs ${sizeOf(shape)} values, got ${values.length}`);
  }
  return { dtype, shape: [...shape], data: values };
}

/** A constant of `shape` with every element `v`, sized by `guard` (naming it `what`) first. */
export function filled(guard: SizeGuard, dtype: ValueClass, shape: Shape, v: number, what: string): ConstValue {
  return constValue(dtype, shape, guard.alloc(shape, what).fill(v));
}

export function scalar(dtype: ValueClass, v: number): ConstValue {
  return constValue(dtype, [], [v]);
}

export function intVector(values: readonly number[]): ConstValue {
  return constValue("int", [values.length], values);
}

/** The values as a plain list of integers; `what` names the value in the error. */
export function toInts(v: ConstValue, what: string): number[] {
  const out = Array.from(v.data);
  if (!out.every(Number.isInteger)) throw new Error(`${what} must hold integers, got [${out.slice(0, 8).join(",")}]`);
  return out;
}

/** A single number from a scalar or one-element constant. */
export function toScalar(v: ConstValue, what: string): number {
  if (v.data.length !== 1) throw new Error(`${what} must be a single value, got shape [${v.shape.join(",")}]`);
  return v.data[0];
}

/**
 * The detml Tensor for a constant: floats quantized at the frac chooseFrac picks for their
 * range, ints and bools as integers at frac 0 (an error names the constant if a value is not an i32).
 */
export function toTensor(name: string, v: ConstValue): Tensor {
  if (v.dtype === "float") {
    const frac = chooseFrac(v.data);
    const data = new Int32Array(v.data.length);
    quantizeInto(v.data, frac, data);
    return new Tensor(v.shape, data, frac);
  }
  for (let i = 0; i < v.data.length; i++) {
    const x = v.data[i];
    if (!Number.isInteger(x) || x < -2147483648 || x > 2147483647) {
      throw new Error(`constant '${name}' holds ${x} at index ${i}, outside the i32 range of detml integer tensors`);
    }
  }
  return new Tensor(v.shape, Int32Array.from(v.data), 0);
}

/** Frac a constant will be stored at (what toTensor picks), without quantizing it. */
export function fracOf(v: ConstValue): number {
  return v.dtype === "float" ? chooseFrac(v.data) : 0;
}
