/**
 * GatherND (lib/ops/gather-nd.ts) as WASM: a walk over (batch, tuple) that reads the tuple's m
 * indices, turns each into a data row as the kernel's resolveIndex does (rescaled to frac 0, a
 * negative one plus the axis size, out of range traps with `unreachable` where the kernel
 * throws), adds row * stride to the batch's base address, then copies the slice of contiguous
 * values behind it. The geometry is the kernel's own planGatherND, so compiled and reference
 * shapes cannot drift apart.
 */
import { planGatherND, type GatherNDAttrs } from "../../lib/ops/gather-nd.js";
import type { Expr, FunctionBuilder, Local } from "../binaryen.js";
import { walk } from "./loops.js";
import { rescale32 } from "./numerics.js";
import type { Operand, OpEmitter } from "./types.js";

/**
 * The data row of the index at `ptr + offset` for an axis of size `dim` (the rule of Gather and
 * GatherND, resolveIndex in lib/ops/gather.ts): set into `row`, trapping when it is out of range.
 */
export function emitIndexRow(f: FunctionBuilder, row: Local, ptr: Expr, offset: number, frac: number, dim: number): Expr[] {
  return [
    f.set(row, rescale32(f, f.i32Load(ptr, offset), frac, 0)),
    f.if(f.i32LtS(f.get(row), f.i32Const(0)), f.set(row, f.i32Add(f.get(row), f.i32Const(dim)))),
    f.if(f.i32GeU(f.get(row), f.i32Const(dim)), f.unreachable()),
  ];
}

export const GatherNDEmitter: OpEmitter<GatherNDAttrs> = {
  emit: ({ f, inputs, outputs, attrs }) => {
    const [data, indices] = inputs as Operand[];
    const out = outputs[0];
    const p = planGatherND(data.shape, indices.shape, attrs.batch_dims);
    const depth = p.dims.length;
    if (p.batches * p.tuples * p.slice === 0) return [];
    const [row, source] = [f.local("i32"), f.local("i32")];
    const strides = [[p.batchSize * 4, 0], [p.tuples * depth * 4, depth * 4], [p.tuples * p.slice * 4, p.slice * 4]];
    return walk(f, [p.batches, p.tuples], strides, ([pBatch, pIndex, pOut]) => [
      f.set(source, f.get(pBatch)),
      ...p.dims.flatMap((dim, k) => [
        ...emitIndexRow(f, row, f.get(pIndex), indices.address + 4 * k, indices.frac, dim),
        f.set(source, f.i32Add(f.get(source), f.i32Mul(f.get(row), f.i32Const(p.strides[k] * 4)))),
      ]),
      ...walk(f, [p.slice], [[4], [4]], ([ps, pd]) => [f.i32Store(f.get(pd), f.i32Load(f.get(ps), data.address), out.address)],
        [f.get(source), f.get(pOut)]),
    ]);
  },
};
