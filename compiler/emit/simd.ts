/**
 * The FAST build's multiply-accumulate kernels (SIMD; never in the canonical build). The same
 * exact arithmetic as mac.ts, eight output channels at a time: the compile-time weights are
 * repacked so that the eight channels of one tap are contiguous, each input value is broadcast
 * to four i32 lanes, and `i64x2.extmul_{low,high}_i32x4_s` gives exact i64 products that are
 * summed in four i64x2 accumulators (wrapping adds, as i64.add). The lanes are then narrowed
 * two at a time with the i64x2 form of `finishAccumulator` (the same wrapping adds and shifts,
 * saturation and activation; the scalar code where the bias or scale does not vectorize), so
 * every output is bit-identical to the canonical build and the memory at the op boundary is the
 * same. conv-positions.ts uses the same accumulators with output columns as the lanes. Repacked weights and tap tables are
 * fast-only tables (placed after the canonical build's data).
 * Narrow weights (mac.ts) are repacked as their q, 1 or 2 bytes each, in the same layout (the
 * tables shrink with the weights); a tap's eight q are widened to i32 lanes by sign-extending
 * loads (`v128.load16x4_s`, or `v128.load8x8_s` and `i32x4.extend_{low,high}_i16x8_s`), so the
 * products are exactly x * q, and before the narrowing each lane's exact i64 sum is shifted
 * left by its channel's shift (one `i64x2.shl` when every channel has the same shift, else an
 * `i64x2.mul` by a fast-only table of 2^s per lane), which equals mac.ts's shift of the sum
 * modulo 2^64: the canonical result, wrapping included.
 */
import { I32_MAX, I32_MIN } from "../../lib/tensor/fixed.js";
import type { Expr, FunctionBuilder, Local } from "../binaryen.js";
import { nest } from "./loops.js";
import { type BiasTerms, finishAccumulator, loadBiasTerm, type MacSpec, type NarrowWeights, weightBytes } from "./mac.js";
import type { EmitContext, FusedActivation } from "./types.js";

/** Output channels per block: two v128 of i32 weights, four i64x2 accumulators. */
export const LANES = 8;
/** Bytes of the packed weights of one tap of one block: 4 per weight, 1 or 2 per narrow q. */
export const blockBytes = (narrow: NarrowWeights | undefined): number => LANES * weightBytes(narrow);

/**
 * Four i64x2 accumulators, one per pair of lanes, over packed weights of `narrow`'s width (i32
 * without it).
 */
export class Accumulators {
  readonly acc: Local[];
  constructor(private readonly f: FunctionBuilder, private readonly narrow?: NarrowWeights) {
    this.acc = [0, 1, 2, 3].map(() => f.local("v128"));
  }

  /** Set w[0], w[1] to the i32 lanes 0-3 and 4-7 of the eight packed weights at wp + offset (q sign-extended when narrow). */
  private loadWeights(w: readonly Local[], wp: Local, offset: number): Expr[] {
    const f = this.f;
    const bytes = weightBytes(this.narrow);
    if (bytes === 4) return [f.set(w[0], f.v128Load(f.get(wp), offset)), f.set(w[1], f.v128Load(f.get(wp), offset + 16))];
    if (bytes === 2) return [f.set(w[0], f.v128Load16x4S(f.get(wp), offset)), f.set(w[1], f.v128Load16x4S(f.get(wp), offset + 8))];
    return [
      f.set(w[1], f.v128Load8x8S(f.get(wp), offset)),
      f.set(w[0], f.i32x4ExtendLowI16x8S(f.get(w[1]))),
      f.set(w[1], f.i32x4ExtendHighI16x8S(f.get(w[1]))),
    ];
  }

  /**
   * Shift the sums of lanes 0..lanes-1 left by their channels' shifts (narrow weights; nothing
   * for i32 ones): by the common shift, or times the i64x2 of 2^s of accumulator k from
   * `multipliers(k)` (a laneMultipliers table). Both are exact modulo 2^64, as mac.ts's shift.
   */
  shiftChannels(lanes: number, multipliers: (k: number) => Expr): Expr[] {
    const { f, narrow } = this;
    if (!narrow || narrow.shift === 0) return [];
    return this.acc.slice(0, Math.ceil(lanes / 2)).map((a, k) =>
      f.set(a, narrow.shift !== undefined ? f.i64x2Shl(f.get(a), narrow.shift) : f.i64x2Mul(f.get(a), multipliers(k))));
  }

  /** Shift every lane's sum left by one run-time amount (an i32 in 0..31, built by `shift()` per use): a channel's shift when the lanes are positions. */
  shiftAll(shift: () => Expr): Expr[] {
    return this.acc.map((a) => this.f.set(a, this.f.i64x2ShlBy(this.f.get(a), shift())));
  }

  clear(): Expr[] {
    return this.acc.map((a) => this.f.set(a, this.f.v128Zero()));
  }

  /**
   * acc[k] += the exact i64 products of the i32 lanes of vectors[k >> 1] (low half for even k,
   * high half for odd k) with the value broadcast in `splat`: lanes 4v..4v+3 from vectors[v].
   */
  multiplyAdd(vectors: readonly Local[], splat: Local): Expr[] {
    const f = this.f;
    return this.acc.slice(0, 2 * vectors.length).map((a, k) => {
      const product = (k & 1 ? f.i64x2ExtmulHighI32x4S : f.i64x2ExtmulLowI32x4S).call(f, f.get(vectors[k >> 1]), f.get(splat));
      return f.set(a, f.i64x2Add(f.get(a), product));
    });
  }

  /** acc[lane] += x * w[lane] for the eight packed weights at `wPtr + wOffset` and the input value at `xPtr + xOffset`. */
  tap(wPtr: Expr, wOffset: number, xPtr: Expr, xOffset: number): Expr[] {
    const f = this.f;
    const xs = f.local("v128");
    const w = [f.local("v128"), f.local("v128")];
    const wp = f.local("i32");
    return [
      f.set(wp, wPtr),
      f.set(xs, f.v128Load32Splat(xPtr, xOffset)),
      ...this.loadWeights(w, wp, wOffset),
      ...this.multiplyAdd(w, xs),
    ];
  }

  /**
   * Two positions at once: this (input value at xOffset) and `other` (input value at xOffset +
   * dx) share the eight weights, loaded once.
   */
  tapPair(other: Accumulators, wPtr: Expr, wOffset: number, xPtr: Expr, xOffset: number, dx: number): Expr[] {
    const f = this.f;
    const [xa, xb] = [f.local("v128"), f.local("v128")];
    const w = [f.local("v128"), f.local("v128")];
    const [wp, xp] = [f.local("i32"), f.local("i32")];
    return [
      f.set(wp, wPtr),
      f.set(xp, xPtr),
      f.set(xa, f.v128Load32Splat(f.get(xp), xOffset)),
      f.set(xb, f.v128Load32Splat(f.get(xp), xOffset + dx)),
      ...this.loadWeights(w, wp, wOffset),
      ...this.multiplyAdd(w, xa),
      ...other.multiplyAdd(w, xb),
    ];
  }

  /** The exact i64 sum of lane j. */
  lane(j: number): Expr {
    return this.f.i64x2ExtractLane(this.f.get(this.acc[j >> 1]), (j & 1) as 0 | 1);
  }
}

/** How lane j of a block is finished: narrowing spec, output byte step per lane, bias step per lane. */
export interface LaneOutput {
  spec: Pick<MacSpec, "scale" | "accFrac" | "outFrac"> & { activation?: FusedActivation };
  outAddress: number;
  outLaneBytes: number;
  bias?: BiasTerms;
  biasLaneElements: number;
}

/**
 * Narrow and store lanes 0..lanes-1 at outPtr (+ j * outLaneBytes), with their bias terms at
 * biasPtr: in SIMD (narrowLanes) when the scale is 1 and the bias terms are one broadcast term or
 * consecutive i64 table entries, else lane by lane with the scalar finishAccumulator.
 */
export function storeLanes(f: FunctionBuilder, accs: Accumulators, lanes: number, o: LaneOutput, outPtr: Local, biasPtr: Local): Expr[] {
  const bias = o.bias;
  const code: Expr[] = [];
  // The bias terms of accumulator k (lanes 2k, 2k + 1) as an i64x2; null: not expressible so.
  let vectorBias: ((k: number) => Expr) | undefined | null;
  if (!bias) {
    vectorBias = undefined;
  } else if (o.biasLaneElements === 0) {
    const term = f.local("v128");
    code.push(f.set(term, f.i64x2Splat(loadBiasTerm(f, bias, f.get(biasPtr)))));
    vectorBias = () => f.get(term);
  } else if (bias.width === 8 && o.biasLaneElements === 1) {
    vectorBias = (k) => f.v128Load(f.get(biasPtr), bias.address + 16 * k);
  } else {
    vectorBias = null;
  }
  if (o.spec.scale !== 1 || vectorBias === null) {
    return Array.from({ length: lanes }, (_, j) => {
      const term = bias && loadBiasTerm(f, { ...bias, address: bias.address + j * o.biasLaneElements * bias.width }, f.get(biasPtr));
      return f.i32Store(f.get(outPtr), finishAccumulator(f, accs.lane(j), o.spec, term), o.outAddress + j * o.outLaneBytes);
    });
  }
  const vectors = narrowLanes(f, accs, lanes, o.spec, vectorBias, code);
  for (let j = 0; j < lanes; j++) {
    const address = o.outAddress + j * o.outLaneBytes;
    if (o.outLaneBytes === 4 && j % 4 === 0 && j + 4 <= lanes) {
      code.push(f.v128Store(f.get(outPtr), f.get(vectors[j >> 2]), address));
      j += 3;
    } else {
      code.push(f.v128Store32Lane(f.get(outPtr), f.get(vectors[j >> 2]), j % 4, address));
    }
  }
  return code;
}

/** Bytes 0-3 and 8-11 of each operand: the low i32 halves of two i64x2 vectors, as one i32x4. */
export const LOW_HALVES = [0, 1, 2, 3, 8, 9, 10, 11, 16, 17, 18, 19, 24, 25, 26, 27];

/**
 * finishAccumulator (mac.ts) with scale 1 on lanes 0..lanes-1, two at a time: the bias terms of
 * accumulator k (an i64x2, from `bias(k)`) added, the same wrapping round-half-up shift, the
 * saturation to i32 and the activation, lane by lane as the scalar code does. Appends the code
 * to `code` and returns one i32x4 local per four lanes.
 */
function narrowLanes(f: FunctionBuilder, accs: Accumulators, lanes: number, spec: LaneOutput["spec"],
  bias: ((k: number) => Expr) | undefined, code: Expr[]): Local[] {
  const shift = spec.accFrac - spec.outFrac;
  const i64s = (v: bigint) => f.v128ConstI64([v, v]);
  const [min, max] = [BigInt(I32_MIN), BigInt(I32_MAX)];
  const wide = (k: number): Local => {
    const t = f.local("v128");
    let v = f.get(accs.acc[k]);
    if (bias) v = f.i64x2Add(v, bias(k));
    if (shift > 0) v = f.i64x2ShrS(f.i64x2Add(v, i64s(1n << BigInt(shift - 1))), shift);
    if (shift < 0) v = f.i64x2Shl(v, -shift);
    code.push(
      f.set(t, v),
      f.set(t, f.v128Bitselect(i64s(max), f.get(t), f.i64x2GtS(f.get(t), i64s(max)))),
      f.set(t, f.v128Bitselect(i64s(min), f.get(t), f.i64x2LtS(f.get(t), i64s(min)))),
    );
    return t;
  };
  const act = spec.activation;
  const [lo, hi] = !act ? [I32_MIN, I32_MAX] : act.kind === "Relu" ? [0, I32_MAX] : [act.min, act.max];
  return Array.from({ length: Math.ceil(lanes / 4) }, (_, v) => {
    const [a, b] = [wide(2 * v), wide(2 * v + 1)];
    let out = f.i8x16Shuffle(f.get(a), f.get(b), LOW_HALVES);
    if (lo !== I32_MIN) out = f.i32x4MaxS(out, f.v128ConstI32([lo, lo, lo, lo]));
    if (hi !== I32_MAX) out = f.i32x4MinS(out, f.v128ConstI32([hi, hi, hi, hi]));
    const vector = f.local("v128");
    code.push(f.set(vector, out));
    return vector;
  });
}

/**
 * Repack weights for blocks of LANES channels, per group: entry ((g * blocks + b) * taps + t) *
 * LANES + j is weight(g, t, b * LANES + j), or 0 past the last channel. With narrow weights the
 * entries are q = weight >> s_c (exact: every value is q << s_c) at their width; channel c of
 * group g is channel g * channels + c of `narrow.shifts`.
 */
export function packWeights(groups: number, channels: number, taps: number, weight: (g: number, t: number, channel: number) => number,
  narrow?: NarrowWeights): Int8Array | Int16Array | Int32Array {
  const blocks = Math.ceil(channels / LANES);
  const length = groups * blocks * taps * LANES;
  const bytes = weightBytes(narrow);
  const packed = bytes === 1 ? new Int8Array(length) : bytes === 2 ? new Int16Array(length) : new Int32Array(length);
  let k = 0;
  for (let g = 0; g < groups; g++) {
    for (let b = 0; b < blocks; b++) {
      for (let t = 0; t < taps; t++) {
        for (let j = 0; j < LANES; j++, k++) {
          const ch = b * LANES + j;
          if (ch < channels) packed[k] = narrow ? weight(g, t, ch) >> narrow.shifts[g * channels + ch] : weight(g, t, ch);
        }
      }
    }
  }
  return packed;
}

/**
 * Place packed weights as a table. The table pool takes i32 or i64 arrays: q arrays go in as
 * their bytes, zero-padded to whole i32 (the padding is never read).
 */
export function placePacked(ctx: EmitContext, packed: Int8Array | Int16Array | Int32Array): number {
  if (packed instanceof Int32Array) return ctx.table(packed);
  const words = new Int32Array(Math.ceil(packed.byteLength / 4));
  new Uint8Array(words.buffer).set(new Uint8Array(packed.buffer, packed.byteOffset, packed.byteLength));
  return ctx.table(words);
}

/**
 * The i64 multipliers 2^s_c of narrow weights whose shifts differ, laid out like packWeights'
 * lanes: entry g * blocks * LANES + b * LANES + j is 2^(shift of channel b * LANES + j of group
 * g), 1 past the last channel; accumulator k of block b reads its i64x2 at 16 * k.
 */
export function laneMultipliers(groups: number, channels: number, narrow: NarrowWeights): BigInt64Array {
  const padded = Math.ceil(channels / LANES) * LANES;
  return BigInt64Array.from({ length: groups * padded }, (_, i) => {
    const [g, ch] = [Math.floor(i / padded), i % padded];
    return ch < channels ? 1n << BigInt(narrow.shifts[g * channels + ch]) : 1n;
  });
}

/**
 * For each block of LANES output channels (full blocks, then a partial tail block): `body`
 * with the number of valid lanes, after which the given pointers advance by their per-block steps.
 */
export function channelBlocks(f: FunctionBuilder, channels: number, steps: [Local, number][], body: (lanes: number) => Expr[]): Expr[] {
  const full = Math.floor(channels / LANES);
  const tail = channels % LANES;
  return [
    nest(f, [full], steps.map(([ptr, step]) => ({ ptr, strides: [step] })), () => body(LANES)),
    ...(tail > 0 ? body(tail) : []),
  ];
}

/**
 * emitMac (mac.ts) with eight output columns per pass: B, known at compile time and the same for
 * every block, is repacked column block by column block; each A value is broadcast. Rows go two
 * at a time (a last odd row alone), sharing each load of eight weights (and, for narrow weights,
 * their widening) between two sets of accumulators.
 */
export function emitMacSimd(ctx: EmitContext, spec: MacSpec, bValues: Int32Array): Expr[] {
  const { f } = ctx;
  const { a, b, out, bias, narrow } = spec;
  const packed = placePacked(ctx, packWeights(1, spec.cols, spec.depth, (_, t, c) => bValues[t * b.rowStep + c * b.colStep], narrow));
  const multipliers = narrow?.table !== undefined ? ctx.table(laneMultipliers(1, spec.cols, narrow)) : undefined;
  const biasWidth = bias?.width ?? 0;
  const tapBytes = blockBytes(narrow);
  const [pa, po, pb, paRow, poRow, pbRow, pw, pOutBlock, pBiasBlock, pWBlock, pMulBlock, ia] = Array.from({ length: 12 }, () => f.local("i32"));
  const accs = [new Accumulators(f, narrow), new Accumulators(f, narrow)];
  const output: LaneOutput = { spec, outAddress: out.address, outLaneBytes: out.colStep * 4, bias, biasLaneElements: bias?.colStep ?? 0 };
  // The second row of a pair: its A values, outputs and bias terms one row on.
  const secondOutput: LaneOutput = { ...output, outAddress: out.address + out.rowStep * 4,
    bias: bias && { ...bias, address: bias.address + bias.rowStep * biasWidth } };
  const block = (rows: 1 | 2) => (lanes: number) => [
    ...accs.slice(0, rows).flatMap((acc) => acc.clear()),
    f.set(ia, f.get(paRow)),
    f.set(pw, f.get(pWBlock)),
    f.loop(spec.depth, () => rows === 2
      ? accs[0].tapPair(accs[1], f.get(pw), packed, f.get(ia), a.address, a.rowStep * 4)
      : accs[0].tap(f.get(pw), packed, f.get(ia), a.address), [[ia, a.colStep * 4], [pw, tapBytes]]),
    ...accs.slice(0, rows).flatMap((acc) => acc.shiftChannels(lanes, (k) => f.v128Load(f.get(pMulBlock), multipliers! + 16 * k))),
    ...storeLanes(f, accs[0], lanes, output, pOutBlock, pBiasBlock),
    ...(rows === 2 ? storeLanes(f, accs[1], lanes, secondOutput, pOutBlock, pBiasBlock) : []),
  ];
  /** Every column block of the row (pair) at paRow / poRow / pbRow. */
  const rowBlocks = (rows: 1 | 2): Expr[] => [
    f.set(pOutBlock, f.get(poRow)),
    f.set(pBiasBlock, f.get(pbRow)),
    f.set(pWBlock, f.i32Const(0)),
    ...(multipliers !== undefined ? [f.set(pMulBlock, f.i32Const(0))] : []),
    ...channelBlocks(f, spec.cols, [[pOutBlock, LANES * out.colStep * 4], [pBiasBlock, LANES * (bias?.colStep ?? 0) * biasWidth],
      [pWBlock, spec.depth * tapBytes], ...(multipliers !== undefined ? [[pMulBlock, LANES * 8] as [Local, number]] : [])], block(rows)),
  ];
  const rowSteps = [a.rowStep * 4, out.rowStep * 4, (bias?.rowStep ?? 0) * biasWidth];
  return [
    ...[pa, po, pb].map((p) => f.set(p, f.i32Const(0))),
    nest(f, spec.blocks.map((k) => k.count), [
      { ptr: pa, strides: spec.blocks.map((k) => k.a * 4) },
      { ptr: po, strides: spec.blocks.map((k) => k.out * 4) },
      { ptr: pb, strides: spec.blocks.map((k) => k.bias * biasWidth) },
    ], () => [
      f.set(paRow, f.get(pa)),
      f.set(poRow, f.get(po)),
      f.set(pbRow, f.get(pb)),
      f.loop(Math.floor(spec.rows / 2), () => rowBlocks(2), [paRow, poRow, pbRow].map((p, k) => [p, 2 * rowSteps[k]] as [Local, number])),
      ...(spec.rows % 2 === 1 ? rowBlocks(1) : []),
    ]),
  ];
}
