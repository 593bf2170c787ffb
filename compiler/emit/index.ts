/**
 * The emitter of every IR op kind the compiler supports, by kind, mirroring the op groups of
 * lib/ops (nn-ops, arith-ops, array-ops, math-ops). Views (OpDef.view: ops that only rename a
 * shape over the same row-major data) have no emitter: the memory plan aliases their output to
 * their input. Every other op of lib/ops' registry has an emitter here or is named, with the
 * reason, in COMPILER_UNSUPPORTED; test/compiler/registry.test.ts holds the two lists to that.
 */
import type { Attrs } from "../../lib/ops/op.js";
import {
  ConcatEmitter, ExpandEmitter, GatherEmitter, PadEmitter, ResizeEmitter, SliceEmitter, SplitEmitter, TileEmitter, TransposeEmitter,
} from "./copy.js";
import { BitShiftEmitter } from "./bitshift.js";
import { DynamicQuantizeLinearEmitter } from "./dynamic-quantize.js";
import { ConvEmitter, ConvTransposeEmitter } from "./conv.js";
import { ELEMENTWISE_EMITTERS } from "./elementwise.js";
import { GatherNDEmitter } from "./gather-nd.js";
import { ResizeCubicEmitter } from "./resize-cubic.js";
import { ModEmitter } from "./integer-division.js";
import { MATH_EMITTERS } from "./math.js";
import { GemmEmitter, MatMulEmitter } from "./matmul.js";
import { BatchNormalizationEmitter, LayerNormalizationEmitter } from "./normalization.js";
import { QUANTIZE_EMITTERS } from "./quantize.js";
import { AveragePoolEmitter, GlobalAveragePoolEmitter, GlobalMaxPoolEmitter, MaxPoolEmitter } from "./pool.js";
import { ArgMaxEmitter, REDUCE_EMITTERS } from "./reduce.js";
import { LogSoftmaxEmitter, SoftmaxEmitter } from "./softmax.js";
import { TopKEmitter } from "./topk.js";
import { TRIG_EMITTERS } from "./trig.js";
import type { OpEmitter } from "./types.js";

/**
 * IR op kinds the compiler deliberately does not compile, each with the reason (shown to a user
 * whose graph holds one). Empty today: every non-view op has an emitter.
 */
export const COMPILER_UNSUPPORTED: Readonly<Record<string, string>> = {};

const EMITTERS: Readonly<Record<string, OpEmitter<any>>> = {
  // nn-ops
  MatMul: MatMulEmitter,
  Gemm: GemmEmitter,
  Conv: ConvEmitter,
  ConvTranspose: ConvTransposeEmitter,
  MaxPool: MaxPoolEmitter,
  AveragePool: AveragePoolEmitter,
  GlobalMaxPool: GlobalMaxPoolEmitter,
  GlobalAveragePool: GlobalAveragePoolEmitter,
  // arith-ops
  ...ELEMENTWISE_EMITTERS,
  Mod: ModEmitter,
  ...REDUCE_EMITTERS,
  ArgMax: ArgMaxEmitter,
  TopK: TopKEmitter,
  // math-ops
  ...MATH_EMITTERS,
  ...TRIG_EMITTERS,
  Softmax: SoftmaxEmitter,
  LogSoftmax: LogSoftmaxEmitter,
  LayerNormalization: LayerNormalizationEmitter,
  BatchNormalization: BatchNormalizationEmitter,
  // array-ops
  Transpose: TransposeEmitter,
  Concat: ConcatEmitter,
  Split: SplitEmitter,
  Slice: SliceEmitter,
  Gather: GatherEmitter,
  GatherND: GatherNDEmitter,
  Expand: ExpandEmitter,
  Tile: TileEmitter,
  Pad: PadEmitter,
  Resize: ResizeEmitter,
  ResizeCubic: ResizeCubicEmitter,
  // quantization (quantize.ts)
  ...QUANTIZE_EMITTERS,
  // unsigned integers (bitshift.ts), dynamic quantization (dynamic-quantize.ts)
  BitShift: BitShiftEmitter,
  DynamicQuantizeLinear: DynamicQuantizeLinearEmitter,
};

/** The kinds that have an emitter (for the registry completeness test). */
export function emitterKinds(): string[] {
  return Object.keys(EMITTERS);
}

export function hasEmitter(kind: string): boolean {
  return Object.hasOwn(EMITTERS, kind);
}

export function emitterFor(kind: string): OpEmitter<Attrs> {
  const e = EMITTERS[kind];
  if (!e) throw new Error(`the compiler has no emitter for op kind '${kind}'`);
  return e;
}
