/**
 * ConvTranspose (1-D and 2-D, ONNX semantics): X [N, C, ...] with W [C, M/group, ...kernel] and
 * an optional bias B [M]; input value i scatters into outputs i*stride + tap*dilation - padBegin.
 * It is computed as the equivalent gather, a plain correlation (conv.ts) over the input with
 * (stride - 1) zeros between values (the window's inputStep), the spatially flipped kernel with
 * input/output channels swapped, and padBegin' = (kernel - 1) * dilation - padBegin, so every
 * output is one exact dot product plus bias, narrowed once to ctx.frac.
 * Output size per axis: output_shape when given (pads are then derived from it); for SAME_* in *
 * stride, or the natural size when that would need negative padding (as ONNX shape inference and
 * onnxruntime do); else natural - padBegin - padEnd with natural = stride * (in - 1) +
 * output_padding + (kernel - 1) * dilation + 1. Derived total padding splits as the ONNX spec
 * says: the extra odd position goes to the end for SAME_UPPER and to the beginning otherwise.
 */
import { Tensor } from "../tensor/tensor.js";
import { type OperandType } from "./accumulate.js";
import { CHANNEL_ATTR_SPECS, checkChannels, correlate, kernelShape } from "./conv.js";
import { check, defineOp, resolveAttrs } from "./op.js";
import { type AxisWindow, perAxis, spatialRank, WINDOW_ATTR_SPECS, type WindowAttrs } from "./window.js";

export type ConvTransposeAttrs = WindowAttrs & { group: number; output_padding: number[]; output_shape: number[] };

export interface TransposeGeometry {
  outChannels: number;
  windows: AxisWindow[];
}

/**
 * The correlation a ConvTranspose computes: output channels and, per spatial axis, the window
 * over the stride-spaced input with the padding mirrored. Shared with the compiler's emitter.
 */
export function convTransposeGeometry(x: OperandType, w: OperandType, b: OperandType | undefined, attrs: ConvTransposeAttrs): TransposeGeometry {
  const rank = spatialRank("ConvTranspose", x.shape);
  checkChannels("ConvTranspose", x, w, b, attrs.group, "[C, M/group, k...]");
  check(w.shape[0] === x.shape[1], `W has ${w.shape[0]} input channels, X has ${x.shape[1]}`);
  const outChannels = w.shape[1] * attrs.group;
  if (b) check(b.shape[0] === outChannels, `bias B has ${b.shape[0]} values, the output has ${outChannels} channels`);
  const kernel = kernelShape("ConvTranspose", w, attrs.kernel_shape);
  const strides = perAxis("ConvTranspose", "strides", attrs.strides, rank, 1, 1);
  const dilations = perAxis("ConvTranspose", "dilations", attrs.dilations, rank, 1, 1);
  const outputPadding = perAxis("ConvTranspose", "output_padding", attrs.output_padding, rank, 0, 0);
  const pads = perAxis("ConvTranspose", "pads", attrs.pads, 2 * rank, 0, 0);
  const outputShape = perAxis("ConvTranspose", "output_shape", attrs.output_shape, rank, 0, 1);
  const windows = x.shape.slice(2).map((inSize, i) => {
    const span = (kernel[i] - 1) * dilations[i] + 1;
    const natural = strides[i] * (inSize - 1) + outputPadding[i] + span;
    let padBegin: number;
    let outSize: number;
    if (attrs.output_shape.length > 0) {
      outSize = outputShape[i];
      const total = natural - outSize;
      padBegin = attrs.auto_pad === "SAME_UPPER" ? Math.floor(total / 2) : total - Math.floor(total / 2);
    } else if (attrs.auto_pad === "SAME_UPPER" || attrs.auto_pad === "SAME_LOWER") {
      // in * stride outputs, unless that needs negative padding: then the natural size.
      const total = Math.max(0, natural - inSize * strides[i]);
      outSize = natural - total;
      padBegin = attrs.auto_pad === "SAME_UPPER" ? Math.floor(total / 2) : total - Math.floor(total / 2);
    } else {
      const valid = attrs.auto_pad === "VALID";
      padBegin = valid ? 0 : pads[i];
      outSize = natural - padBegin - (valid ? 0 : pads[i + rank]);
    }
    check(outSize >= 1, `ConvTranspose output size ${outSize} on spatial axis ${i} is empty (pads too large)`);
    const corrPadBegin = span - 1 - padBegin;
    return {
      inSize,
      kernel: kernel[i],
      stride: 1,
      dilation: dilations[i],
      padBegin: corrPadBegin,
      padEnd: outSize - 1 + span - 1 - corrPadBegin - (inSize - 1) * strides[i],
      outSize,
      inputStep: strides[i],
    };
  });
  return { outChannels, windows };
}

/**
 * W [C, M/group, ...kernel] rearranged to the correlation layout [M, C/group, ...kernel] with
 * each kernel flipped in every spatial axis.
 */
function flippedWeights(w: Tensor, group: number): Int32Array {
  const [channels, outPerGroup] = w.shape;
  const kernelSize = w.size / (channels * outPerGroup);
  const channelsPerGroup = channels / group;
  const out = new Int32Array(w.size);
  for (let c = 0; c < channels; c++) {
    const g = Math.floor(c / channelsPerGroup);
    for (let m = 0; m < outPerGroup; m++) {
      const src = (c * outPerGroup + m) * kernelSize;
      const dst = ((g * outPerGroup + m) * channelsPerGroup + (c % channelsPerGroup)) * kernelSize;
      // Reversing the row-major kernel flips every spatial axis at once.
      for (let t = 0; t < kernelSize; t++) out[dst + t] = w.data[src + kernelSize - 1 - t];
    }
  }
  return out;
}

export function convTranspose(x: Tensor, w: Tensor, b?: Tensor, attrs: Partial<ConvTransposeAttrs> = {}, frac = x.frac): Tensor {
  const at = resolveAttrs(ConvTranspose, attrs);
  const { outChannels, windows } = convTransposeGeometry(x, w, b, at);
  return correlate("ConvTranspose", x, flippedWeights(w, at.group), w.frac, b, outChannels, at.group, windows, frac);
}

export const ConvTranspose = defineOp<ConvTransposeAttrs>({
  kind: "ConvTranspose",
  summary: "1-D/2-D transposed convolution with strides, pads, dilations, groups, output_padding/output_shape, auto_pad",
  inputs: ["X", "W", "B?"],
  attrs: {
    ...WINDOW_ATTR_SPECS,
    ...CHANNEL_ATTR_SPECS,
    output_padding: { type: "ints", default: [], doc: "extra positions at the end of each spatial axis (default 0)" },
    output_shape: { type: "ints", default: [], doc: "spatial output shape; pads are then derived from it" },
  },
  outputs: () => 1,
  infer: ([x, w, b], attrs, ctx) => {
    const { outChannels, windows } = convTransposeGeometry(x, w, b, attrs);
    return [{ shape: [x.shape[0], outChannels, ...windows.map((win) => win.outSize)], frac: ctx.frac }];
  },
  run: ([x, w, b], attrs, ctx) => [convTranspose(x, w, b, attrs, ctx.frac)],
});
