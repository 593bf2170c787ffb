/**
 * The FAST build's multiply-accumulate kernels (SIMD; never in the canonical build). The same
 * exact arithmetic as mac.ts, eight output channels at a time: the compile-time weights are
 * repacked so that the eight channels of one tap are contiguous, each input value is broadcast
 * to four i32 lanes, and `i64x2.extmul_{low,high}_i32x4_s` gives exact i64 products that are
 * summed in four i64x2 accumulators (wrapping adds, as i64.add). Each lane is then narrowed and
 * stored by the scalar `finishAccumulator`, so every output is bit-identical to the canonical
 * build and the memory at the op boundary is the same. Repacked weights and tap tables are
 * fast-only tables (placed after the canonical build's data).
 */
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
      ...this.acc.map((a, k) => {
        const product = (k & 1 ? f.i64x2ExtmulHighI32x4S : f.i64x2ExtmulLowI32x4S).call(f, f.get(w[k >> 1]), f.get(xs));
        return f.set(a, f.i64x2Add(f.get(a), product));
      }),
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
    const add = (accs: Accumulators, xs: Local) => accs.acc.map((a, k) => {
      const product = (k & 1 ? f.i64x2ExtmulHighI32x4S : f.i64x2ExtmulLowI32x4S).call(f, f.get(w[k >> 1]), f.get(xs));
      return f.set(a, f.i64x2Add(f.get(a), product));
    });
    return [
      f.set(wp, wPtr),
      f.set(xp, xPtr),
      f.set(xa, f.v128Load32Splat(f.get(xp), xOffset)),
      f.set(xb, f.v128Load32Splat(f.get(xp), xOffset + dx)),
      f.set(w[0], f.v128Load(f.get(wp), wOffset)),
      f.set(w[1], f.v128Load(f.get(wp), wOffset + 16)),
      ...add(this, xa),
      ...add(other, xb),
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

/** Narrow and store lanes 0..lanes-1 at outPtr (+ j * outLaneBytes), with their bias terms at biasPtr. */
export function storeLanes(f: FunctionBuilder, accs: Accumulators, lanes: number, o: LaneOutput, outPtr: Local, biasPtr: Local): Expr[] {
  return Array.from({ length: lanes }, (_, j) => {
    const bias = o.bias && loadBiasTerm(f, { ...o.bias, address: o.bias.address + j * o.biasLaneElements * o.bias.width }, f.get(biasPtr));
    return f.i32Store(f.get(outPtr), finishAccumulator(f, accs.lane(j), o.spec, bias), o.outAddress + j * o.outLaneBytes);
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

