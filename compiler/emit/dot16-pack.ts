/**
 * The packing step of the FAST build's 16-bit dot kernels (dot16.ts, dot16-columns.ts): each op
 * copies its activation operand into i16 scratch memory (FunctionBuilder.scratch, past the
 * canonical memory), checking that every value lies in [-32768, 32767], then runs its dot kernel
 * if all did, else its existing kernel. The scratch's first word counts the runs that took the
 * dot path (tests read it through the module's `scratch` export).
 */
import type { Expr, FunctionBuilder, Local } from "../binaryen.js";

/** The scratch begins with the run counter (one word, padded to keep the buffers 16-byte aligned). */
const COUNTER_BYTES = 16;

/**
 * Copies rows of i32 values into i16 scratch, checking that each lies in [-32768, 32767]: eight
 * at a time where the row is contiguous (two v128 loads, the lanes' running minimum and maximum,
 * `i16x8.narrow_i32x4_s`, then one store, or eight lane stores for a strided destination), the
 * rest one by one. A value out of range is stored saturated, but then `bad` is set and the packed
 * operand is never used.
 */
export class RangeCheckedCopy {
  private readonly low: Local;
  private readonly high: Local;
  constructor(private readonly f: FunctionBuilder, private readonly bad: Local) {
    [this.low, this.high] = [f.local("v128"), f.local("v128")];
  }

  /** Before the first row: 0 is in range, so it may start both the minimum and the maximum. */
  start(): Expr[] {
    return [this.f.set(this.low, this.f.v128Zero()), this.f.set(this.high, this.f.v128Zero())];
  }

  /** Copy `count` values from src + srcAddress (srcStep bytes apart) to dst (dstStep bytes apart); src and dst are left as they were. */
  row(src: Local, srcAddress: number, srcStep: number, dst: Local, dstStep: number, count: number): Expr[] {
    const f = this.f;
    const [s, d, v] = [f.local("i32"), f.local("i32"), f.local("i32")];
    const [a, b, packed] = [f.local("v128"), f.local("v128"), f.local("v128")];
    const vectors = srcStep === 4 ? Math.floor(count / 8) : 0;
    const store = dstStep === 2 ? [f.v128Store(f.get(d), f.get(packed))]
      : Array.from({ length: 8 }, (_, j) => f.v128Store16Lane(f.get(d), f.get(packed), j, j * dstStep));
    return [
      f.set(s, f.get(src)),
      f.set(d, f.get(dst)),
      f.loop(vectors, () => [
        f.set(a, f.v128Load(f.get(s), srcAddress)),
        f.set(b, f.v128Load(f.get(s), srcAddress + 16)),
        f.set(this.low, f.i32x4MinS(f.get(this.low), f.i32x4MinS(f.get(a), f.get(b)))),
        f.set(this.high, f.i32x4MaxS(f.get(this.high), f.i32x4MaxS(f.get(a), f.get(b)))),
        f.set(packed, f.i16x8NarrowI32x4S(f.get(a), f.get(b))),
        ...store,
      ], [[s, 32], [d, 8 * dstStep]]),
      // The rest: bad |= (v + 2^15) >> 16, which is 0 exactly for v in range (i32 wrapping included).
      f.loop(count - 8 * vectors, () => [
        f.set(v, f.i32Load(f.get(s), srcAddress)),
        f.set(this.bad, f.i32Or(f.get(this.bad), f.i32ShrS(f.i32Add(f.get(v), f.i32Const(0x8000)), f.i32Const(16)))),
        f.i32Store16(f.get(d), f.get(v)),
      ], [[s, srcStep], [d, dstStep]]),
    ];
  }

  /** After the last row: bad |= some lane's minimum or maximum is out of range. */
  finish(): Expr {
    const f = this.f;
    const lanes = (v: number) => f.v128ConstI32([v, v, v, v]);
    return f.set(this.bad, f.i32Or(f.get(this.bad), f.v128AnyTrue(f.v128Or(
      f.i32x4LtS(f.get(this.low), lanes(-32768)), f.i32x4GtS(f.get(this.high), lanes(32767))))));
  }
}

/**
 * The op: pack (zeroing the buffer first when it has padding), then the dot kernel if every
 * value fit, else `fallback`. `pack(base, copy)` writes the packed operand at the scratch
 * address `base` (an i32 local) with `copy`, which checks the range.
 */
export function packThenChoose(f: FunctionBuilder, bufferBytes: number, zeroFirst: boolean,
  pack: (base: Local, copy: RangeCheckedCopy) => Expr[], kernel: (base: Local) => Expr[], fallback: () => Expr[]): Expr[] {
  const [counter, base, bad, zero] = [f.local("i32"), f.local("i32"), f.local("i32"), f.local("i32")];
  const copy = new RangeCheckedCopy(f, bad);
  const padded = Math.ceil(bufferBytes / 16) * 16;
  return [
    f.set(counter, f.scratch(COUNTER_BYTES + padded)),
    f.set(base, f.i32Add(f.get(counter), f.i32Const(COUNTER_BYTES))),
    f.set(bad, f.i32Const(0)),
    ...(zeroFirst ? [f.set(zero, f.get(base)), f.loop(padded / 16, () => [f.v128Store(f.get(zero), f.v128Zero())], [[zero, 16]])] : []),
    ...copy.start(),
    ...pack(base, copy),
    copy.finish(),
    f.if(f.get(bad), fallback(), [
      f.i32Store(f.get(counter), f.i32Add(f.i32Load(f.get(counter)), f.i32Const(1))),
      ...kernel(base),
    ]),
  ];
}
