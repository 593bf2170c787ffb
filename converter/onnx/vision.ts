/**
 * ONNX Resize beyond handlers.ts's `resize` (which keeps nearest and linear with sizes or with
 * scales that give whole sizes): mode cubic becomes the IR op ResizeCubic
 * (lib/ops/resize-cubic.ts: Keys' kernel with cubic_coeff_a and exclude_outside), and scales that
 * give no whole size follow ONNX's rule: the output size is floor(in * scale) and coordinates
 * use the scale itself, as the exact ratio 1/scale = 2^e/m of the float32 scale m·2^-e (IR
 * attribute `scale_ratios`). Nearest by such a scale is a Gather of constant indices per axis
 * (computed by the reference's own nearestIndex). tf_crop_and_resize (a region of interest in
 * float coordinates) and antialias are refused with their reason.
 */
import { axisMap, nearestIndex, type ResizeAttrs } from "../../lib/ops/resize.js";
import { materialize, round } from "../common/composite-math.js";
import { constValue } from "../common/values.js";
import { composer } from "./composite-shared.js";
import type { NodeCtx } from "./context.js";
import { resize as resizeNearestLinear, type Handler } from "./handlers.js";

type Coordinates = ResizeAttrs["coordinate_transformation_mode"];

/** 1/scale as [q, p] in lowest terms, q a power of two, for a float32 scale (exact in a double). */
function inverseRatio(scale: number): [number, number] {
  let [numerator, power] = [scale, 1];
  while (!Number.isInteger(numerator)) [numerator, power] = [numerator * 2, power * 2];
  while (numerator % 2 === 0 && power % 2 === 0) [numerator, power] = [numerator / 2, power / 2];
  return [power, numerator];
}

interface Target {
  sizes: number[];
  /** [qH, pH, qW, pW] when a scale gives no whole size; empty otherwise (coordinates use in/out). */
  ratios: number[];
}

/** The output shape from `sizes`, or from `scales` (optionally over `axes`) with their ratios. */
function target(n: NodeCtx): Target {
  const dims = n.shape(0);
  const rank = dims.length;
  const axes = (n.has("axes") ? n.ints("axes") : dims.map((_, i) => i)).map((a) => (a + rank) % rank);
  const sized = n.hasInput(3) && n.requireConst(3, "sizes").data.length > 0;
  const given = sized ? n.constInts(3, "sizes") : Array.from(n.requireConst(2, "scales").data);
  const sizes = [...dims];
  const scales = dims.map(() => 1);
  axes.forEach((axis, i) => (sized ? (sizes[axis] = given[i]) : (scales[axis] = given[i])));
  if (sized) return { sizes, ratios: [] };
  const whole = dims.map((d, i) => Math.abs(d * scales[i] - Math.round(d * scales[i])) <= 1e-5 * Math.max(1, Math.round(d * scales[i])));
  if (whole.every(Boolean)) return { sizes: dims.map((d, i) => Math.round(d * scales[i])), ratios: [] };
  const ratios = [rank - 2, rank - 1].flatMap((axis) => inverseRatio(scales[axis]));
  // floor(in * scale) exactly: in * m / 2^e with the scale's own numerator and power.
  return { sizes: dims.map((d, i) => (whole[i] ? Math.round(d * scales[i]) : Math.floor((d * inverseRatio(scales[i])[1]) / inverseRatio(scales[i])[0]))), ratios };
}

/** Nearest by scale ratios: one Gather of the reference's nearest indices per resized axis. */
function nearestByRatio(n: NodeCtx, { sizes, ratios }: Target, coordinates: Coordinates): void {
  const dims = n.shape(0);
  const rounding = n.string("nearest_mode", "round_prefer_floor") as ResizeAttrs["nearest_mode"];
  let value = n.input(0);
  const axes = [dims.length - 2, dims.length - 1];
  axes.forEach((axis, k) => {
    const map = axisMap(dims[axis], sizes[axis], coordinates, [ratios[2 * k], ratios[2 * k + 1]]);
    const indices = Array.from({ length: sizes[axis] }, (_, d) => nearestIndex(map, d, rounding, dims[axis]));
    const gathered = n.addConst(`rows${k}`, constValue("int", [indices.length], indices));
    if (k === 0) [value] = n.emit("Gather", [value, gathered], { axis });
    else n.finish("Gather", [value, gathered], { axis });
  });
}

/** Resize (every opset): cubic and scales without whole sizes here, the rest in handlers.ts. */
export const resize: Handler = (n) => {
  const coordinates = n.string("coordinate_transformation_mode", "half_pixel") as Coordinates | "tf_crop_and_resize";
  if (coordinates === "tf_crop_and_resize") throw new Error("coordinate_transformation_mode 'tf_crop_and_resize' is not supported: its region of interest is given as float coordinates, which detml's exact size-ratio coordinates cannot represent");
  if (n.opset < 11) return resizeNearestLinear(n);
  const mode = n.string("mode", "nearest");
  if (!["nearest", "linear", "cubic"].includes(mode)) throw new Error(`mode '${mode}' is not supported (nearest, linear and cubic are)`);
  const goal = target(n);
  if (mode !== "cubic" && goal.ratios.length === 0) return resizeNearestLinear(n);
  if (n.int("antialias", 0) !== 0) throw new Error("antialias=1 is not supported");
  if (n.string("keep_aspect_ratio_policy", "stretch") !== "stretch") throw new Error("keep_aspect_ratio_policy other than 'stretch' is not supported");
  if (mode === "nearest") return nearestByRatio(n, goal, coordinates);
  const common = { sizes: goal.sizes, coordinate_transformation_mode: coordinates, scale_ratios: goal.ratios };
  if (mode === "cubic") return n.finish("ResizeCubic", [n.input(0)], { ...common, cubic_coeff_a: n.float("cubic_coeff_a", -0.75), exclude_outside: n.int("exclude_outside", 0) });
  n.finish("Resize", [n.input(0)], { ...common, mode: "linear" });
};

/** Largest interpolation matrix (N x H*W x Ho*Wo elements) a GridSample may build. */
const GRID_MATRIX_LIMIT = 1 << 22;

/** Keys' cubic coefficient of GridSample's bicubic mode (onnxruntime and PyTorch use -0.75). */
const GRID_CUBIC_A = -0.75;

/**
 * GridSample(X [N,C,H,W], grid [N,Ho,Wo,2]) in modes bilinear, nearest and bicubic with padding
 * zeros, border or reflection. Each output position's source coordinate is unnormalized from
 * the grid (one rounding at the graph frac) and split into taps with exact floors (nearest:
 * Round, half to even as onnxruntime). A tap outside the image reads what onnxruntime reads:
 * nothing (weight 0) with padding zeros, the clamped index with border, the index reflected at
 * the image's edges (an exact Mod) with reflection. The taps' weights (rounded once per Mul) are
 * placed by one-hot masks into an interpolation matrix [N, H*W, Ho*Wo], so the sampling is one
 * MatMul (one rounding) of the image by that matrix.
 */
export const gridSample: Handler = (n) => {
  const [batch, channels, height, width] = n.shape(0);
  const [, outH, outW] = n.shape(1);
  if (n.rank(0) !== 4) throw new Error(`input of rank ${n.rank(0)} is not supported (the 2-D form, X [N,C,H,W], is)`);
  const mode = ({ linear: "bilinear", cubic: "bicubic" } as Record<string, string>)[n.string("mode", "bilinear")] ?? n.string("mode", "bilinear");
  const padding = n.string("padding_mode", "zeros");
  if (!["bilinear", "nearest", "bicubic"].includes(mode)) throw new Error(`mode '${mode}' is not supported (bilinear, nearest and bicubic are)`);
  if (!["zeros", "border", "reflection"].includes(padding)) throw new Error(`padding_mode '${padding}' is not supported`);
  const [pixels, samples] = [height * width, outH * outW];
  if (batch * pixels * samples > GRID_MATRIX_LIMIT) throw new Error(`sampling ${samples} points from ${pixels} pixels needs a ${batch}x${pixels}x${samples} interpolation matrix, above the ${GRID_MATRIX_LIMIT}-element limit of this composition`);
  const alignCorners = n.int("align_corners", 0) === 1;
  const real = (base: string, v: number) => n.addConst(base, constValue("float", [], [v]));
  const int = (base: string, v: number) => n.addConst(base, constValue("int", [], [v]));
  const [flatGrid] = n.emit("Reshape", [n.input(1)], { shape: [batch, 1, samples, 2] });
  const coordinate = (k: 0 | 1, size: number): string => {
    const [g] = n.emit("Slice", [flatGrid], { starts: [k], ends: [k + 1], axes: [3], steps: [1] });
    const [normalized] = n.emit("Reshape", [g], { shape: [batch, 1, samples] });
    // align_corners: (g + 1)/2 * (size - 1); else ((g + 1) * size - 1)/2.
    const [shifted] = n.emit("Add", [normalized, real("one", 1)]);
    const [scaled] = n.emit("Mul", [shifted, real("half_size", (alignCorners ? size - 1 : size) / 2)]);
    return alignCorners ? scaled : n.emit("Sub", [scaled, real("half", 0.5)])[0];
  };
  const xs = coordinate(0, width);
  const ys = coordinate(1, height);
  const pixelIds = n.addConst("pixels", constValue("int", [1, pixels, 1], Array.from({ length: pixels }, (_, p) => p)));
  const zero = int("zero", 0);
  /** One axis's taps: [int index, weight], the weight "" meaning exactly 1 (nearest). */
  const taps = (x: string, size: number): [string, string][] => {
    if (mode === "nearest") return [[toIndex(n, materialize(composer(n), round(composer(n), { name: x, shape: [batch, 1, samples], dtype: "float", frac: n.frac(0) }))), ""]];
    const [base] = n.emit("Div", [x, int("unit", 1)], { mode: "floor" }, "int");
    const [t] = n.emit("Sub", [x, base]);
    const weights = mode === "bilinear" ? [n.emit("Sub", [real("one", 1), t])[0], t] : cubicWeights(n, t);
    const first = mode === "bilinear" ? 0 : -1;
    return weights.map((w, i) => [i + first === 0 ? base : n.emit("Add", [base, int(`offset${i}`, i + first)], {}, "int")[0], w]);
  };
  const inside = (index: string, size: number): string => {
    const [low] = n.emit("Less", [index, zero], {}, "bool");
    const [high] = n.emit("Greater", [index, int(`last${size}`, size - 1)], {}, "bool");
    return n.emit("Where", [low, zero, n.emit("Where", [high, zero, int("one_int", 1)], {}, "int")[0]], {}, "int")[0];
  };
  // The pixel a tap reads outside the image: border clamps the index, reflection reflects it
  // (zeros clamps it too, only to keep the index valid: that tap's weight is 0).
  const padded = (index: string, size: number): string => {
    if (padding !== "reflection") return n.emit("Clip", [index], { min: 0, max: size - 1 }, "int")[0];
    return toIndex(n, reflect(n, index, alignCorners ? [0, size - 1] : [-0.5, size - 0.5], size));
  };
  let matrix = "";
  for (const [yi, wy] of taps(ys, height)) {
    for (const [xi, wx] of taps(xs, width)) {
      let weight = wy && wx ? n.emit("Mul", [wy, wx])[0] : wy || wx || "";
      if (padding === "zeros") {
        const [valid] = n.emit("Mul", [inside(yi, height), inside(xi, width)], {}, "int");
        [weight] = weight ? n.emit("Mul", [weight, valid]) : [valid];
      }
      const [row] = n.emit("Mul", [padded(yi, height), int("width", width)], {}, "int");
      const [pixel] = n.emit("Add", [row, padded(xi, width)], {}, "int");
      const [hit] = n.emit("Equal", [pixel, pixelIds], {}, "bool");
      const [term] = n.emit("Where", [hit, weight || int("one_int", 1), zero]);
      [matrix] = matrix ? n.emit("Add", [matrix, term]) : [term];
    }
  }
  const [image] = n.emit("Reshape", [n.input(0)], { shape: [batch, channels, pixels] });
  const [sampled] = n.emit("MatMul", [image, matrix]);
  n.finish("Reshape", [sampled], { shape: [batch, channels, outH, outW] });
};

/** A real tensor holding whole numbers as an int tensor (exact: Div by 1, floor). */
function toIndex(n: NodeCtx, x: string): string {
  return n.emit("Div", [x, n.addConst("unit", constValue("int", [], [1]))], { mode: "floor" }, "int")[0];
}

/** x reflected into [lo, hi] (a triangle wave of period 2(hi - lo), exact Mod), then clamped into 0..size-1. */
function reflect(n: NodeCtx, x: string, [lo, hi]: [number, number], size: number): string {
  const span = hi - lo;
  if (span <= 0) return n.addConst("origin", constValue("float", [], [0]));
  const real = (base: string, v: number) => n.addConst(base, constValue("float", [], [v]));
  const [offset] = n.emit("Sub", [x, real("low", lo)]);
  const [phase] = n.emit("Mod", [offset, real("period", 2 * span)], { fmod: 0 });
  const [distance] = n.emit("Abs", [n.emit("Sub", [phase, real("span", span)])[0]]);
  const [folded] = n.emit("Sub", [real("top", lo + span), distance]);
  return n.emit("Clip", [folded], { min: 0, max: size - 1 })[0];
}

/** Keys' four cubic weights (A = GRID_CUBIC_A) of the taps -1..2 for the fraction t, by Horner at the graph frac. */
function cubicWeights(n: NodeCtx, t: string): string[] {
  const real = (base: string, v: number) => n.addConst(base, constValue("float", [], [v]));
  const a = GRID_CUBIC_A;
  // Near taps (|s| <= 1): ((A+2)s - (A+3)) s^2 + 1; far taps (1 < |s| < 2): ((A s - 5A) s + 8A) s - 4A.
  const near = (s: string) => {
    const [inner] = n.emit("Sub", [n.emit("Mul", [s, real("a_plus_2", a + 2)])[0], real("a_plus_3", a + 3)]);
    return n.emit("Add", [n.emit("Mul", [inner, n.emit("Mul", [s, s])[0]])[0], real("one", 1)])[0];
  };
  const far = (s: string) => {
    const [first] = n.emit("Sub", [n.emit("Mul", [s, real("a", a)])[0], real("five_a", 5 * a)]);
    const [second] = n.emit("Add", [n.emit("Mul", [first, s])[0], real("eight_a", 8 * a)]);
    return n.emit("Sub", [n.emit("Mul", [second, s])[0], real("four_a", 4 * a)])[0];
  };
  const one = real("one", 1);
  return [far(n.emit("Add", [t, one])[0]), near(t), near(n.emit("Sub", [one, t])[0]), far(n.emit("Sub", [real("two", 2), t])[0])];
}

/**
 * RoiAlign(X [N,C,H,W], rois [R,4] as (x1, y1, x2, y2), batch_indices [R]) in mode avg with a
 * constant sampling_ratio g (0 would make the sample count depend on each box's size, which a
 * static graph cannot follow). Per box, onnxruntime's sample points: start + (bin + (i + 1/2)/g)
 * * size/output per axis (the box scaled by spatial_scale, shifted by 1/2 for half_pixel; with
 * output_half_pixel at least 1 pixel wide), each a bilinear sample (0 outside [-1, size], the
 * point clamped at 0, the last row/column repeated at the far edge). The samples' weights go
 * into an interpolation matrix by one-hot masks as in GridSample; one MatMul samples the box's
 * image (a Gather by batch index) and ReduceMean averages each bin's g x g samples.
 */
export const roiAlign: Handler = (n) => {
  const [, channels, height, width] = n.shape(0);
  const [boxes] = n.shape(1);
  if (n.string("mode", "avg") !== "avg") throw new Error(`mode '${n.string("mode")}' is not supported (avg is)`);
  const g = n.int("sampling_ratio", 0);
  if (g <= 0) throw new Error("sampling_ratio 0 is not supported: the number of samples per bin would depend on each box's size at run time, and detml graphs have static shapes (give a positive sampling_ratio)");
  const [outH, outW] = [n.int("output_height", 1), n.int("output_width", 1)];
  const halfPixel = n.opset >= 16 && n.string("coordinate_transformation_mode", "half_pixel") === "half_pixel";
  const [pixels, samplesY, samplesX] = [height * width, outH * g, outW * g];
  if (boxes * pixels * samplesY * samplesX > GRID_MATRIX_LIMIT) throw new Error(`${boxes} boxes of ${samplesY}x${samplesX} samples from ${pixels} pixels need an interpolation matrix above the ${GRID_MATRIX_LIMIT}-element limit of this composition`);
  const real = (base: string, v: number) => n.addConst(base, constValue("float", [], [v]));
  const int = (base: string, v: number) => n.addConst(base, constValue("int", [], [v]));
  const [scaled] = n.emit("Mul", [n.input(1), real("spatial_scale", n.float("spatial_scale", 1))]);
  const [box] = halfPixel ? n.emit("Sub", [scaled, real("half", 0.5)]) : [scaled];
  const column = (k: number) => n.emit("Slice", [box], { starts: [k], ends: [k + 1], axes: [1], steps: [1] })[0];
  /** One axis's sample coordinates [R, samples] and their taps, as in onnxruntime's bilinear_interpolate. */
  const axis = (first: number, size: number, bins: number): { taps: [string, string][]; valid: string } => {
    const [start, end] = [column(first), column(first + 2)];
    let [extent] = n.emit("Sub", [end, start]);
    if (!halfPixel) [extent] = n.emit("Max", [extent, real("one", 1)]);
    const [bin] = n.emit("Div", [extent, int(`bins${bins}`, bins)]);
    const offsets = Array.from({ length: bins * g }, (_, s) => Math.floor(s / g) + ((s % g) + 0.5) / g);
    const [position] = n.emit("Add", [start, n.emit("Mul", [bin, n.addConst(`offsets${bins}`, constValue("float", [1, bins * g], offsets))])[0]]);
    const [below] = n.emit("Less", [position, real("minus_one", -1)], {}, "bool");
    const [above] = n.emit("Greater", [position, real(`size${size}`, size)], {}, "bool");
    const [valid] = n.emit("Where", [below, int("zero", 0), n.emit("Where", [above, int("zero", 0), int("one_int", 1)], {}, "int")[0]], {}, "int");
    const [clamped] = n.emit("Relu", [position]);
    const [low] = n.emit("Div", [clamped, int("unit", 1)], { mode: "floor" }, "int");
    const [edge] = n.emit("Greater", [low, int(`edge${size}`, size - 2)], {}, "bool");
    const last = int(`last${size}`, size - 1);
    const [lowIndex] = n.emit("Where", [edge, last, low], {}, "int");
    const [highIndex] = n.emit("Where", [edge, last, n.emit("Add", [low, int("one_int", 1)], {}, "int")[0]], {}, "int");
    const [fraction] = n.emit("Where", [edge, int("zero", 0), n.emit("Sub", [clamped, low])[0]]);
    return { taps: [[lowIndex, n.emit("Sub", [real("one", 1), fraction])[0]], [highIndex, fraction]], valid };
  };
  const ys = axis(1, height, outH);
  const xs = axis(0, width, outW);
  const [valid] = n.emit("Mul", [n.emit("Reshape", [ys.valid], { shape: [boxes, samplesY, 1] })[0], n.emit("Reshape", [xs.valid], { shape: [boxes, 1, samplesX] })[0]], {}, "int");
  const pixelIds = n.addConst("pixels", constValue("int", [1, pixels, 1], Array.from({ length: pixels }, (_, p) => p)));
  let matrix = "";
  for (const [yi, wy] of ys.taps) {
    for (const [xi, wx] of xs.taps) {
      const [weight] = n.emit("Mul", [n.emit("Mul", [n.emit("Reshape", [wy], { shape: [boxes, samplesY, 1] })[0], n.emit("Reshape", [wx], { shape: [boxes, 1, samplesX] })[0]])[0], valid]);
      const [row] = n.emit("Mul", [n.emit("Reshape", [yi], { shape: [boxes, samplesY, 1] })[0], int("width", width)], {}, "int");
      const [pixel] = n.emit("Add", [row, n.emit("Reshape", [xi], { shape: [boxes, 1, samplesX] })[0]], {}, "int");
      const [hit] = n.emit("Equal", [n.emit("Reshape", [pixel], { shape: [boxes, 1, samplesY * samplesX] })[0], pixelIds], {}, "bool");
      const [term] = n.emit("Where", [hit, n.emit("Reshape", [weight], { shape: [boxes, 1, samplesY * samplesX] })[0], int("zero", 0)]);
      [matrix] = matrix ? n.emit("Add", [matrix, term]) : [term];
    }
  }
  const [images] = n.emit("Reshape", [n.input(0)], { shape: [n.shape(0)[0], channels, pixels] });
  const [boxImages] = n.emit("Gather", [images, n.input(2)], { axis: 0 });
  const [samples] = n.emit("MatMul", [boxImages, matrix]);
  const [grouped] = n.emit("Reshape", [samples], { shape: [boxes, channels, outH, g, outW, g] });
  n.finish("ReduceMean", [grouped], { axes: [3, 5], keepdims: 0 });
};
