/**
 * The ONNX indexing ops as exact compositions of detml ops (no new kernel): ScatterND,
 * ScatterElements and Scatter (opsets 9-10), MaxUnpool, ReverseSequence and Compress. Every
 * scatter becomes one scatter of rows: updates U [M, R] into the rows of data D [P, R] at the
 * run-time flat row indices I [M] (negative indices wrapped by a floor Mod, as ONNX allows). Rows
 * are matched by a one-hot mask Equal(I [M, 1], 0..P-1), so no index is ever used as an address
 * and an index out of range writes nothing. Reduction none keeps the LAST update of each row (the
 * order a sequential scatter gives) by taking the largest matching position 1..M; add sums the
 * matching updates (exact); max and min reduce them (exact selections); mul multiplies in update
 * order, one Mul (one rounding) per update. The mask costs M x P elements, so scatters whose
 * M x P exceeds MASK_LIMIT are refused with that reason. ReverseSequence picks each output time
 * step from the source step len-1-t (t < len) or t by the same kind of mask; Compress needs a
 * constant condition (its output size is the number of true values).
 */
import { sizeOf, stridesOf } from "../../lib/tensor/shape.js";
import { constValue, scalar } from "../common/values.js";
import type { NodeCtx } from "./context.js";
import type { Handler } from "./handlers.js";

/** Largest one-hot mask (elements) a scatter may build: keeps the composition's cost bounded. */
const MASK_LIMIT = 1 << 22;

type Reduction = "none" | "add" | "mul" | "max" | "min";
const REDUCTIONS: readonly Reduction[] = ["none", "add", "mul", "max", "min"];

/** Q16 extremes used as the neutral operand of max/min (Where rescales them to the graph frac). */
const LOWEST = -32768;
const HIGHEST = 32767;

const ramp = (count: number, from = 0) => Array.from({ length: count }, (_, i) => from + i);

function reductionOf(n: NodeCtx): Reduction {
  const r = n.string("reduction", "none") as Reduction;
  if (!REDUCTIONS.includes(r)) throw new Error(`reduction '${r}' is not one of ${REDUCTIONS.join(", ")}`);
  return r;
}

/**
 * Scatter updates [M, R] (value `updates`) into data [P, R] (value `data`) at flat row indices
 * [M] (value `rows`), reduced by `reduction`; returns the [P, R] result.
 */
function scatterRows(n: NodeCtx, data: string, updates: string, rows: string, [m, p, r]: number[], reduction: Reduction): string {
  checkMask(m, p);
  if (m === 0) return data;
  const [column] = n.emit("Reshape", [rows], { shape: [m, 1] });
  const [mask] = n.emit("Equal", [column, n.addConst("rows", constValue("int", [1, p], ramp(p)))], {}, "bool");
  const [mask3] = n.emit("Reshape", [mask], { shape: [m, p, 1] });
  const [spread] = n.emit("Reshape", [updates], { shape: [m, 1, r] });
  const zero = n.addConst("zero", scalar("int", 0));
  // [P, 1]: whether any update targets the row (emitted only by the reductions that need it).
  const hit = (): string => {
    const [any] = n.emit("ReduceMax", [n.emit("Where", [mask, n.addConst("one", scalar("int", 1)), zero], {}, "int")[0]], { axes: [0], keepdims: 1 });
    return n.emit("Reshape", [any], { shape: [p, 1] })[0];
  };
  if (reduction === "add") {
    const [sum] = n.emit("ReduceSum", [n.emit("Where", [mask3, spread, zero])[0]], { axes: [0], keepdims: 0 });
    return n.emit("Add", [data, sum])[0];
  }
  if (reduction === "max" || reduction === "min") {
    const neutral = n.addConst("neutral", scalar("float", reduction === "max" ? LOWEST : HIGHEST));
    const [best] = n.emit(reduction === "max" ? "ReduceMax" : "ReduceMin", [n.emit("Where", [mask3, spread, neutral])[0]], { axes: [0], keepdims: 0 });
    const [combined] = n.emit(reduction === "max" ? "Max" : "Min", [data, best]);
    return n.emit("Where", [hit(), combined, data])[0];
  }
  if (reduction === "mul") {
    let out = data;
    for (let i = 0; i < m; i++) {
      const [maskRow] = n.emit("Slice", [mask3], { starts: [i], ends: [i + 1], axes: [0], steps: [1] });
      const [rowHit] = n.emit("Reshape", [maskRow], { shape: [p, 1] });
      const [update] = n.emit("Slice", [updates], { starts: [i], ends: [i + 1], axes: [0], steps: [1] });
      [out] = n.emit("Where", [rowHit, n.emit("Mul", [out, update])[0], out]);
    }
    return out;
  }
  // none: the winner of each row is its last matching update, at position last in 1..M.
  const positions = n.addConst("positions", constValue("int", [m, 1], ramp(m, 1)));
  const [last] = n.emit("ReduceMax", [n.emit("Where", [mask, positions, zero], {}, "int")[0]], { axes: [0], keepdims: 1 });
  const [winner] = n.emit("Equal", [positions, last], {}, "bool");
  const [winner3] = n.emit("Reshape", [winner], { shape: [m, p, 1] });
  const [picked] = n.emit("ReduceSum", [n.emit("Where", [winner3, spread, zero])[0]], { axes: [0], keepdims: 0 });
  const [written] = n.emit("Reshape", [n.emit("Greater", [last, zero], {}, "bool")[0]], { shape: [p, 1] });
  return n.emit("Where", [written, picked, data])[0];
}

function checkMask(m: number, p: number): void {
  if (m * p > MASK_LIMIT) throw new Error(`a scatter of ${m} updates into ${p} rows needs a ${m}x${p} one-hot mask, above the ${MASK_LIMIT}-element limit of this composition`);
}

/** Indices wrapped into 0..dims-1 (a negative index counts from the end) by a floor Mod. */
function wrapped(n: NodeCtx, indices: string, dims: number[], shape: number[]): string {
  return n.emit("Mod", [indices, n.addConst("dims", constValue("int", shape, dims))], { fmod: 0 }, "int")[0];
}

/** ScatterND(data, indices [..., K], updates): rows of data addressed by the first K axes. */
export const scatterND: Handler = (n) => {
  const dims = n.shape(0);
  const indexShape = n.shape(1);
  const k = indexShape[indexShape.length - 1];
  if (k > dims.length) throw new Error(`indices address ${k} axes of a rank-${dims.length} data`);
  const m = sizeOf(indexShape.slice(0, -1));
  const [p, r] = [sizeOf(dims.slice(0, k)), sizeOf(dims.slice(k))];
  const strides = stridesOf(dims.slice(0, k));
  const index = wrapped(n, n.input(1), dims.slice(0, k), [k]);
  const [offsets] = n.emit("Mul", [index, n.addConst("strides", constValue("int", [k], strides))], {}, "int");
  const [rows] = n.emit("ReduceSum", [offsets], { axes: [indexShape.length - 1], keepdims: 0 }, "int");
  const [data] = n.emit("Reshape", [n.input(0)], { shape: [p, r] });
  const [updates] = n.emit("Reshape", [n.input(2)], { shape: [m, r] });
  const out = scatterRows(n, data, updates, rows, [m, p, r], reductionOf(n));
  n.finish("Reshape", [out], { shape: dims });
};

/**
 * ScatterElements / Scatter (data, indices, updates) along `axis`: the element at position s of
 * indices goes to data's flat position sum_{i != axis} s_i * stride_i + index * stride_axis.
 */
export const scatterElements: Handler = (n) => {
  const dims = n.shape(0);
  const shape = n.shape(1);
  const rank = dims.length;
  const axis = ((n.int("axis", 0) % rank) + rank) % rank;
  checkMask(sizeOf(shape), sizeOf(dims));
  const strides = stridesOf(dims);
  const fixedPart = new Array<number>(sizeOf(shape)).fill(0);
  const positionStrides = stridesOf(shape);
  fixedPart.forEach((_, flat) => {
    for (let i = 0; i < rank; i++) if (i !== axis) fixedPart[flat] += (Math.floor(flat / positionStrides[i]) % shape[i]) * strides[i];
  });
  const index = wrapped(n, n.input(1), [dims[axis]], [1]);
  const [offset] = n.emit("Mul", [index, n.addConst("stride", scalar("int", strides[axis]))], {}, "int");
  const [rows] = n.emit("Add", [offset, n.addConst("positions", constValue("int", shape, fixedPart))], {}, "int");
  const [data] = n.emit("Reshape", [n.input(0)], { shape: [sizeOf(dims), 1] });
  const out = scatterRows(n, data, n.input(2), rows, [sizeOf(shape), sizeOf(dims), 1], reductionOf(n));
  n.finish("Reshape", [out], { shape: dims });
};

/**
 * MaxUnpool(X, I, output_shape?): each value of X lands at its flat index I into a zero tensor
 * of the shape implied by the kernel, strides and pads, then padded with zeros at the end of each
 * axis to output_shape (a constant) when given, as onnxruntime does.
 */
export const maxUnpool: Handler = (n) => {
  const xShape = n.shape(0);
  const spatial = xShape.length - 2;
  const kernel = n.ints("kernel_shape");
  const strides = n.ints("strides", new Array<number>(spatial).fill(1));
  const pads = n.ints("pads", new Array<number>(2 * spatial).fill(0));
  const pooledFrom = [...xShape.slice(0, 2), ...xShape.slice(2).map((d, i) => (d - 1) * strides[i] + kernel[i] - pads[i] - pads[i + spatial])];
  const size = sizeOf(pooledFrom);
  const zeros = n.addConst("zeros", constValue("float", [size, 1], new Array<number>(size).fill(0)));
  const out = scatterRows(n, zeros, n.input(0), n.input(1), [sizeOf(xShape), size, 1], "none");
  if (!n.hasInput(2)) return n.finish("Reshape", [out], { shape: pooledFrom });
  // A larger output_shape keeps the indices of the implied shape and pads zeros at the ends.
  const target = n.constInts(2, "output_shape");
  if (target.length !== pooledFrom.length || target.some((d, i) => d < pooledFrom[i] || (i < 2 && d !== pooledFrom[i]))) {
    throw new Error(`output_shape [${target.join(",")}] is smaller than the implied [${pooledFrom.join(",")}] or changes N or C`);
  }
  const [unpooled] = n.emit("Reshape", [out], { shape: pooledFrom });
  n.finish("Pad", [unpooled], { pads: [...pooledFrom.map(() => 0), ...target.map((d, i) => d - pooledFrom[i])], mode: "constant" });
};

/**
 * ReverseSequence(input, sequence_lens): along time_axis, the first len_b steps of batch b in
 * reverse order, the rest unchanged. Output step t reads source step len_b-1-t (t < len_b) or t,
 * selected from the T source steps by a one-hot mask [T, T, B] and an exact sum.
 */
export const reverseSequence: Handler = (n) => {
  const shape = n.shape(0);
  const timeAxis = n.int("time_axis", 0);
  const batchAxis = n.int("batch_axis", 1);
  if (new Set([timeAxis, batchAxis]).size !== 2 || ![0, 1].includes(timeAxis) || ![0, 1].includes(batchAxis)) {
    throw new Error(`time_axis ${timeAxis} and batch_axis ${batchAxis} must be 0 and 1 in some order`);
  }
  const rest = shape.slice(2);
  const swap = timeAxis === 1;
  const perm = [1, 0, ...ramp(rest.length, 2)];
  const [x] = swap ? n.emit("Transpose", [n.input(0)], { perm }) : [n.input(0)];
  const [t, b] = swap ? [shape[1], shape[0]] : [shape[0], shape[1]];
  const steps = n.addConst("steps", constValue("int", [t, 1], ramp(t)));
  const [lens] = n.emit("Reshape", [n.input(1)], { shape: [1, b] });
  const [reversed] = n.emit("Sub", [n.emit("Sub", [lens, n.addConst("one", scalar("int", 1))], {}, "int")[0], steps], {}, "int");
  const [inside] = n.emit("Less", [steps, lens], {}, "bool");
  const [source] = n.emit("Where", [inside, reversed, steps], {}, "int");
  const [sourceColumn] = n.emit("Reshape", [source], { shape: [t, 1, b] });
  const [mask] = n.emit("Equal", [sourceColumn, n.addConst("sources", constValue("int", [1, t, 1], ramp(t)))], {}, "bool");
  const [mask4] = n.emit("Reshape", [mask], { shape: [t, t, b, 1] });
  const [values] = n.emit("Reshape", [x], { shape: [1, t, b, sizeOf(rest)] });
  const [picked] = n.emit("ReduceSum", [n.emit("Where", [mask4, values, n.addConst("zero", scalar("int", 0))])[0]], { axes: [1], keepdims: 0 });
  if (!swap) return n.finish("Reshape", [picked], { shape });
  const [unswapped] = n.emit("Reshape", [picked], { shape: [t, b, ...rest] });
  n.finish("Transpose", [unswapped], { perm });
};

/** Compress(input, condition): Gather of the true positions, which must be known at conversion. */
export const compress: Handler = (n) => {
  const condition = n.constant(1);
  if (!condition) throw new Error("input 1 (condition) computed at run time is not supported: the output's size is the number of true values, and detml graphs have static shapes (it must be a constant)");
  const axis = n.has("axis") ? n.int("axis") : undefined;
  const length = axis === undefined ? sizeOf(n.shape(0)) : n.shape(0)[((axis % n.rank(0)) + n.rank(0)) % n.rank(0)];
  const kept = ramp(Math.min(length, condition.data.length)).filter((i) => condition.data[i] !== 0);
  const [data] = axis === undefined ? n.emit("Reshape", [n.input(0)], { shape: [length] }) : [n.input(0)];
  n.finish("Gather", [data, n.addConst("kept", constValue("int", [kept.length], kept))], { axis: axis ?? 0 });
};
