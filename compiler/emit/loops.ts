/**
 * Loop nests over static shapes. A `Walk` visits the elements of an output shape in row-major
 * order while advancing one byte pointer per operand by that operand's own per-axis strides (0
 * on broadcast axes), so elementwise ops, broadcasting, transposes, slices and block copies are
 * all one walk with different strides. Axes of size 1 are dropped and adjacent axes that every
 * operand walks contiguously are merged before any code is emitted, so a plain elementwise op
 * becomes one flat loop. Pointers are byte offsets added to each operand's static address, which
 * goes into the load/store offset immediate.
 */
import { stridesOf } from "../../lib/tensor/shape.js";
import type { Expr, FunctionBuilder, Local } from "../binaryen.js";

/** One pointer advanced through a walk: byte strides per axis of the walked shape. */
export interface Cursor {
  ptr: Local;
  strides: number[];
}

/** Row-major element strides of `shape` seen through broadcasting to `target` (0 on broadcast axes), in bytes. */
export function broadcastByteStrides(shape: readonly number[], target: readonly number[]): number[] {
  const own = stridesOf(shape);
  const lead = target.length - shape.length;
  return target.map((d, i) => (i < lead || (shape[i - lead] === 1 && d !== 1) ? 0 : own[i - lead] * 4));
}

/** Dense row-major byte strides of a shape. */
export function denseByteStrides(shape: readonly number[]): number[] {
  return stridesOf(shape).map((s) => s * 4);
}

/** Drop size-1 axes and merge axes that every stride list walks contiguously. */
export function simplifyWalk(dims: readonly number[], strides: readonly (readonly number[])[]): { dims: number[]; strides: number[][] } {
  const keep = dims.map((d, i) => i).filter((i) => dims[i] !== 1);
  let outDims = keep.map((i) => dims[i]);
  let outStrides = strides.map((s) => keep.map((i) => s[i]));
  for (let d = outDims.length - 2; d >= 0; d--) {
    const mergeable = outStrides.every((s) => s[d] === s[d + 1] * outDims[d + 1]);
    if (!mergeable) continue;
    outDims = [...outDims.slice(0, d), outDims[d] * outDims[d + 1], ...outDims.slice(d + 2)];
    outStrides = outStrides.map((s) => [...s.slice(0, d), s[d + 1], ...s.slice(d + 2)]);
  }
  return { dims: outDims, strides: outStrides };
}

/**
 * Visit every index of `dims` (row-major) with each cursor's pointer at the element's byte
 * offset; pointers start at 0, or at `starts[k]` (an i32 expression, e.g. an outer pointer;
 * an Expr is a number, so there is deliberately no numeric shorthand).
 * `body` runs once per element. Returns the statements.
 */
export function walk(f: FunctionBuilder, dims: readonly number[], strides: readonly (readonly number[])[],
  body: (ptrs: Local[]) => Expr[], starts?: readonly Expr[]): Expr[] {
  const simple = simplifyWalk(dims, strides);
  const ptrs = simple.strides.map(() => f.local("i32"));
  const cursors: Cursor[] = ptrs.map((ptr, k) => ({ ptr, strides: simple.strides[k] }));
  return [...ptrs.map((p, k) => f.set(p, starts?.[k] ?? f.i32Const(0))), nest(f, simple.dims, cursors, () => body(ptrs))];
}

/**
 * Nested counted loops over `dims` advancing every cursor: after the inner levels ran, a
 * pointer has moved dims[d+1] * strides[d+1], so each level adds the difference to its own stride.
 */
export function nest(f: FunctionBuilder, dims: readonly number[], cursors: readonly Cursor[], body: () => Expr[]): Expr {
  const level = (d: number): Expr[] => {
    if (d === dims.length) return body();
    const steps: [Local, number][] = [];
    for (const c of cursors) {
      const step = c.strides[d] - (d + 1 < dims.length ? dims[d + 1] * c.strides[d + 1] : 0);
      if (step !== 0) steps.push([c.ptr, step]);
    }
    return [f.loop(dims[d], () => level(d + 1), steps)];
  };
  return f.seq(level(0));
}

/** Copy `count` i32 values from src to dst (static addresses), contiguously. */
export function copyElements(f: FunctionBuilder, dst: number, src: number, count: number): Expr[] {
  if (count === 0 || dst === src) return [];
  return walk(f, [count], [[4], [4]], ([d, s]) => [f.i32Store(f.get(d), f.i32Load(f.get(s), src), dst)]);
}
