/**
 * 3-D Conv, ConvTranspose, MaxPool and AveragePool ([N, C, D, H, W] inputs) lowered onto detml's
 * 2-D ops, exactly. The depth axis is unfolded into channels: a constant table gives, for each
 * output depth o and kernel tap k, the input slice the tap reads (window.ts geometry), a Gather
 * copies those slices to [N, C, Do, kD, H, W], and the taps become channels c * kD + k of a 2-D
 * input [N * Do, C * kD, H, W] (channel groups stay contiguous). One 2-D Conv or ConvTranspose
 * with W reshaped to [M, C/g * kD, kH, kW] then sums every product of a 3-D window before its
 * single rounding, as a rank-5 kernel would. Taps on depth padding read one appended zero slice.
 * MaxPool takes the maximum over the depth taps (a padding tap repeats a real one of its window,
 * which leaves the maximum unchanged), then a 2-D MaxPool. AveragePool sums each window with a
 * Conv of unit weights (exact) and divides by its count (the product of the per-axis counts) in
 * one Div: divRound(sum, count), AveragePool's own rule, except that the window sum is held in
 * i32 first (it saturates beyond +-32768 at Q16, where a 2-D AveragePool keeps it in i64).
 */
import { axisCounts, axisTaps, resolveWindows, type AxisWindow, type WindowAttrs } from "../../lib/ops/window.js";
import { convTransposeGeometry, type ConvTransposeAttrs } from "../../lib/ops/conv-transpose.js";
import type { FoldAttrs } from "../common/fold.js";
import { constValue } from "../common/values.js";
import type { NodeCtx } from "./context.js";
import type { Handler } from "./handlers.js";
import { onlyAttributes } from "./quantized.js";

const VOLUME_RANK = 5;

/** Rank-5 inputs go to `lower`, ranks 3 and 4 to the 2-D handler `planar`, others are refused. */
export function volumetric(planar: Handler, lower: Handler): Handler {
  return (n) => {
    const rank = n.rank(0);
    if (rank === VOLUME_RANK) return lower(n);
    if (rank > VOLUME_RANK) throw new Error(`input X has rank ${rank}, ${n.opType} supports 1D, 2D and 3D: rank 3 [N,C,L], 4 [N,C,H,W] or 5 [N,C,D,H,W]`);
    planar(n);
  };
}

/** The node's window attributes over the three spatial axes. */
function windowAttrs(n: NodeCtx, kernel: number[]): WindowAttrs {
  return { auto_pad: n.string("auto_pad", "NOTSET"), kernel_shape: kernel, strides: n.ints("strides", []), pads: n.ints("pads", []), dilations: n.ints("dilations", []) };
}

/** The same attributes for the 2-D op over H and W (absent lists stay absent). */
function planarAttrs(a: WindowAttrs): FoldAttrs {
  const hw = (v: number[]) => (v.length ? v.slice(1) : []);
  const pads = a.pads.length ? [a.pads[1], a.pads[2], a.pads[4], a.pads[5]] : [];
  return { auto_pad: a.auto_pad, kernel_shape: a.kernel_shape.slice(1), strides: hw(a.strides), dilations: hw(a.dilations), pads };
}

/** The tap table of a depth window: row o lists the input slice of each tap, -1 on padding. */
function tapRows(w: AxisWindow): number[][] {
  const taps = axisTaps(w);
  return Array.from({ length: w.outSize }, (_, o) => Array.from(taps.subarray(o * w.kernel, (o + 1) * w.kernel)));
}

/** Gather the depth taps of x [N, C, D, H, W]: [N, C, Do, kD, H, W]; -1 taps read an appended zero slice. */
function gatherDepthTaps(n: NodeCtx, rows: number[][]): string {
  const depth = n.shape(0)[2];
  let source = n.input(0);
  if (rows.some((row) => row.includes(-1))) {
    [source] = n.emit("Pad", [source], { pads: [0, 0, 0, 0, 0, 0, 0, 1, 0, 0] });
    rows = rows.map((row) => row.map((i) => (i < 0 ? depth : i)));
  }
  const indices = n.addConst("depth_taps", constValue("int", [rows.length, rows[0].length], rows.flat()));
  return n.emit("Gather", [source, indices], { axis: 2 })[0];
}

/** The depth taps as channels: [N * Do, C * kD, H, W]. */
function depthAsChannels(n: NodeCtx, rows: number[][]): string {
  const [batch, channels, , height, width] = n.shape(0);
  const [moved] = n.emit("Transpose", [gatherDepthTaps(n, rows)], { perm: [0, 2, 1, 3, 4, 5] });
  return n.emit("Reshape", [moved], { shape: [batch * rows.length, channels * rows[0].length, height, width] })[0];
}

/** A 2-D result [N * Do, M, Ho, Wo] split to [N, Do, M, Ho, Wo]; DEPTH_BACK then moves Do after M. */
function splitBatch(n: NodeCtx, y: string, depthOut: number): string {
  const [, m, ho, wo] = n.shapeOf(y);
  return n.emit("Reshape", [y], { shape: [n.shape(0)[0], depthOut, m, ho, wo] })[0];
}

const DEPTH_BACK = { perm: [0, 2, 1, 3, 4] };

/** The weights W [M, C/g, kD, kH, kW] as a 5-D tensor's shape, checked. */
function weightShape(n: NodeCtx): number[] {
  const shape = n.shape(1);
  if (shape.length !== VOLUME_RANK) throw new Error(`weight W has rank ${shape.length}, a 3-D ${n.opType} needs rank 5`);
  const given = n.ints("kernel_shape", []);
  if (given.length && given.some((k, i) => k !== shape[2 + i])) {
    throw new Error(`attribute 'kernel_shape' [${given.join(",")}] differs from W's spatial shape [${shape.slice(2).join(",")}]`);
  }
  return shape;
}

export const conv3d: Handler = (n) => {
  onlyAttributes(n, ["auto_pad", "dilations", "group", "kernel_shape", "pads", "strides"]);
  const [m, perGroup, ...kernel] = weightShape(n);
  const group = n.int("group", 1);
  if (group < 1 || perGroup * group !== n.shape(0)[1] || m % group !== 0) {
    throw new Error(`W [${n.shape(1).join(",")}] in ${group} group(s) does not fit X's ${n.shape(0)[1]} channels (W must be [M, C/group, kD, kH, kW] with M divisible by group)`);
  }
  const attrs = windowAttrs(n, kernel);
  const [depth] = resolveWindows("Conv", n.shape(0).slice(2), kernel, attrs);
  const x = depthAsChannels(n, tapRows(depth));
  const [w] = n.emit("Reshape", [n.input(1)], { shape: [m, perGroup * kernel[0], kernel[1], kernel[2]] });
  const [y] = n.emit("Conv", n.hasInput(2) ? [x, w, n.input(2)] : [x, w], { ...planarAttrs(attrs), group });
  n.finish("Transpose", [splitBatch(n, y, depth.outSize)], DEPTH_BACK, undefined, 1);
};

/**
 * ConvTranspose: the depth geometry is ConvTranspose's own (a correlation over the stride-spaced
 * input with the kernel flipped), so the unfolded taps meet W flipped along depth, and the 2-D
 * ConvTranspose over H and W sums them with W as [C * kD, M/g, kH, kW].
 */
export const convTranspose3d: Handler = (n) => {
  onlyAttributes(n, ["auto_pad", "dilations", "group", "kernel_shape", "output_padding", "output_shape", "pads", "strides"]);
  const [channels, perGroup, ...kernel] = weightShape(n);
  const attrs: ConvTransposeAttrs = { ...windowAttrs(n, kernel), group: n.int("group", 1), output_padding: n.ints("output_padding", []), output_shape: n.ints("output_shape", []) };
  const first = (v: number[]) => v.slice(0, 1);
  const [batch, inChannels, depthIn] = n.shape(0);
  const depthAttrs: ConvTransposeAttrs = {
    ...attrs, kernel_shape: [], strides: first(attrs.strides), dilations: first(attrs.dilations), output_padding: first(attrs.output_padding),
    output_shape: first(attrs.output_shape), pads: attrs.pads.length ? [attrs.pads[0], attrs.pads[3]] : [],
  };
  const geometry = convTransposeGeometry({ shape: [batch, inChannels, depthIn], frac: 0 }, { shape: [channels, perGroup, kernel[0]], frac: 0 }, undefined, depthAttrs);
  const [depth] = geometry.windows;
  const x = depthAsChannels(n, tapRows(depth));
  const reversed = n.addConst("depth_reversed", constValue("int", [kernel[0]], Array.from({ length: kernel[0] }, (_, k) => kernel[0] - 1 - k)));
  const [flipped] = n.emit("Gather", [n.input(1), reversed], { axis: 2 });
  const [moved] = n.emit("Transpose", [flipped], { perm: [0, 2, 1, 3, 4] });
  const [w] = n.emit("Reshape", [moved], { shape: [channels * kernel[0], perGroup, kernel[1], kernel[2]] });
  const rest = (v: number[]) => (v.length ? v.slice(1) : []);
  const planar = {
    ...planarAttrs(attrs), group: attrs.group, output_padding: rest(attrs.output_padding), output_shape: rest(attrs.output_shape),
  };
  const [y] = n.emit("ConvTranspose", n.hasInput(2) ? [x, w, n.input(2)] : [x, w], planar);
  n.finish("Transpose", [splitBatch(n, y, depth.outSize)], DEPTH_BACK, undefined, 1);
};

/** Pool attributes: kernel, windows over D, H, W (ceil_mode applied) and the depth window. */
function poolGeometry(n: NodeCtx, known: string[]): { attrs: WindowAttrs; ceil: number; windows: AxisWindow[] } {
  onlyAttributes(n, known);
  const kernel = n.ints("kernel_shape");
  if (kernel.length !== 3 || kernel.some((k) => k < 1)) throw new Error(`attribute 'kernel_shape' [${kernel.join(",")}] must hold 3 sizes >= 1 (one per spatial axis of X)`);
  const attrs = windowAttrs(n, kernel);
  const ceil = n.int("ceil_mode", 0);
  return { attrs, ceil, windows: resolveWindows(n.opType, n.shape(0).slice(2), kernel, attrs, ceil === 1) };
}

export const maxPool3d: Handler = (n) => {
  const { attrs, ceil, windows } = poolGeometry(n, ["auto_pad", "ceil_mode", "dilations", "kernel_shape", "pads", "storage_order", "strides"]);
  const rows = tapRows(windows[0]).map((row, o) => {
    const real = row.find((i) => i >= 0);
    if (real === undefined) throw new Error(`depth window ${o} lies entirely in the padding, which is not supported (ONNX requires pads below the kernel size)`);
    return row.map((i) => (i < 0 ? real : i));
  });
  const [batch, channels, , height, width] = n.shape(0);
  const [depthMax] = n.emit("ReduceMax", [gatherDepthTaps(n, rows)], { axes: [3], keepdims: 0 });
  const [planes] = n.emit("Reshape", [depthMax], { shape: [batch, channels * rows.length, height, width] });
  const [pooled] = n.emit("MaxPool", [planes], { ...planarAttrs(attrs), ceil_mode: ceil });
  const [, , ho, wo] = n.shapeOf(pooled);
  n.finish("Reshape", [pooled], { shape: [batch, channels, rows.length, ho, wo] }, undefined, 1);
};

export const averagePool3d: Handler = (n) => {
  const { attrs, windows } = poolGeometry(n, ["auto_pad", "ceil_mode", "count_include_pad", "dilations", "kernel_shape", "pads", "strides"]);
  const includePad = n.int("count_include_pad", 0);
  if (includePad !== 0 && includePad !== 1) throw new Error(`attribute 'count_include_pad' must be 0 or 1, got ${includePad}`);
  const channels = n.shape(0)[1];
  const [kd, kh, kw] = attrs.kernel_shape;
  // The window sums: a Conv over H and W with the resolved pads (ceil_mode's extra end positions
  // as padding, which adds zeros), unit weights, one output per channel.
  const [, rowW, colW] = windows;
  const endPad = (w: AxisWindow) => Math.max(w.padEnd, (w.outSize - 1) * w.stride + (w.kernel - 1) * w.dilation + 1 - w.inSize - w.padBegin);
  const ones = n.addConst("unit_weights", constValue("float", [channels, kd, kh, kw], n.guard.alloc([channels, kd, kh, kw], "the AveragePool unit weights").fill(1)));
  const x = depthAsChannels(n, tapRows(windows[0]));
  const sumAttrs = {
    ...planarAttrs(attrs), auto_pad: "NOTSET", pads: [rowW.padBegin, colW.padBegin, endPad(rowW), endPad(colW)], group: channels,
  };
  const [sums] = n.emit("Conv", [x, ones], sumAttrs);
  n.guard.elements(windows.map((w) => w.outSize), "the AveragePool window counts");
  const counts = windows.map((w) => axisCounts(w, includePad === 1));
  const [cd, ch, cw] = counts;
  const divisors = Array.from({ length: cd.length * ch.length * cw.length }, (_, i) =>
    cd[Math.floor(i / (ch.length * cw.length))] * ch[Math.floor(i / cw.length) % ch.length] * cw[i % cw.length]);
  const count = n.addConst("window_counts", constValue("int", [cd.length, ch.length, cw.length], divisors));
  const [sumsByDepth] = n.emit("Transpose", [splitBatch(n, sums, cd.length)], DEPTH_BACK);
  n.finish("Div", [sumsByDepth, count], {}, undefined, 1);
};
