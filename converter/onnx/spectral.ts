/**
 * DFT and STFT as one MatMul with a constant table of cosines and sines (computed in float64,
 * quantized like any weight), so every output bin is one exact sum of products with a single
 * rounding. DFT moves its axis and the real/imaginary channel last, flattens them to N * c
 * values (c = 1 for a real signal, 2 for a complex one) and multiplies by the [N * c, K * 2]
 * table of e^(-2 pi i k n / L) (e^(+...) / L for the inverse): L is dft_length (default N; a
 * shorter L truncates the signal, a longer one pads it with zeros), K is L, or L / 2 + 1 with
 * onesided. STFT gathers its frames with a constant index table and applies the same table with
 * the window folded into it. The signal length, dft_length, frame_step, frame_length and the
 * window must be constants: they set the output's shape or the table. The Hann, Hamming and
 * Blackman windows of a constant size, and MelWeightMatrix of constant parameters, are constants
 * computed here.
 */
import { normAxis } from "../../lib/tensor/shape.js";
import { constValue, toScalar } from "../common/values.js";
import type { NodeCtx } from "./context.js";
import type { Handler } from "./handlers.js";
import { valueClassOf } from "./proto.js";
import { onlyAttributes } from "./quantized.js";

interface Transform {
  /** Signal values read (the table's rows per channel). */
  inputLength: number;
  /** Real (1) or complex (2) input. */
  channels: number;
  /** dft_length: the period of the transform. */
  period: number;
  /** Output bins. */
  bins: number;
  inverse: boolean;
  window?: ArrayLike<number>;
}

/**
 * The table T[n * c + ch][k * 2 + part] with y = x . T: the real and imaginary parts (part 0, 1)
 * of bin k from channel ch of input value n. Angles reduce k * n modulo L exactly first.
 */
function transformTable(n: NodeCtx, t: Transform): string {
  const rows = t.inputLength * t.channels;
  const cols = t.bins * 2;
  const table = n.guard.alloc([rows, cols], "the transform table");
  const sign = t.inverse ? 1 : -1;
  const scale = t.inverse ? 1 / t.period : 1;
  for (let i = 0; i < Math.min(t.inputLength, t.period); i++) {
    const weight = scale * (t.window ? t.window[i] : 1);
    for (let k = 0; k < t.bins; k++) {
      const angle = (2 * Math.PI * ((k * i) % t.period)) / t.period;
      const [cos, sin] = [Math.cos(angle) * weight, sign * Math.sin(angle) * weight];
      // (re + i im) (cos + i sin): re' = re cos - im sin, im' = re sin + im cos.
      table[i * t.channels * cols + k * 2] = cos;
      table[i * t.channels * cols + k * 2 + 1] = sin;
      if (t.channels === 2) {
        table[(i * 2 + 1) * cols + k * 2] = -sin;
        table[(i * 2 + 1) * cols + k * 2 + 1] = cos;
      }
    }
  }
  return n.addConst("dft_table", constValue("float", [rows, cols], table));
}

/** The last axis of a signal: 1 (real) or 2 (complex) values. */
function signalChannels(shape: number[], what: string): number {
  const channels = shape[shape.length - 1];
  if (channels !== 1 && channels !== 2) throw new Error(`${what} has ${channels} values on its last axis: 1 (real) or 2 (complex) are supported`);
  return channels;
}

/** An optional scalar length input, which must be a positive constant. */
function lengthInput(n: NodeCtx, i: number, what: string, fallback: number): number {
  if (!n.hasInput(i)) return fallback;
  const v = toScalar(n.requireConst(i, what), `input ${i} (${what})`);
  if (!Number.isInteger(v) || v < 1) throw new Error(`input ${i} (${what}) must be a positive integer, got ${v}`);
  return v;
}

export const dft: Handler = (n) => {
  onlyAttributes(n, ["axis", "inverse", "onesided"]);
  const shape = n.shape(0);
  const rank = shape.length;
  const channels = signalChannels(shape, "input");
  // Opset 20 moved the axis to input 2.
  const rawAxis = n.hasInput(2) ? toScalar(n.requireConst(2, "axis"), "input 2 (axis)") : n.int("axis", 1);
  const axis = normAxis(rawAxis, rank);
  if (axis === 0 || axis === rank - 1) throw new Error(`axis ${rawAxis} is not a signal axis (the batch axis and the last, real/imaginary axis are not)`);
  const inverse = n.int("inverse", 0) === 1;
  const onesided = n.int("onesided", 0) === 1;
  if (inverse && onesided) throw new Error("an inverse one-sided DFT is not supported (ONNX defines onesided for forward transforms of real signals)");
  const period = lengthInput(n, 1, "dft_length", shape[axis]);
  const bins = onesided ? Math.floor(period / 2) + 1 : period;
  // Move the transformed axis next to the channel axis, then flatten the two.
  const perm = [...Array.from({ length: rank - 1 }, (_, i) => i).filter((i) => i !== axis), axis, rank - 1];
  const [moved] = n.emit("Transpose", [n.input(0)], { perm });
  const outer = perm.slice(0, rank - 2).map((i) => shape[i]);
  const [flat] = n.emit("Reshape", [moved], { shape: [...outer, shape[axis] * channels] });
  const table = transformTable(n, { inputLength: shape[axis], channels, period, bins, inverse });
  const [product] = n.emit("MatMul", [flat, table]);
  const [pairs] = n.emit("Reshape", [product], { shape: [...outer, bins, 2] });
  const back = perm.map((_, i) => perm.indexOf(i));
  n.finish("Transpose", [pairs], { perm: back }, undefined, 1);
};

export const stft: Handler = (n) => {
  onlyAttributes(n, ["onesided"]);
  const shape = n.shape(0);
  if (shape.length !== 3) throw new Error(`signal has rank ${shape.length}, STFT needs [batch, length, 1 or 2]`);
  const [batch, length] = shape;
  const channels = signalChannels(shape, "signal");
  if (!n.hasInput(1)) throw new Error("input 1 (frame_step) is required");
  const step = lengthInput(n, 1, "frame_step", 1);
  const window = n.hasInput(2) ? n.requireConst(2, "window") : undefined;
  if (window && window.shape.length !== 1) throw new Error(`window has rank ${window.shape.length}, STFT needs a 1-D window`);
  const frameLength = lengthInput(n, 3, "frame_length", window ? window.shape[0] : 0);
  if (frameLength === 0) throw new Error("neither frame_length nor a window is given: the frame length is unknown");
  if (window && window.shape[0] !== frameLength) throw new Error(`window has ${window.shape[0]} values, frame_length is ${frameLength}`);
  if (frameLength > length) throw new Error(`frame_length ${frameLength} exceeds the signal length ${length}`);
  const frames = Math.floor((length - frameLength) / step) + 1;
  const bins = n.int("onesided", 1) === 1 ? Math.floor(frameLength / 2) + 1 : frameLength;
  const starts = Array.from({ length: frames * frameLength }, (_, i) => Math.floor(i / frameLength) * step + (i % frameLength));
  const indices = n.addConst("frame_taps", constValue("int", [frames, frameLength], starts));
  const [framed] = n.emit("Gather", [n.input(0), indices], { axis: 1 });
  const [flat] = n.emit("Reshape", [framed], { shape: [batch, frames, frameLength * channels] });
  const table = transformTable(n, { inputLength: frameLength, channels, period: frameLength, bins, inverse: false, window: window?.data });
  const [product] = n.emit("MatMul", [flat, table]);
  n.finish("Reshape", [product], { shape: [batch, frames, bins, 2] }, undefined, 1);
};

/** Generalized cosine windows a0 - a1 cos(2 pi n / M) + a2 cos(4 pi n / M), as ONNX defines them. */
const COSINE_WINDOWS: Readonly<Record<string, readonly [number, number, number]>> = {
  HannWindow: [0.5, 0.5, 0],
  HammingWindow: [25 / 46, 21 / 46, 0],
  BlackmanWindow: [0.42, 0.5, 0.08],
};

/** A window of the constant size at input 0: M = size (periodic, the default) or size - 1. */
export function cosineWindow(kind: keyof typeof COSINE_WINDOWS): Handler {
  const [a0, a1, a2] = COSINE_WINDOWS[kind];
  return (n) => {
    onlyAttributes(n, ["output_datatype", "periodic"]);
    const type = n.int("output_datatype", 1);
    if (valueClassOf(type) !== "float") throw new Error(`output_datatype ${type} is not supported (a window is real: float types are)`);
    const count = toScalar(n.requireConst(0, "size"), "input 0 (size)");
    if (!Number.isInteger(count) || count < 0) throw new Error(`input 0 (size) must be an integer >= 0, got ${count}`);
    const period = Math.max(1, n.int("periodic", 1) === 1 ? count : count - 1);
    const values = n.guard.alloc([count], kind).map((_, i) => a0 - a1 * Math.cos((2 * Math.PI * i) / period) + a2 * Math.cos((4 * Math.PI * i) / period));
    n.setConst(0, constValue("float", [count], values));
  };
}

/**
 * MelWeightMatrix of constant parameters: a constant [dft_length / 2 + 1, num_mel_bins] of
 * triangular filters, as ONNX defines it: num_mel_bins + 2 edges evenly spaced on the mel scale
 * (2595 log10(1 + hertz / 700)) from lower_edge_hertz, each mapped back to hertz and to the
 * spectrogram bin floor((dft_length + 1) * hertz / sample_rate); filter i rises from edge i to
 * edge i + 1 and falls to edge i + 2.
 */
export const melWeightMatrix: Handler = (n) => {
  onlyAttributes(n, ["output_datatype"]);
  const type = n.int("output_datatype", 1);
  if (valueClassOf(type) !== "float") throw new Error(`output_datatype ${type} is not supported (the weights are real: float types are)`);
  const names = ["num_mel_bins", "dft_length", "sample_rate", "lower_edge_hertz", "upper_edge_hertz"];
  const [melBins, dftLength, sampleRate, lowHertz, highHertz] = names.map((what, i) => toScalar(n.requireConst(i, what), `input ${i} (${what})`));
  for (const [i, v] of [melBins, dftLength, sampleRate].entries()) {
    if (!Number.isInteger(v) || v < 1) throw new Error(`input ${i} (${names[i]}) must be a positive integer, got ${v}`);
  }
  const bins = Math.floor(dftLength / 2) + 1;
  const mel = (hertz: number) => 2595 * Math.log10(1 + hertz / 700);
  const [low, high] = [mel(Math.fround(lowHertz)), mel(Math.fround(highHertz))];
  const step = (high - low) / (melBins + 2);
  const edges = Array.from({ length: melBins + 2 }, (_, k) => Math.floor(((dftLength + 1) * 700 * (10 ** ((k * step + low) / 2595) - 1)) / sampleRate));
  const weights = n.guard.alloc([bins, melBins], "MelWeightMatrix");
  const set = (bin: number, filter: number, v: number) => {
    if (bin < 0 || bin >= bins) throw new Error(`the filters reach spectrogram bin ${bin}, beyond the ${bins} bins of dft_length ${dftLength} (upper_edge_hertz above the Nyquist frequency)`);
    weights[bin * melBins + filter] = v;
  };
  for (let i = 0; i < melBins; i++) {
    const [left, center, right] = [edges[i], edges[i + 1], edges[i + 2]];
    if (center === left) set(center, i, 1);
    for (let j = left; center > left && j <= center; j++) set(j, i, (j - left) / (center - left));
    for (let j = center; j < right; j++) set(j, i, (right - j) / (right - center));
  }
  n.setConst(0, constValue("float", [bins, melBins], weights));
};
