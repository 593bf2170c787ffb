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
 */
import { I32_MAX, I32_MIN } from "../../lib/tensor/fixed.js";
import type { Expr, FunctionBuilder, Local } from "../binaryen.js";
import { nest } from "./loops.js";
import { type BiasTerms, finishAccumulator, loadBiasTerm, type MacSpec } from "./mac.js";
import type { EmitContext, FusedActivation } from "./types.js";

/** Output channels per block: two v128 of i32 weights, four i64x2 accumulators. */
export const LANES = 8;
/** Bytes of the packed weights of one tap of one block. */
export const BLOCK_BYTES = LANES * 4;

/** Four i64x2 accumulators, one per pair of lanes. */
export class Accumulators {
  readonly acc: Local[];
  constructor(private readonly f: FunctionBuilder) {
    this.acc = [0, 1, 2, 3].map(() => f.local("v128"));
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
      f.set(w[0], f.v128Load(f.get(wp), wOffset)),
      f.set(w[1], f.v128Load(f.get(wp), wOffset + 16)),
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
      f.set(w[0], f.v128Load(f.get(wp), wOffset)),
      f.set(w[1], f.v128Load(f.get(wp), wOffset + 16)),
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
 * LANES + j is weight(g, t, b * LANES + j), or 0 past the last channel.
 */
export function packWeights(groups: number, channels: number, taps: number, weight: (g: number, t: number, channel: number) => number): Int32Array {
  const blocks = Math.ceil(channels / LANES);
  const packed = new Int32Array(groups * blocks * taps * LANES);
  let k = 0;
  for (let g = 0; g < groups; g++) {
    for (let b = 0; b < blocks; b++) {
      for (let t = 0; t < taps; t++) {
        for (let j = 0; j < LANES; j++, k++) {
          const ch = b * LANES + j;
          if (ch < channels) packed[k] = weight(g, t, ch);
        }
      }
    }
  }
  return packed;
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
 * every block, is repacked column block by column block; each A value is broadcast.
 */
export function emitMacSimd(ctx: EmitContext, spec: MacSpec, bValues: Int32Array): Expr[] {
  const { f } = ctx;
  const { a, b, out, bias } = spec;
  const packed = ctx.table(packWeights(1, spec.cols, spec.depth, (_, t, c) => bValues[t * b.rowStep + c * b.colStep]));
  const biasWidth = bias?.width ?? 0;
  const [pa, po, pb, pw, pOutBlock, pBiasBlock, pWBlock, ia] = Array.from({ length: 8 }, () => f.local("i32"));
  const accs = new Accumulators(f);
  const output: LaneOutput = { spec, outAddress: out.address, outLaneBytes: out.colStep * 4, bias, biasLaneElements: bias?.colStep ?? 0 };
  const block = (lanes: number) => [
    ...accs.clear(),
    f.set(ia, f.get(pa)),
    f.set(pw, f.get(pWBlock)),
    f.loop(spec.depth, () => accs.tap(f.get(pw), packed, f.get(ia), a.address), [[ia, a.colStep * 4], [pw, BLOCK_BYTES]]),
    ...storeLanes(f, accs, lanes, output, pOutBlock, pBiasBlock),
  ];
  const dims = [...spec.blocks.map((k) => k.count), spec.rows];
  return [
    ...[pa, po, pb].map((p) => f.set(p, f.i32Const(0))),
    nest(f, dims, [
      { ptr: pa, strides: [...spec.blocks.map((k) => k.a * 4), a.rowStep * 4] },
      { ptr: po, strides: [...spec.blocks.map((k) => k.out * 4), out.rowStep * 4] },
      { ptr: pb, strides: [...spec.blocks.map((k) => k.bias * biasWidth), (bias?.rowStep ?? 0) * biasWidth] },
    ], () => [
      f.set(pOutBlock, f.get(po)),
      f.set(pBiasBlock, f.get(pb)),
      f.set(pWBlock, f.i32Const(0)),
      ...channelBlocks(f, spec.cols, [[pOutBlock, LANES * out.colStep * 4], [pBiasBlock, LANES * (bias?.colStep ?? 0) * biasWidth],
        [pWBlock, spec.depth * BLOCK_BYTES]], block),
    ]),
  ];
}

