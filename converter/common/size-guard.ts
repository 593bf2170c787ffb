/**
 * The one guard for every tensor the converters build from a size the model controls. A model of
 * a few hundred bytes can ask for Range(0, 1e10), ConstantOfShape([1e5, 1e5]), an Expand or Tile
 * to a huge shape, a OneHot depth of 1e9 or a TF.js inline constant whose short value list fills
 * a huge shape: folding or composing these at conversion time would take minutes and gigabytes,
 * or die in V8 with "Invalid typed array length". So each such allocation first asks the
 * SizeGuard: the element count is computed from shapes and attributes, and a count over the
 * limit is a one-line error (the front ends prefix the node's name and op type) before any memory
 * is taken. The limit is in bytes of the emitted constant (detml stores i32, 4 bytes an element):
 * by default the larger of 64 MiB and the model's largest weight (a model with a large weight may
 * fold a transpose of it), or exactly what the caller sets (`--max-folded-bytes`). Independently,
 * `checkShape` gives every static shape (inputs, node outputs) a clear error for a negative,
 * fractional or huge dimension, whether or not anything is allocated for it.
 */

/** Default limit on a folded tensor, in bytes of the emitted constant. */
export const DEFAULT_MAX_FOLDED_BYTES = 64 * 2 ** 20;

/** Bytes an element of a detml constant takes (i32). */
export const ELEMENT_BYTES = 4;

/**
 * Largest element count of any detml tensor: 2^30 i32 values fill the 4 GiB address space of
 * the compiled WASM, so no larger shape can ever run.
 */
export const MAX_TENSOR_ELEMENTS = 2 ** 30;

/**
 * Most outputs one op may have: a TF Split's num_split or an Unpack of a long axis would
 * otherwise make one graph value (and one list entry) per element of a model-given count.
 */
export const MAX_OP_OUTPUTS = 2 ** 16;

/** `count` outputs for `what`, or an error when it is not a positive integer up to MAX_OP_OUTPUTS. */
export function checkOutputCount(count: number, what: string): number {
  if (!(Number.isInteger(count) && count >= 1 && count <= MAX_OP_OUTPUTS)) {
    throw new Error(`${what} ${count} is not supported (1 to ${MAX_OP_OUTPUTS} outputs are)`);
  }
  return count;
}

/**
 * Bytes for messages: MiB/GiB when the count is a small whole number of them (limits), three
 * significant digits of MB/GB/TB from a megabyte on, else exact.
 */
export function formatBytes(n: number): string {
  for (const [unit, size] of [["GiB", 2 ** 30], ["MiB", 2 ** 20]] as const) {
    if (n >= size && n % size === 0 && n / size < 1024) return `${n / size} ${unit}`;
  }
  for (const [unit, size] of [["TB", 1e12], ["GB", 1e9], ["MB", 1e6]] as const) {
    if (n >= size) return `${Number((n / size).toPrecision(3))} ${unit}`;
  }
  return `${n} bytes`;
}

const showShape = (shape: readonly number[]): string => `[${shape.join(",")}]`;

/**
 * The element count of a static shape; a dimension that is not an integer >= 0, or a count above
 * MAX_TENSOR_ELEMENTS, is an error naming `what` (e.g. "output 'y'").
 */
export function checkShape(shape: readonly number[], what: string): number {
  if (!shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new Error(`${what} would have shape ${showShape(shape)}: dimensions must be integers >= 0`);
  }
  // A zero anywhere makes an empty tensor, whatever the other dimensions.
  const count = shape.reduce((a, b) => a * b, 1);
  if (count > MAX_TENSOR_ELEMENTS) {
    throw new Error(`${what} would have shape ${showShape(shape)}, ${count} elements: more than the 2^30 a detml tensor can hold`);
  }
  return count;
}

export class SizeGuard {
  private limit: number;
  private readonly explicit: boolean;

  /** `maxBytes`: the limit set by the user; undefined for the default (see admitSource). */
  constructor(maxBytes?: number) {
    if (maxBytes !== undefined && !(Number.isSafeInteger(maxBytes) && maxBytes > 0)) {
      throw new Error(`--max-folded-bytes ${maxBytes}: must be a positive integer (bytes)`);
    }
    this.explicit = maxBytes !== undefined;
    this.limit = maxBytes ?? DEFAULT_MAX_FOLDED_BYTES;
  }

  get limitBytes(): number {
    return this.limit;
  }

  /**
   * A tensor read from the model's own files (an initializer, a weight, a Constant node's value),
   * already checked against the bytes that hold it: the default limit grows to its size, so a
   * model may fold a transpose of its largest weight. A limit the user set stays as set.
   */
  admitSource(elements: number): void {
    if (!this.explicit) this.limit = Math.max(this.limit, elements * ELEMENT_BYTES);
  }

  /**
   * The element count of a tensor of `shape` that `what` ("folding", "the OneHot positions")
   * is about to allocate; throws, before anything is allocated, when the shape is invalid or the
   * tensor is over the limit.
   */
  elements(shape: readonly number[], what = "folding"): number {
    if (!shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw new Error(`${what} would create a tensor of shape ${showShape(shape)}: dimensions must be integers >= 0`);
    }
    return this.count(shape.reduce((a, b) => a * b, 1), what);
  }

  /** Check a flat element count (e.g. a Range length) the same way; returns it. */
  count(n: number, what = "folding"): number {
    if (!(Number.isInteger(n) && n >= 0)) throw new Error(`${what} would create ${n} elements: not a valid tensor size`);
    const bytes = n * ELEMENT_BYTES;
    if (bytes > this.limit) {
      let [size, limit] = [formatBytes(bytes), formatBytes(this.limit)];
      // Rounded to the same figure, the two would read as equal: give both exactly.
      if (size === limit) [size, limit] = [`${bytes} bytes`, `${this.limit} bytes`];
      throw new Error(`${what} would create ${n} elements (${size}), more than the ${limit} limit; raise it with --max-folded-bytes`);
    }
    if (n > MAX_TENSOR_ELEMENTS) throw new Error(`${what} would create ${n} elements, more than the 2^30 a detml tensor can hold`);
    return n;
  }

  /** A zero-filled Float64Array for a tensor of `shape`, after the check of `elements`. */
  alloc(shape: readonly number[], what = "folding"): Float64Array {
    return new Float64Array(this.elements(shape, what));
  }
}
