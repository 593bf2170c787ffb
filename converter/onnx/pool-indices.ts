/**
 * MaxPool's second output, Indices (1-D to 3-D): the flat position in X of each window's
 * maximum, its first occurrence in window order, as onnxruntime gives it. The spatial axes are
 * flattened and a Gather with a constant table copies every window's taps to [N, C, O, T]
 * (O output positions, T taps); a tap on padding reads its window's first real tap instead,
 * which changes neither the maximum nor which position comes first. ReduceMax over the taps is
 * MaxPool's output, ArgMax the tap of the first maximum. Two exact integer steps turn the tap
 * into the position: QuantizeLinear with multiplier 1 adds o * T (its zero point), a Gather
 * from the constant table of tap positions picks the spatial index (row-major, or with
 * storage_order 1 the first spatial axis fastest), and a second one adds (n * C + c) * P for
 * the plane. Every step writes integers at frac 0, so any index below 2^31 is exact.
 */
import { I32_MAX, I32_MIN } from "../../lib/tensor/fixed.js";
import { axisTaps, resolveWindows } from "../../lib/ops/window.js";
import { constValue, scalar } from "../common/values.js";
import type { NodeCtx } from "./context.js";
import type { Handler } from "./handlers.js";
import { onlyAttributes } from "./quantized.js";

/** The strides of row-major (or, reversed, first-axis-fastest) order over `dims`. */
function strides(dims: number[], firstFastest: boolean): number[] {
  const order = firstFastest ? dims.map((_, i) => i) : dims.map((_, i) => dims.length - 1 - i);
  const out = new Array<number>(dims.length);
  let step = 1;
  for (const axis of order) {
    out[axis] = step;
    step *= dims[axis];
  }
  return out;
}

/** Every combination of per-axis counts, row-major (the last axis fastest). */
function combinations(counts: number[]): number[][] {
  return counts.reduce<number[][]>((acc, count) => acc.flatMap((prefix) => Array.from({ length: count }, (_, i) => [...prefix, i])), [[]]);
}

/** x + zeroPoint exactly, at frac 0 (QuantizeLinear with multiplier 1: no rounding, no limit). */
function addExactly(n: NodeCtx, x: string, offsets: string): string {
  const one = n.addConst("one", scalar("int", 1));
  return n.emit("QuantizeLinear", [x, one, offsets], { shift: 0, low: I32_MIN, high: I32_MAX }, "int")[0];
}

/** MaxPool whose Indices output is used goes here; any other to `values` (the 1-D to 3-D handler). */
export function withIndices(values: Handler): Handler {
  return (n) => (n.outputUsed(1) ? maxPoolWithIndices(n) : values(n));
}

function maxPoolWithIndices(n: NodeCtx): void {
  onlyAttributes(n, ["auto_pad", "ceil_mode", "dilations", "kernel_shape", "pads", "storage_order", "strides"]);
  const [batch, channels, ...spatial] = n.shape(0);
  if (spatial.length < 1 || spatial.length > 3) throw new Error(`input X has rank ${spatial.length + 2}, MaxPool with Indices supports 1D, 2D and 3D: rank 3, 4 or 5`);
  const kernel = n.ints("kernel_shape");
  if (kernel.length !== spatial.length || kernel.some((k) => k < 1)) throw new Error(`attribute 'kernel_shape' [${kernel.join(",")}] must hold ${spatial.length} sizes >= 1 (one per spatial axis of X)`);
  const attrs = { auto_pad: n.string("auto_pad", "NOTSET"), kernel_shape: kernel, strides: n.ints("strides", []), pads: n.ints("pads", []), dilations: n.ints("dilations", []) };
  const windows = resolveWindows("MaxPool", spatial, kernel, attrs, n.int("ceil_mode", 0) === 1);
  const taps = windows.map(axisTaps);
  const outputs = combinations(windows.map((w) => w.outSize));
  n.guard.elements([windows.reduce((c, w) => c * w.outSize, 1), kernel.reduce((a, b) => a * b, 1)], "the MaxPool tap table");
  const kernelTaps = combinations(kernel);
  const rowMajor = strides(spatial, false);
  const storage = strides(spatial, n.int("storage_order", 0) === 1);
  const sources: number[] = [];
  const positions: number[] = [];
  outputs.forEach((o, k) => {
    const coords = kernelTaps.map((j) => j.map((tap, a) => taps[a][o[a] * kernel[a] + tap]));
    const first = coords.find((c) => c.every((i) => i >= 0));
    if (!first) throw new Error(`window ${k} lies entirely in the padding, which is not supported (ONNX requires pads below the kernel size)`);
    for (const c of coords) {
      const real = c.every((i) => i >= 0) ? c : first;
      sources.push(real.reduce((s, i, a) => s + i * rowMajor[a], 0));
      positions.push(real.reduce((s, i, a) => s + i * storage[a], 0));
    }
  });
  const plane = spatial.reduce((a, b) => a * b, 1);
  const [flat] = n.emit("Reshape", [n.input(0)], { shape: [batch, channels, plane] });
  const table = n.addConst("window_taps", constValue("int", [outputs.length, kernelTaps.length], sources));
  const [gathered] = n.emit("Gather", [flat, table], { axis: 2 });
  const outShape = [batch, channels, ...windows.map((w) => w.outSize)];
  const [largest] = n.emit("ReduceMax", [gathered], { axes: [3], keepdims: 0 });
  n.finish("Reshape", [largest], { shape: outShape }, undefined, 1);
  const [tap] = n.emit("ArgMax", [gathered], { axis: 3, keepdims: 0 });
  const rowStarts = n.addConst("row_starts", constValue("int", [outputs.length], outputs.map((_, k) => k * kernelTaps.length)));
  const [position] = n.emit("Gather", [n.addConst("tap_positions", constValue("int", [positions.length], positions)), addExactly(n, tap, rowStarts)], { axis: 0 });
  const planes = n.addConst("plane_starts", constValue("int", [batch, channels, 1], Array.from({ length: batch * channels }, (_, i) => i * plane)));
  const [indices] = n.emit("Reshape", [addExactly(n, position, planes)], { shape: outShape });
  n.alias(1, indices);
}
