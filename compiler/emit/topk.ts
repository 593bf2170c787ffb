/**
 * TopK (lib/ops/topk.ts) as WASM: the kernel's insertion into the sorted best-k pairs of each
 * slice, with the same strict comparisons (so equal values keep the lower index first), and no
 * scratch memory: the two outputs are the buffer, as in the kernel. Values and Indices have the
 * same shape, so one byte offset addresses a slot in both, and X's slice has the same stride
 * (inner * 4 bytes) as the outputs', so while filling, element j's slot sits at element j's
 * offset from the start of its slice. After the fill, the k-th value lives in a local: an element
 * that does not beat it (most of them, on a heatmap of a million values) costs one load, one
 * comparison and the loop step, which is what the VM's step count pays per element. The geometry
 * is the kernel's own planTopK.
 */
import { planTopK, type TopKAttrs } from "../../lib/ops/topk.js";
import type { Expr, Local } from "../binaryen.js";
import { walk } from "./loops.js";
import type { Operand, OpEmitter } from "./types.js";

export const TopKEmitter: OpEmitter<TopKAttrs> = {
  emit: ({ f, inputs, outputs, attrs }) => {
    const x = inputs[0] as Operand;
    const [values, indices] = outputs;
    const { n, k, outer, inner } = planTopK(x.shape, attrs);
    if (outer * inner === 0) return [];
    const step = inner * 4;
    const lastSlot = (k - 1) * step;
    const [p, v, slot, prev, kth] = [f.local("i32"), f.local("i32"), f.local("i32"), f.local("i32"), f.local("i32")];
    const better = (a: Expr, b: Expr): Expr => (attrs.largest === 1 ? f.i32GtS(a, b) : f.i32LtS(a, b));

    /**
     * Put (v, index) at `slot` of the slice whose slot 0 is at `first`, after shifting the pairs
     * that v beats down one slot (each shift overwrites the slot below, the k-th pair is dropped).
     */
    const insert = (first: Local, index: Expr): Expr[] => {
      const done = f.label("D");
      return [
        f.block(done, [f.whileLoop(f.i32GtS(f.get(slot), f.get(first)), [
          f.set(prev, f.i32Sub(f.get(slot), f.i32Const(step))),
          f.br(done, f.i32Eqz(better(f.get(v), f.i32Load(f.get(prev), values.address)))),
          f.i32Store(f.get(slot), f.i32Load(f.get(prev), values.address), values.address),
          f.i32Store(f.get(slot), f.i32Load(f.get(prev), indices.address), indices.address),
          f.set(slot, f.get(prev)),
        ])]),
        f.i32Store(f.get(slot), f.get(v), values.address),
        f.i32Store(f.get(slot), index, indices.address),
      ];
    };

    // p walks the slice's elements as a byte pointer; element j = (p - px) / step.
    return walk(f, [outer, inner], [[n * step, 4], [k * step, 4]], ([px, po]) => {
      const offset = () => f.i32Sub(f.get(p), f.get(px));
      const index = () => f.i32DivU(offset(), f.i32Const(step));
      return [
        f.set(p, f.get(px)),
        // Fill: the first k elements, each entering at its own slot.
        f.loopTo(p, f.i32Add(f.get(px), f.i32Const(k * step)), step, [
          f.set(v, f.i32Load(f.get(p), x.address)),
          f.set(slot, f.i32Add(f.get(po), offset())),
          ...insert(po, index()),
        ]),
        // The rest: an element enters at the k-th slot only if it beats the k-th value.
        f.set(kth, f.i32Load(f.get(po), values.address + lastSlot)),
        f.loopTo(p, f.i32Add(f.get(px), f.i32Const(n * step)), step, [
          f.set(v, f.i32Load(f.get(p), x.address)),
          f.if(better(f.get(v), f.get(kth)), [
            f.set(slot, f.i32Add(f.get(po), f.i32Const(lastSlot))),
            ...insert(po, index()),
            f.set(kth, f.i32Load(f.get(po), values.address + lastSlot)),
          ]),
        ]),
      ];
    });
  },
};
