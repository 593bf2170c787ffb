/**
 * The data-movement ops of lib/ops (transpose.ts, concat-split.ts, slice.ts, expand-tile.ts,
 * gather.ts, pad.ts) as strided walks (loops.ts): every output element is one input element, so
 * each op is a walk over the output with the input pointer advanced by permuted, stepped or zero
 * strides, and the static start folded into the load address. Values are copied unchanged except
 * in a Concat of mixed fracs, which rescales as the kernel does. Shapes and attributes come from
 * the kernels' own exported resolvers, so compiled and reference geometry cannot drift apart.
 */
import type { ConcatAttrs, SplitAttrs } from "../../lib/ops/concat-split.js";
import { splitSizes } from "../../lib/ops/concat-split.js";
import type { ExpandAttrs, TileAttrs } from "../../lib/ops/expand-tile.js";
import type { GatherAttrs } from "../../lib/ops/gather.js";
import { ATTR_FRAC } from "../../lib/ops/op.js";
import { axisPads, pad, type PadAttrs } from "../../lib/ops/pad.js";
import { resize, type ResizeAttrs } from "../../lib/ops/resize.js";
import { sliceRanges, type SliceAttrs } from "../../lib/ops/slice.js";
import { resolvePerm, type TransposeAttrs } from "../../lib/ops/transpose.js";
import { normAxis, sizeOf, stridesOf } from "../../lib/tensor/shape.js";
import { Tensor } from "../../lib/tensor/tensor.js";
import type { Expr, FunctionBuilder } from "../binaryen.js";
import { emitIndexRow } from "./gather-nd.js";
import { broadcastByteStrides, denseByteStrides, walk } from "./loops.js";
import { rescale32, rescaleConst } from "./numerics.js";
import { emitResizeLinear } from "./resize.js";
import type { EmitContext, Operand, OpEmitter } from "./types.js";

/**
 * Copy a walk of `dims`: the source element at src + srcStart + sum(i * srcStrides) bytes, the
 * destination likewise from dst. Strides may be negative (a reversed slice): the pointer then
 * starts at srcStart, since a load's effective address is the UNSIGNED pointer plus the offset.
 */
export function emitStridedCopy(f: FunctionBuilder, dims: readonly number[], src: number, srcStrides: readonly number[],
  dst: number, dstStrides: readonly number[], convert: (v: Expr) => Expr = (v) => v, srcStart = 0): Expr[] {
  if (sizeOf(dims) === 0) return [];
  return walk(f, dims, [srcStrides, dstStrides], ([ps, pd]) => [f.i32Store(f.get(pd), convert(f.i32Load(f.get(ps), src)), dst)],
    [f.i32Const(srcStart), f.i32Const(0)]);
}

/** Fill `count` i32 elements at `dst` with a constant. */
function emitFill(f: FunctionBuilder, dst: number, count: number, value: number): Expr[] {
  if (count === 0) return [];
  return walk(f, [count], [[4]], ([p]) => [f.i32Store(f.get(p), f.i32Const(value), dst)]);
}

/** Rows of contiguous values around `axis`: outer (dims before) and inner (dims after) counts. */
function blocks(shape: readonly number[], axis: number): { outer: number; inner: number } {
  return { outer: sizeOf(shape.slice(0, axis)), inner: sizeOf(shape.slice(axis + 1)) };
}

export const TransposeEmitter: OpEmitter<TransposeAttrs> = {
  emit: ({ f, inputs, outputs, attrs }) => {
    const x = inputs[0] as Operand;
    const out = outputs[0];
    const perm = resolvePerm(attrs.perm, x.shape.length);
    const inStrides = denseByteStrides(x.shape);
    return emitStridedCopy(f, out.shape, x.address, perm.map((a) => inStrides[a]), out.address, denseByteStrides(out.shape));
  },
};

export const ConcatEmitter: OpEmitter<ConcatAttrs> = {
  emit: ({ f, inputs, outputs, attrs }) => {
    const out = outputs[0];
    const axis = normAxis(attrs.axis, out.shape.length);
    const { outer, inner } = blocks(out.shape, axis);
    const outRow = out.shape[axis] * inner;
    let offset = 0;
    return (inputs as Operand[]).flatMap((x) => {
      const chunk = x.shape[axis] * inner;
      const code = emitStridedCopy(f, [outer, chunk], x.address, [chunk * 4, 4], out.address + offset * 4, [outRow * 4, 4],
        (v) => rescale32(f, v, x.frac, out.frac));
      offset += chunk;
      return code;
    });
  },
};

export const SplitEmitter: OpEmitter<SplitAttrs> = {
  emit: ({ f, inputs, outputs, attrs }) => {
    const x = inputs[0] as Operand;
    const axis = normAxis(attrs.axis, x.shape.length);
    const { outer, inner } = blocks(x.shape, axis);
    const inRow = x.shape[axis] * inner;
    let offset = 0;
    return splitSizes(x.shape, attrs).flatMap((size, k) => {
      const chunk = size * inner;
      const code = emitStridedCopy(f, [outer, chunk], x.address + offset * 4, [inRow * 4, 4], outputs[k].address, [chunk * 4, 4]);
      offset += chunk;
      return code;
    });
  },
};

export const SliceEmitter: OpEmitter<SliceAttrs> = {
  emit: ({ f, inputs, outputs, attrs }) => {
    const x = inputs[0] as Operand;
    const out = outputs[0];
    const ranges = sliceRanges(x.shape, attrs);
    const strides = denseByteStrides(x.shape);
    const start = ranges.reduce((s, r, d) => s + (r.length > 0 ? r.start * strides[d] : 0), 0);
    return emitStridedCopy(f, out.shape, x.address, ranges.map((r, d) => r.step * strides[d]), out.address, denseByteStrides(out.shape),
      (v) => v, start);
  },
};

export const ExpandEmitter: OpEmitter<ExpandAttrs> = {
  emit: ({ f, inputs, outputs }) => {
    const x = inputs[0] as Operand;
    const out = outputs[0];
    return emitStridedCopy(f, out.shape, x.address, broadcastByteStrides(x.shape, out.shape), out.address, denseByteStrides(out.shape));
  },
};

/** Tile: output axis d (size r * dim) walked as two axes, copy index (stride 0) and input index. */
export const TileEmitter: OpEmitter<TileAttrs> = {
  emit: ({ f, inputs, outputs, attrs }) => {
    const x = inputs[0] as Operand;
    const out = outputs[0];
    const inStrides = denseByteStrides(x.shape);
    const outStrides = stridesOf(out.shape);
    const dims = x.shape.flatMap((d, i) => [attrs.repeats[i], d]);
    const src = x.shape.flatMap((_, i) => [0, inStrides[i]]);
    const dst = x.shape.flatMap((d, i) => [d * outStrides[i] * 4, outStrides[i] * 4]);
    return emitStridedCopy(f, dims, x.address, src, out.address, dst);
  },
};

/**
 * Gather copy by per-axis tables: output element (i0, ..., ik) is the input element at
 * sum_d tables[d][i_d] (element offsets), for ops whose index map splits by axis.
 */
function emitAxisTableCopy(ctx: EmitContext, x: Operand, out: Operand, tables: Int32Array[]): Expr[] {
  const { f } = ctx;
  if (sizeOf(out.shape) === 0) return [];
  const addresses = tables.map((t) => ctx.table(t.map((v) => v * 4)));
  const pOut = f.local("i32");
  const level = (d: number, base: Expr): Expr[] => {
    if (d === tables.length) return [f.i32Store(f.get(pOut), f.i32Load(base, x.address), out.address), f.bump(pOut, 4)];
    const [entry, offset] = [f.local("i32"), f.local("i32")];
    return [
      f.set(entry, f.i32Const(0)),
      f.loop(tables[d].length, () => [
        f.set(offset, f.i32Add(base, f.i32Load(f.get(entry), addresses[d]))),
        ...level(d + 1, f.get(offset)),
      ], [[entry, 4]]),
    ];
  };
  return [f.set(pOut, f.i32Const(0)), ...level(0, f.i32Const(0))];
}

/** The source index of every output position along one axis, read off the reference kernel run on 0..n-1. */
function probeAxis(n: number, kernel: (iota: Tensor) => Tensor): Int32Array {
  return kernel(new Tensor([n], Int32Array.from({ length: n }, (_, i) => i), 0)).data;
}

/**
 * Pad. Constant mode: fill the output with the value, then copy the kept block inside it. Edge
 * and reflect modes: per-axis source tables, each the reference kernel's own map on one axis.
 */
export const PadEmitter: OpEmitter<PadAttrs> = {
  emit: (ctx) => {
    const { f, inputs, outputs, attrs } = ctx;
    const x = inputs[0] as Operand;
    if (attrs.mode !== "constant") {
      const strides = stridesOf(x.shape);
      return emitAxisTableCopy(ctx, x, outputs[0], axisPads(x.shape, attrs).map((p, d) => {
        const end = p.after - (x.shape[d] - p.first - p.kept);
        return probeAxis(x.shape[d], (iota) => pad(iota, [p.before - p.first, end], { mode: attrs.mode })).map((i) => i * strides[d]);
      }));
    }
    const out = outputs[0];
    const pads = axisPads(x.shape, attrs);
    const inStrides = denseByteStrides(x.shape);
    const outStrides = denseByteStrides(out.shape);
    const src = pads.reduce((s, p, d) => s + p.first * inStrides[d], 0);
    const dst = pads.reduce((s, p, d) => s + p.before * outStrides[d], 0);
    const kept = pads.map((p) => p.kept);
    const fill = sizeOf(kept) === sizeOf(out.shape) ? [] : emitFill(f, out.address, sizeOf(out.shape), rescaleConst(attrs.value, ATTR_FRAC, x.frac));
    return [...fill, ...emitStridedCopy(f, kept, x.address + src, inStrides, out.address + dst, outStrides)];
  },
};

/**
 * Gather: for each outer block and each index, copy `inner` contiguous values. Indices are
 * read as integers (rescaled to frac 0), negative ones count from the end; an index still out
 * of range traps (the kernel throws), since no value would be deterministic to invent. Narrow
 * data (a table stored as q along the gathered axis, docs/numerics.md) is read sign-extended and
 * shifted left by the gathered row's shift: q << s is the stored value exactly (it fits an i32).
 */
export const GatherEmitter: OpEmitter<GatherAttrs> = {
  emit: (ctx) => {
    const { f, inputs, outputs, attrs } = ctx;
    const [data, indices] = inputs as Operand[];
    const out = outputs[0];
    const axis = normAxis(attrs.axis, data.shape.length);
    const dim = data.shape[axis];
    const { outer, inner } = blocks(data.shape, axis);
    const count = sizeOf(indices.shape);
    const row = f.local("i32");
    const narrow = data.storage;
    const width = narrow ? narrow.bits / 8 : 4;
    const load = (p: Expr) => (!narrow ? f.i32Load(p, data.address) : narrow.bits === 8 ? f.i32Load8S(p, data.address) : f.i32Load16S(p, data.address));
    const shift = f.local("i32");
    const shifts = narrow && !narrow.shifts.every((v) => v === narrow.shifts[0]) ? ctx.table(Int32Array.from(narrow.shifts)) : undefined;
    const value = (p: Expr) => (!narrow || (!shifts && narrow.shifts[0] === 0) ? load(p)
      : f.i32Shl(load(p), shifts === undefined ? f.i32Const(narrow.shifts[0]) : f.get(shift)));
    return walk(f, [outer, count], [[dim * inner * width, 0], [0, 4], [count * inner * 4, inner * 4]], ([pd, pi, po]) => [
      ...emitIndexRow(f, row, f.get(pi), indices.address, indices.frac, dim),
      ...(shifts === undefined ? [] : [f.set(shift, f.i32Load(f.i32Shl(f.get(row), f.i32Const(2)), shifts))]),
      ...walk(f, [inner], [[width], [4]], ([ps, pdst]) => [f.i32Store(f.get(pdst), value(f.get(ps)), out.address)],
        [f.i32Add(f.get(pd), f.i32Mul(f.get(row), f.i32Const(inner * width))), f.get(po)]),
    ]);
  },
};

/**
 * Resize. Mode nearest: a copy whose index map splits by axis (identity on the leading axes,
 * the reference kernel's own nearest map on H and W, probed on 0..n-1). Mode linear (bilinear
 * interpolation, an exact weighted sum and one rounded division) is emitted by resize.ts.
 */
export const ResizeEmitter: OpEmitter<ResizeAttrs> = {
  emit: (ctx) => {
    const { inputs, outputs, attrs } = ctx;
    if (attrs.mode === "linear") return emitResizeLinear(ctx);
    const x = inputs[0] as Operand;
    const out = outputs[0];
    const rank = x.shape.length;
    const strides = stridesOf(x.shape);
    return emitAxisTableCopy(ctx, x, out, out.shape.map((n, d) => d < rank - 2
      ? Int32Array.from({ length: n }, (_, i) => i * strides[d])
      : probeAxis(x.shape[d], (iota) => resize(iota.reshape([1, x.shape[d]]), [1, n], attrs)).map((i) => i * strides[d])));
  },
};
