/**
 * The Tensor: a shape, a storage dtype, a number of fractional bits and row-major integer data.
 * A value v at frac f means the real number v / 2^f; integer tensors (indices, token ids, booleans)
 * have frac 0. Tensors are immutable by convention: kernels allocate their outputs. A constant
 * may carry a narrow storage descriptor (narrow.ts): its values are then all q << s_c with q of 8
 * or 16 bits, checked here, and files and modules may store it narrow; kernels ignore it.
 */
import { dequantize, quantizeInto } from "./fixed.js";
import { type NarrowStorage, valuesProblem } from "./narrow.js";
import { type Shape, sameShape, sizeOf, stridesOf } from "./shape.js";

/** Value dtype: always i32 (narrow weights are i32 values with a storage descriptor, `storage`). */
export type DType = "i32";

export class Tensor {
  readonly shape: readonly number[];
  readonly dtype: DType = "i32";
  readonly frac: number;
  readonly data: Int32Array;
  /** Set when every value is q << s_c at a narrow width (a constant converted with --weight-bits). */
  readonly storage?: NarrowStorage;

  constructor(shape: Shape, data: Int32Array, frac: number, storage?: NarrowStorage) {
    if (!shape.every((d) => Number.isInteger(d) && d >= 0)) {
      throw new RangeError(`invalid shape [${shape.join(",")}]`);
    }
    if (data.length !== sizeOf(shape)) {
      throw new RangeError(`shape [${shape.join(",")}] needs ${sizeOf(shape)} values, got ${data.length}`);
    }
    if (!Number.isInteger(frac) || frac < 0 || frac > 30) throw new RangeError(`frac ${frac} is not in 0..30`);
    this.shape = Object.freeze([...shape]);
    this.data = data;
    this.frac = frac;
    if (storage) {
      const problem = valuesProblem(shape, data, storage);
      if (problem) throw new RangeError(problem);
      this.storage = Object.freeze({ ...storage, shifts: Object.freeze([...storage.shifts]) });
    }
  }

  static zeros(shape: Shape, frac: number): Tensor {
    return new Tensor(shape, new Int32Array(sizeOf(shape)), frac);
  }

  /** Quantize real values (row-major) with the rounding and saturation rule of lib/tensor/fixed. */
  static fromFloat(values: ArrayLike<number>, shape: Shape, frac: number): Tensor {
    const data = new Int32Array(values.length);
    quantizeInto(values, frac, data);
    return new Tensor(shape, data, frac);
  }

  /** Integer values (frac 0), e.g. token ids; throws on non-integers or values outside i32. */
  static fromInts(values: ArrayLike<number | bigint>, shape: Shape): Tensor {
    const data = new Int32Array(values.length);
    for (let i = 0; i < values.length; i++) {
      const v = Number(values[i]);
      if (!Number.isInteger(v) || v < -2147483648 || v > 2147483647) {
        throw new RangeError(`value ${values[i]} at index ${i} is not an i32 integer`);
      }
      data[i] = v;
    }
    return new Tensor(shape, data, 0);
  }

  get rank(): number {
    return this.shape.length;
  }

  get size(): number {
    return this.data.length;
  }

  /** Dequantized copy as float64 (exact: every i32 / 2^frac is representable). */
  toFloat(): Float64Array {
    const out = new Float64Array(this.data.length);
    for (let i = 0; i < out.length; i++) out[i] = dequantize(this.data[i], this.frac);
    return out;
  }

  /** Same data, new shape; one dimension may be -1. */
  reshape(shape: Shape): Tensor {
    const known = shape.filter((d) => d !== -1);
    const inferred = shape.length - known.length;
    if (inferred > 1) throw new RangeError("reshape: at most one dimension may be -1");
    const resolved = shape.map((d) => (d === -1 ? this.size / sizeOf(known) : d));
    if (sizeOf(resolved) !== this.size || !resolved.every(Number.isInteger)) {
      throw new RangeError(`cannot reshape [${this.shape.join(",")}] to [${shape.join(",")}]`);
    }
    return new Tensor(resolved, this.data, this.frac);
  }

  /** Permute axes (default: reverse them), copying the data. */
  transpose(perm?: readonly number[]): Tensor {
    const rank = this.rank;
    const p = perm ?? [...Array(rank).keys()].reverse();
    if (p.length !== rank || [...p].sort((a, b) => a - b).some((v, i) => v !== i)) {
      throw new RangeError(`transpose: [${p.join(",")}] is not a permutation of ${rank} axes`);
    }
    const outShape = p.map((a) => this.shape[a]);
    const inStrides = stridesOf(this.shape);
    const stepIn = p.map((a) => inStrides[a]);
    const out = new Int32Array(this.size);
    const idx = new Array<number>(rank).fill(0);
    let src = 0;
    for (let i = 0; i < out.length; i++) {
      out[i] = this.data[src];
      for (let d = rank - 1; d >= 0; d--) {
        idx[d]++;
        src += stepIn[d];
        if (idx[d] < outShape[d]) break;
        src -= stepIn[d] * idx[d];
        idx[d] = 0;
      }
    }
    return new Tensor(outShape, out, this.frac);
  }

  /** Bit-for-bit equality of shape, frac and data. */
  equals(other: Tensor): boolean {
    return this.frac === other.frac && sameShape(this.shape, other.shape) &&
      this.data.every((v, i) => v === other.data[i]);
  }

  toString(): string {
    const stored = this.storage ? ` stored i${this.storage.bits} along axis ${this.storage.axis}` : "";
    return `Tensor<i32 Q${this.frac}${stored}>[${this.shape.join(",")}]`;
  }
}
