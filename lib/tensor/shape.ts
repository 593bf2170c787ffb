/**
 * Shape arithmetic shared by every kernel: element counts, row-major strides, axis
 * normalisation and numpy/ONNX multidirectional broadcasting. Pure functions on number arrays.
 */

export type Shape = readonly number[];

export function sizeOf(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Row-major (C order) strides in elements. */
export function stridesOf(shape: Shape): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i];
  }
  return s;
}

export function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** Resolve a possibly negative axis against a rank; throws with `what` in the message when out of range. */
export function normAxis(axis: number, rank: number, what = "axis"): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(a) || a < 0 || a >= rank) {
    throw new RangeError(`${what} ${axis} is out of range for rank ${rank}`);
  }
  return a;
}

/** The broadcast result shape of several shapes (numpy rules), or an error naming both shapes. */
export function broadcastShapes(...shapes: Shape[]): number[] {
  const rank = Math.max(0, ...shapes.map((s) => s.length));
  const out = new Array<number>(rank).fill(1);
  for (const s of shapes) {
    for (let i = 0; i < s.length; i++) {
      const o = rank - s.length + i;
      const d = s[i];
      if (d === out[o] || d === 1) continue;
      if (out[o] === 1) out[o] = d;
      else throw new RangeError(`shapes [${shapes.map((x) => x.join(",")).join("] and [")}] do not broadcast`);
    }
  }
  return out;
}

/**
 * For a source shape broadcast to `target`, the element strides to step through the source while
 * walking the target in row-major order (0 on broadcast axes).
 */
export function broadcastStrides(source: Shape, target: Shape): number[] {
  const own = stridesOf(source);
  const out = new Array<number>(target.length).fill(0);
  for (let i = 0; i < source.length; i++) {
    const t = target.length - source.length + i;
    out[t] = source[i] === 1 && target[t] !== 1 ? 0 : own[i];
  }
  return out;
}

/**
 * Map every flat index of `target` to the flat index in `source` (broadcast). Returns an
 * Int32Array of length sizeOf(target); used by the reference kernels for readability.
 */
export function broadcastIndex(source: Shape, target: Shape): Int32Array {
  const n = sizeOf(target);
  const map = new Int32Array(n);
  const bs = broadcastStrides(source, target);
  const rank = target.length;
  const idx = new Array<number>(rank).fill(0);
  let src = 0;
  for (let i = 0; i < n; i++) {
    map[i] = src;
    for (let d = rank - 1; d >= 0; d--) {
      idx[d]++;
      src += bs[d];
      if (idx[d] < target[d]) break;
      src -= bs[d] * idx[d];
      idx[d] = 0;
    }
  }
  return map;
}
