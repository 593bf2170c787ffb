/**
 * Pad (ONNX semantics; pads, value and axes as attributes). `pads` lists the amounts added
 * before every padded axis, then those added after: [x1_begin, x2_begin, ..., x1_end, x2_end,
 * ...]. Modes: constant (the `value` attribute, a fixed-point Q16 number rescaled to the data's
 * frac), edge (repeat the border value), reflect (mirror without repeating the border, bouncing
 * back and forth when the pad is longer than the axis, as numpy does). A negative pad removes
 * that many elements; as in onnxruntime the removal happens first and edge/reflect padding then
 * uses the border of what remains. A pure copy: the output keeps the input's frac.
 */
import { rescale } from "../tensor/fixed.js";
import { stridesOf, type Shape } from "../tensor/shape.js";
import type { Tensor } from "../tensor/tensor.js";
import { axisOffsets, clamp, copyByAxes, floorDiv, showList } from "./axis-copy.js";
import { ATTR_FRAC, check, defineOp, resolveAttrs } from "./op.js";
import { uniqueAxes } from "./reshape.js";

export const PAD_MODES = ["constant", "reflect", "edge"] as const;
export type PadAttrs = { pads: number[]; mode: (typeof PAD_MODES)[number]; value: number; axes: number[] };

/** What one axis becomes: `kept` input elements from `first`, `before` and `after` pads around them. */
interface AxisPad {
  first: number;
  kept: number;
  before: number;
  after: number;
}


/** Resolve the pads of every input axis (zero on axes not listed in `axes`). */
export function axisPads(shape: Shape, a: PadAttrs): AxisPad[] {
  const rank = shape.length;
  const axes = a.axes.length > 0 ? uniqueAxes("Pad", a.axes, rank) : [...Array(rank).keys()];
  check(a.pads.length === 2 * axes.length,
    `Pad attribute 'pads' ${showList(a.pads)} has ${a.pads.length} entries, expected ${2 * axes.length} (begin and end for ${axes.length} axes)`);
  const begin = new Array<number>(rank).fill(0);
  const end = new Array<number>(rank).fill(0);
  axes.forEach((axis, k) => {
    begin[axis] = a.pads[k];
    end[axis] = a.pads[k + axes.length];
  });
  return shape.map((dim, d) => {
    const first = Math.max(0, -begin[d]);
    const kept = dim - first - Math.max(0, -end[d]);
    check(kept >= 0, `Pad removes ${dim - kept} elements from axis ${d} of size ${dim}`);
    const before = Math.max(0, begin[d]);
    const after = Math.max(0, end[d]);
    check(a.mode === "constant" || kept > 0 || before + after === 0,
      `Pad mode ${a.mode} cannot extend axis ${d}: it has no elements to repeat`);
    return { first, kept, before, after };
  });
}

export function padShape(shape: Shape, a: PadAttrs): number[] {
  return axisPads(shape, a).map((p) => p.before + p.kept + p.after);
}

/** Input coordinate read at output position `i` of a padded axis, or -1 for the constant. */
function sourceCoord(p: AxisPad, mode: PadAttrs["mode"], i: number): number {
  const q = i - p.before;
  if (q >= 0 && q < p.kept) return p.first + q;
  if (mode === "constant") return -1;
  if (mode === "edge" || p.kept === 1) return p.first + clamp(q, 0, p.kept - 1);
  const period = 2 * (p.kept - 1);
  const m = q - period * floorDiv(q, period);
  return p.first + (m < p.kept ? m : period - m);
}

export function pad(x: Tensor, pads: readonly number[], attrs: Partial<Omit<PadAttrs, "pads">> = {}): Tensor {
  const a = resolveAttrs(Pad, { ...attrs, pads: [...pads] });
  const strides = stridesOf(x.shape);
  const offsets = axisPads(x.shape, a).map((p, d) =>
    axisOffsets(p.before + p.kept + p.after, strides[d], (i) => sourceCoord(p, a.mode, i)));
  return copyByAxes(x, offsets, rescale(a.value, ATTR_FRAC, x.frac));
}

export const Pad = defineOp<PadAttrs>({
  kind: "Pad",
  summary: "pad (or crop, with negative pads) the borders of axes: constant, edge or reflect",
  inputs: ["data"],
  attrs: {
    pads: { type: "ints", doc: "[begin per axis..., end per axis...]; negative removes elements" },
    mode: { type: "enum", values: PAD_MODES, default: "constant", doc: "constant | reflect | edge" },
    value: { type: "fixed", default: 0, doc: "the constant-mode fill value (Q16)" },
    axes: { type: "ints", default: [], doc: "the padded axes; empty: all, in order" },
  },
  outputs: () => 1,
  infer: ([x], a) => [{ shape: padShape(x.shape, a), frac: x.frac }],
  run: ([x], a) => [pad(x, a.pads, a)],
});
