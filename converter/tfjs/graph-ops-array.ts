/**
 * The TensorFlow op registry, part 2: shapes and data movement (Identity, Shape, Reshape, Squeeze,
 * ExpandDims, ConcatV2, Pack/Unpack, Split, Pad/PadV2/MirrorPad, Transpose, Slice, StridedSlice
 * with all five masks, GatherV2, GatherNd, Tile, BroadcastTo, Cast, ArgMax, TopKV2). Shape-like
 * operands must be constants (a Shape of a static tensor is one, so the usual Shape ->
 * StridedSlice -> Pack -> Reshape chains of exported models fold away). Ops that keep axes (pads,
 * slices, concat, squeeze, transpose, TopKV2) work in their input's layout; the others use the TF
 * layout.
 */
import { normAxis } from "../../lib/tensor/shape.js";
import { checkOutputCount } from "../common/size-guard.js";
import { filled, intVector } from "../common/values.js";
import { valueClassOfDtype, type TfNodeCtx } from "./graph-context.js";
import type { TfHandler } from "./graph-ops.js";

/** Sentinels for "to the end" in Slice ends (the IR clamps them like ONNX's INT_MAX/INT_MIN). */
const TO_END = 2147483647;
const TO_START = -2147483648;

const identity: TfHandler = (n) => n.set(0, n.input(0));

const identityN: TfHandler = (n) => n.inputs().forEach((v, i) => n.set(i, v));

const shape: TfHandler = (n) => n.setConst(intVector(n.shape(0)));

const reshape: TfHandler = (n) => {
  const target = n.constInts(1, "shape");
  if (target.includes(0)) throw new Error(`shape [${target.join(",")}] has a 0 dimension: empty tensors are not supported`);
  n.set(0, n.b.tfOp("Reshape", [n.input(0)], { shape: target }, n.name));
};

const squeeze: TfHandler = (n) => {
  const dims = n.shape(0);
  const given = n.ints("squeeze_dims", n.ints("axis"));
  const axes = given.length ? given.map((a) => normAxis(a, dims.length)) : dims.flatMap((d, i) => (d === 1 ? [i] : []));
  for (const a of axes) if (dims[a] !== 1) throw new Error(`cannot squeeze axis ${a} of size ${dims[a]}`);
  n.set(0, n.b.squeeze(n.input(0), [...new Set(axes)], n.name));
};

const expandDims: TfHandler = (n) => {
  const [axis] = n.constInts(1, "dim");
  n.set(0, n.b.tfOp("Unsqueeze", [n.input(0)], { axes: [normAxis(axis, n.rank(0) + 1)] }, n.name));
};

function concat(axisFirst: boolean): TfHandler {
  return (n) => {
    const values = n.inputs();
    const axisIndex = axisFirst ? 0 : values.length - 1;
    const [axis] = n.constInts(axisIndex, "axis");
    const parts = values.filter((_, i) => i !== axisIndex);
    n.set(0, n.b.concat(parts, normAxis(axis, n.b.rank(parts[0])), n.name));
  };
}

const pack: TfHandler = (n) => {
  const values = n.inputs();
  const axis = normAxis(n.int("axis", 0), n.b.rank(values[0]) + 1);
  const expanded = values.map((v, i) => n.b.tfOp("Unsqueeze", [v], { axes: [axis] }, `${n.name}/${i}`));
  n.set(0, n.b.concat(expanded, axis, n.name));
};

const unpack: TfHandler = (n) => {
  const x = n.input(0);
  const rank = n.b.rank(x);
  const axis = normAxis(n.int("axis", 0), rank);
  const count = checkOutputCount(n.shape(0)[axis], `an axis of length`);
  const parts = n.b.op("Split", [n.b.tf(x)], { axis, num_outputs: count }, n.name);
  parts.forEach((p, i) => n.set(i, n.b.squeeze(n.b.value(p), [axis], `${n.name}/${i}`)));
};

/** Split (axis, value; num_split) and SplitV (value, size_splits, axis). */
function split(v: boolean): TfHandler {
  return (n) => {
    const x = n.input(v ? 0 : 1);
    const rank = n.b.rank(x);
    const [axis] = n.constInts(v ? 2 : 0, "axis");
    const a = normAxis(axis, rank);
    const dim = n.b.shape(x)[a];
    const count = v ? 0 : checkOutputCount(n.int("num_split"), "num_split");
    let sizes = v ? n.constInts(1, "size_splits") : new Array<number>(count).fill(dim / count);
    if (sizes.includes(-1)) sizes = sizes.map((s) => (s === -1 ? dim - sizes.reduce((t, q) => t + (q === -1 ? 0 : q), 0) : s));
    const parts = n.b.op("Split", [x.name], { axis: n.b.axis(x, a), split: sizes }, n.name);
    parts.forEach((p, i) => n.set(i, n.b.value(p, x.perm)));
  };
}

function paddings(n: TfNodeCtx): [number, number][] {
  const p = n.constInts(1, "paddings");
  const rank = n.rank(0);
  if (p.length !== 2 * rank) throw new Error(`paddings must be [${rank}, 2], got ${p.length} values`);
  return Array.from({ length: rank }, (_, a) => [p[2 * a], p[2 * a + 1]]);
}

const pad: TfHandler = (n) => {
  const value = n.inputCount > 2 ? n.requireConst(2, "constant_values").data[0] : 0;
  n.set(0, n.b.pad(n.input(0), paddings(n), { mode: "constant", value }, n.name));
};

/** MirrorPad: REFLECT excludes the edge value (IR Pad reflect); SYMMETRIC repeats it (slices + concat). */
const mirrorPad: TfHandler = (n) => {
  const mode = n.str("mode");
  const pads = paddings(n);
  if (mode === "REFLECT") return n.set(0, n.b.pad(n.input(0), pads, { mode: "reflect" }, n.name));
  if (mode !== "SYMMETRIC") throw new Error(`mode '${mode}' is not supported (REFLECT, SYMMETRIC)`);
  let x = n.input(0);
  pads.forEach(([before, after], axis) => {
    if (before === 0 && after === 0) return;
    const shape = n.b.shape(x);
    const full = (start: number, end: number, step: number) => {
      const starts = shape.map(() => 0);
      const ends = shape.map((d) => d);
      const steps = shape.map(() => 1);
      [starts[axis], ends[axis], steps[axis]] = [start, end, step];
      return n.b.slice(x, starts, ends, steps, `${n.name}/mirror${axis}`);
    };
    // The first `before` values reversed, then x, then the last `after` values reversed.
    const parts = [
      ...(before > 0 ? [full(before - 1, TO_START, -1)] : []),
      x,
      ...(after > 0 ? [full(shape[axis] - 1, shape[axis] - 1 - after < 0 ? TO_START : shape[axis] - 1 - after, -1)] : []),
    ];
    x = n.b.concat(parts, axis, `${n.name}/axis${axis}`);
  });
  n.set(0, x);
};

const transpose: TfHandler = (n) => {
  const perm = n.constInts(1, "perm");
  if (perm.length !== n.rank(0)) throw new Error(`perm [${perm.join(",")}] does not match rank ${n.rank(0)}`);
  n.set(0, n.b.transpose(n.input(0), perm, n.name));
};

const slice: TfHandler = (n) => {
  const dims = n.shape(0);
  const begin = n.constInts(1, "begin");
  const size = n.constInts(2, "size");
  const ends = size.map((s, a) => (s === -1 ? dims[a] : begin[a] + s));
  n.set(0, n.b.slice(n.input(0), begin, ends, dims.map(() => 1), n.name));
};

/**
 * StridedSlice with TF's sparse spec: begin/end/strides per spec entry, an ellipsis standing for
 * the axes not mentioned, new axes inserted, shrunk axes removed, masked begins/ends meaning
 * "from the start"/"to the end" in the stride's direction.
 */
const stridedSlice: TfHandler = (n) => {
  const dims = n.shape(0);
  const [begin, end, strides] = [n.constInts(1, "begin"), n.constInts(2, "end"), n.constInts(3, "strides")];
  const bit = (mask: string, i: number) => ((n.int(mask, 0) >> i) & 1) === 1;
  const ellipses = begin.filter((_, i) => bit("ellipsis_mask", i)).length;
  if (ellipses > 1) throw new Error("more than one ellipsis");
  const consuming = begin.filter((_, i) => !bit("new_axis_mask", i) && !bit("ellipsis_mask", i)).length;
  const starts = dims.map(() => 0);
  const ends = [...dims];
  const steps = dims.map(() => 1);
  const shrink: number[] = [];
  const outShape: number[] = [];
  let axis = 0;
  const keepAxis = () => {
    outShape.push(-1);
    axis++;
  };
  begin.forEach((_, i) => {
    if (bit("ellipsis_mask", i)) {
      const count = dims.length - consuming;
      for (let k = 0; k < count; k++) keepAxis();
      return;
    }
    if (bit("new_axis_mask", i)) return void outShape.push(1);
    if (axis >= dims.length) throw new Error(`slice spec has more axes than the input's rank ${dims.length}`);
    const step = strides[i];
    if (step === 0) throw new Error("stride 0");
    if (bit("shrink_axis_mask", i)) {
      const at = begin[i] < 0 ? begin[i] + dims[axis] : begin[i];
      if (at < 0 || at >= dims[axis]) throw new Error(`index ${begin[i]} is out of range for axis ${axis} of size ${dims[axis]}`);
      [starts[axis], ends[axis], steps[axis]] = [at, at + 1, 1];
      shrink.push(axis++);
      return;
    }
    starts[axis] = bit("begin_mask", i) ? (step > 0 ? 0 : TO_END) : begin[i];
    ends[axis] = bit("end_mask", i) ? (step > 0 ? TO_END : TO_START) : end[i];
    steps[axis] = step;
    keepAxis();
  });
  while (axis < dims.length) keepAxis();
  const sliced = n.b.slice(n.input(0), starts, ends, steps, n.name);
  const squeezed = n.b.squeeze(sliced, shrink, `${n.name}/shrink`);
  if (!outShape.includes(1) || outShape.every((d) => d === -1)) return n.set(0, squeezed);
  const kept = n.b.shape(squeezed);
  let k = 0;
  const target = outShape.map((d) => (d === 1 ? 1 : kept[k++]));
  n.set(0, n.b.tfOp("Reshape", [squeezed], { shape: target }, `${n.name}/new_axis`));
};

const gather: TfHandler = (n) => {
  if (n.int("batch_dims", 0) !== 0) throw new Error("batch_dims other than 0 is not supported");
  const params = n.input(0);
  const axis = n.inputCount > 2 ? n.constInts(2, "axis")[0] : 0;
  n.set(0, n.b.tfOp("Gather", [params, n.input(1)], { axis: normAxis(axis, n.b.rank(params)) }, n.name));
};

const gatherNd: TfHandler = (n) => n.set(0, n.b.tfOp("GatherND", [n.input(0), n.input(1)], {}, n.name));

const tile: TfHandler = (n) => n.set(0, n.b.tfOp("Tile", [n.input(0)], { repeats: n.constInts(1, "multiples") }, n.name));

const broadcastTo: TfHandler = (n) => n.set(0, n.b.tfOp("Expand", [n.input(0)], { shape: n.constInts(1, "shape") }, n.name));

/** Cast: constants are converted; at run time only casts that change no value (float<->float, int/bool -> float...). */
const cast: TfHandler = (n) => {
  const to = valueClassOfDtype(n.type("DstT"));
  if (!to) throw new Error(`Cast to ${n.type("DstT")} is not supported`);
  const x = n.input(0);
  if (n.constant(0)) return n.set(0, n.b.tfOp("Cast", [x], { to }, n.name));
  const from = n.b.dtype(x);
  if (from === to || to === "float" || (from === "bool" && to === "int")) return n.set(0, x);
  throw new Error(`Cast of a run-time ${from} tensor to ${n.type("DstT")} is not supported`);
};

const argMax: TfHandler = (n) => {
  const [axis] = n.constInts(1, "dimension");
  n.set(0, n.b.tfOp("ArgMax", [n.input(0)], { axis: normAxis(axis, n.rank(0)), keepdims: 0 }, n.name, "int"));
};

/** TopKV2: TopK over the last TF axis, largest first, in the input's layout; k must be a constant. */
const topKV2: TfHandler = (n) => {
  const x = n.input(0);
  const [k] = n.constInts(1, "k");
  const attrs = { k, axis: n.b.axis(x, n.rank(0) - 1), sorted: n.bool("sorted", true) ? 1 : 0 };
  const [values, indices] = n.b.op("TopK", [x.name], attrs, n.name, [n.b.dtype(x), "int"]);
  n.set(0, n.b.value(values, x.perm));
  n.set(1, n.b.value(indices, x.perm));
};

const zerosLike: TfHandler = (n) => {
  const dims = n.shape(0);
  n.setConst(filled(n.b.db.guard, n.b.dtype(n.input(0)), dims, 0, "folding"));
};

export const ARRAY_OPS: Readonly<Record<string, TfHandler>> = {
  Identity: identity,
  IdentityN: identityN,
  StopGradient: identity,
  Snapshot: identity,
  PreventGradient: identity,
  Shape: shape,
  Reshape: reshape,
  Squeeze: squeeze,
  ExpandDims: expandDims,
  ConcatV2: concat(false),
  Concat: concat(true),
  Pack: pack,
  Unpack: unpack,
  Split: split(false),
  SplitV: split(true),
  Pad: pad,
  PadV2: pad,
  MirrorPad: mirrorPad,
  Transpose: transpose,
  Slice: slice,
  StridedSlice: stridedSlice,
  GatherV2: gather,
  Gather: gather,
  GatherNd: gatherNd,
  Tile: tile,
  BroadcastTo: broadcastTo,
  Cast: cast,
  ArgMax: argMax,
  TopKV2: topKV2,
  ZerosLike: zerosLike,
};
