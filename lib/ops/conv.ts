/**
 * Conv (1-D and 2-D, ONNX semantics): X [N, C, ...] correlated with W [M, C/group, ...kernel],
 * plus an optional bias B [M], with strides, pads, dilations, auto_pad and grouped/depthwise
 * channels. The kernel is im2col: for each image and group, the input patches of all output
 * positions are gathered into a [positions, C/group * kernel] matrix (zeros on padding) and
 * multiplied with the group's weight rows by the exact accumulate core, so every output is one
 * exact dot product plus bias, narrowed once to ctx.frac. `correlate` is also ConvTranspose's
 * kernel (it accepts windows over a stepped input, see window.ts).
 */
import { Tensor } from "../tensor/tensor.js";
import { maxAbs, type OperandType, multiplyAccumulate, prepareMac } from "./accumulate.js";
import { type AttrSpec, check, defineOp, resolveAttrs } from "./op.js";
import { type AxisWindow, axisTaps, liftTo2d, resolveWindows, spatialRank, WINDOW_ATTR_SPECS, type WindowAttrs } from "./window.js";

export type ConvAttrs = WindowAttrs & { group: number };

/** Checks shared by Conv and ConvTranspose: W has the rank of X, group divides the input channels, B is 1-D. */
export function checkChannels(op: string, x: OperandType, w: OperandType, b: OperandType | undefined, group: number,
  weightLayout: string): void {
  check(w.shape.length === x.shape.length,
    `weight W has rank ${w.shape.length}, ${op} on input rank ${x.shape.length} needs W of that rank ${weightLayout}`);
  check(group >= 1 && x.shape[1] % group === 0, `${op} attribute 'group' ${group} does not divide the ${x.shape[1]} input channels`);
  if (b) check(b.shape.length === 1, `bias B has rank ${b.shape.length}, ${op} needs rank 1 [M]`);
}

/** The kernel's spatial shape from W, checked against kernel_shape when that is given. */
export function kernelShape(op: string, w: OperandType, given: number[]): number[] {
  const fromWeights = w.shape.slice(2);
  check(fromWeights.every((k) => k >= 1), `weight W [${w.shape.join(",")}] has an empty kernel`);
  check(given.length === 0 || (given.length === fromWeights.length && given.every((k, i) => k === fromWeights[i])),
    `${op} attribute 'kernel_shape' [${given.join(",")}] differs from W's spatial shape [${fromWeights.join(",")}]`);
  return fromWeights;
}

function convWindows(x: OperandType, w: OperandType, b: OperandType | undefined, attrs: ConvAttrs): AxisWindow[] {
  spatialRank("Conv", x.shape);
  checkChannels("Conv", x, w, b, attrs.group, "[M, C/group, k...]");
  const channels = x.shape[1];
  const [outChannels, perGroup] = w.shape;
  check(perGroup * attrs.group === channels,
    `W has ${perGroup} input channels per group, X has ${channels} channels in ${attrs.group} group(s)`);
  check(outChannels % attrs.group === 0, `W has ${outChannels} output channels, not divisible by group ${attrs.group}`);
  if (b) check(b.shape[0] === outChannels, `bias B has ${b.shape[0]} values, W has ${outChannels} output channels`);
  return resolveWindows("Conv", x.shape.slice(2), kernelShape("Conv", w, attrs.kernel_shape), attrs);
}

/**
 * Correlate x [N, C, ...] with weights [M, C/group, ...kernel] (row-major data at `weightFrac`)
 * over `windows`, plus the optional bias per output channel; output [N, M, ...outSizes] at frac.
 */
export function correlate(op: string, x: Tensor, weights: Int32Array, weightFrac: number, bias: Tensor | undefined,
  outChannels: number, group: number, windows: AxisWindow[], frac: number): Tensor {
  const [batch, channels] = x.shape;
  const [rowWindow, colWindow] = liftTo2d(windows);
  const inPlane = rowWindow.inSize * colWindow.inSize;
  const positions = rowWindow.outSize * colWindow.outSize;
  const kRows = rowWindow.kernel;
  const kCols = colWindow.kernel;
  const channelsPerGroup = channels / group;
  const outPerGroup = outChannels / group;
  const depth = channelsPerGroup * kRows * kCols;
  const plan = prepareMac(op, {
    maxA: maxAbs(weights),
    maxB: maxAbs(x.data),
    depth,
    productFrac: weightFrac + x.frac,
    bias: bias && { data: bias.data, frac: bias.frac },
    outFrac: frac,
  });
  const rowTaps = axisTaps(rowWindow);
  const colTaps = axisTaps(colWindow);
  // patches[p * depth + (c * kRows + i) * kCols + j]: input channel c of the group at tap (i, j) of position p.
  const patches = new Int32Array(positions * depth);
  const out = new Int32Array(batch * outChannels * positions);
  for (let n = 0; n < batch; n++) {
    for (let g = 0; g < group; g++) {
      const groupStart = (n * channels + g * channelsPerGroup) * inPlane;
      let dst = 0;
      for (let oy = 0; oy < rowWindow.outSize; oy++) {
        for (let ox = 0; ox < colWindow.outSize; ox++) {
          for (let c = 0; c < channelsPerGroup; c++) {
            const plane = groupStart + c * inPlane;
            for (let i = 0; i < kRows; i++) {
              const iy = rowTaps[oy * kRows + i];
              for (let j = 0; j < kCols; j++) {
                const ix = colTaps[ox * kCols + j];
                patches[dst++] = iy < 0 || ix < 0 ? 0 : x.data[plane + iy * colWindow.inSize + ix];
              }
            }
          }
        }
      }
      multiplyAccumulate(plan, {
        rows: outPerGroup,
        cols: positions,
        depth,
        a: { data: weights, start: g * outPerGroup * depth, rowStep: depth, colStep: 1 },
        b: { data: patches, start: 0, rowStep: 1, colStep: depth },
        out: { data: out, start: (n * outChannels + g * outPerGroup) * positions, rowStep: positions, colStep: 1 },
        bias: { start: g * outPerGroup, rowStep: 1, colStep: 0 },
      });
    }
  }
  return new Tensor([batch, outChannels, ...windows.map((w) => w.outSize)], out, frac);
}

export function conv(x: Tensor, w: Tensor, b?: Tensor, attrs: Partial<ConvAttrs> = {}, frac = x.frac): Tensor {
  const at = resolveAttrs(Conv, attrs);
  const windows = convWindows(x, w, b, at);
  return correlate("Conv", x, w.data, w.frac, b, w.shape[0], at.group, windows, frac);
}

/** Attribute specs of Conv and ConvTranspose besides the window ones. */
export const CHANNEL_ATTR_SPECS: Record<"group" | "kernel_shape", AttrSpec> = {
  group: { type: "int", default: 1, doc: "channel groups; group == C is depthwise" },
  kernel_shape: { type: "ints", default: [], doc: "spatial kernel shape (default: from W)" },
};

export const Conv = defineOp<ConvAttrs>({
  kind: "Conv",
  summary: "1-D/2-D convolution with strides, pads, dilations, groups, auto_pad, optional bias",
  inputs: ["X", "W", "B?"],
  attrs: { ...WINDOW_ATTR_SPECS, ...CHANNEL_ATTR_SPECS },
  outputs: () => 1,
  infer: ([x, w, b], attrs, ctx) => {
    const windows = convWindows(x, w, b, attrs);
    return [{ shape: [x.shape[0], w.shape[0], ...windows.map((win) => win.outSize)], frac: ctx.frac }];
  },
  run: ([x, w, b], attrs, ctx) => [conv(x, w, b, attrs, ctx.frac)],
});
