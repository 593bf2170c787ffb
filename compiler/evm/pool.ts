/**
 * Pools for the EVM target, with lib/ops/pool.ts's semantics: MaxPool picks the largest input
 * value under the window (taps on padding are skipped; a window with none gives I32_MIN),
 * AveragePool and GlobalAveragePool sum exactly and divide once (`meanAt`: divRound, nearest,
 * ties away from zero, then saturate), GlobalMaxPool is the max over each plane. Windows come
 * from the reference's `resolveWindows`; positions are split into runs whose taps are the same
 * (mac-ops.ts `planAxis`), so each run's taps are unrolled with constant offsets.
 */
import { axisCounts, liftTo2d, resolveWindows, type AxisWindow, type WindowAttrs } from "../../lib/ops/window.js";
import { I32_MIN } from "../../lib/tensor/fixed.js";
import { dup, swap } from "./asm.js";
import { emitPick } from "./elementwise.js";
import { type AxisSegment, planAxis } from "./mac-ops.js";
import { type Buffer, bufferAt, type Program } from "./program.js";

/** meanAt(sum, count, from, to) of the sum on top of the stack. */
function emitMean(p: Program, count: number, from: number, to: number): void {
  const a = p.asm;
  let divisor = BigInt(count);
  if (to >= from) a.push(to - from).op("SHL");
  else divisor <<= BigInt(from - to);
  // divRound: q = (2|n| + d) / (2d), with the sign of n.
  const positive = a.newLabel("mean-abs");
  const done = a.newLabel("mean-sign");
  a.op(dup(1), "PUSH0", "SGT", swap(1), dup(2), "ISZERO").jumpi(positive);
  a.op("PUSH0", "SUB");
  a.label(positive);
  a.push(1).op("SHL").push(divisor).op("ADD").push(2n * divisor).op(swap(1), "DIV", swap(1), "ISZERO").jumpi(done);
  a.op("PUSH0", "SUB");
  a.label(done);
  p.saturate();
}

const emitMax = (p: Program) => emitPick(p, "max");

/** Split runs so that every position of a run averages over the same count (count_include_pad). */
function splitByCount(segments: AxisSegment[], counts: Int32Array): AxisSegment[] {
  const out: AxisSegment[] = [];
  for (const s of segments) {
    let start = 0;
    for (let i = 1; i <= s.count; i++) {
      if (i === s.count || counts[s.u0 + i] !== counts[s.u0 + start]) {
        out.push({ ...s, u0: s.u0 + start, count: i - start });
        start = i;
      }
    }
  }
  return out;
}

export interface PoolSpec {
  kind: "MaxPool" | "AveragePool";
  attrs: WindowAttrs & { ceil_mode: number; count_include_pad?: number };
}

export function emitPool(p: Program, spec: PoolSpec, x: Buffer, out: Buffer): void {
  const a = p.asm;
  const windows = resolveWindows(spec.kind, x.shape.slice(2), spec.attrs.kernel_shape, spec.attrs, spec.attrs.ceil_mode === 1);
  const [rowWindow, colWindow] = liftTo2d(windows);
  const includePad = spec.attrs.count_include_pad === 1;
  const segmentsOf = (w: AxisWindow) => {
    const segments = planAxis(w, true).segments;
    return spec.kind === "AveragePool" ? splitByCount(segments, axisCounts(w, includePad)) : segments;
  };
  const rowCounts = axisCounts(rowWindow, includePad);
  const colCounts = axisCounts(colWindow, includePad);
  const planes = x.shape[0] * x.shape[1];
  const inW = colWindow.inSize;
  const inPlane = rowWindow.inSize * inW;
  const outW = colWindow.outSize;
  const outPlane = rowWindow.outSize * outW;
  const isMax = spec.kind === "MaxPool";
  p.loop(planes, (planeReg) => {
    for (const r of segmentsOf(rowWindow)) {
      for (const c of segmentsOf(colWindow)) {
        const taps = r.taps.flatMap((ty) => c.taps.map((tx) => ty.delta * inW + tx.delta));
        p.loop(r.count, (rowReg) => {
          // Stack [end out base]: base is input index (u0 + y) * stride * inW + u0x * stride of this plane.
          const inBase = r.u0 * rowWindow.stride * inW + c.u0 * colWindow.stride;
          const pushPlaneRow = (buffer: Buffer, offset: number, plane: number, rowStep: number) => {
            a.push(planeReg).op("MLOAD").push(32 * plane).op("MUL");
            p.pushScaled(bufferAt(buffer, offset), rowReg, 32 * rowStep);
            a.op("ADD");
          };
          pushPlaneRow(x, inBase + c.count * colWindow.stride, inPlane, rowWindow.stride * inW);
          pushPlaneRow(out, r.u0 * outW + c.u0, outPlane, outW);
          pushPlaneRow(x, inBase, inPlane, rowWindow.stride * inW);
          const sweep = a.newLabel("pool");
          a.label(sweep);
          taps.forEach((off, t) => {
            a.op(dup(t === 0 ? 1 : 2));
            if (off !== 0) a.push(32 * off).op("ADD");
            a.op("MLOAD");
            if (t > 0) (isMax ? emitMax(p) : a.op("ADD"));
          });
          if (taps.length === 0) a.push(isMax ? I32_MIN : 0);
          if (!isMax) emitMean(p, rowCounts[r.u0] * colCounts[c.u0], x.frac, out.frac);
          a.op(dup(3), "MSTORE");
          a.push(32 * colWindow.stride).op("ADD", swap(1)).push(32).op("ADD", swap(1));
          a.op(dup(3), dup(2), "SUB").jumpi(sweep);
          a.op("POP", "POP", "POP");
        });
      }
    }
  });
}

/** GlobalAveragePool / GlobalMaxPool: one value per [N, C] plane. */
export function emitGlobalPool(p: Program, kind: "GlobalAveragePool" | "GlobalMaxPool", x: Buffer, out: Buffer): void {
  const a = p.asm;
  const planeSize = x.shape.slice(2).reduce((s, d) => s * d, 1);
  const planes = x.shape[0] * x.shape[1];
  p.loop(planes, (planeReg) => {
    // Stack [end ptr acc].
    const top = a.newLabel("global");
    p.pushScaled(bufferAt(x, planeSize), planeReg, 32 * planeSize);
    p.pushScaled(bufferAt(x), planeReg, 32 * planeSize);
    a.push(kind === "GlobalMaxPool" ? I32_MIN : 0);
    a.label(top);
    a.op(dup(2), "MLOAD");
    if (kind === "GlobalMaxPool") emitMax(p);
    else a.op("ADD");
    a.op(swap(1)).push(32).op("ADD", swap(1), dup(3), dup(3), "SUB").jumpi(top);
    if (kind === "GlobalAveragePool") emitMean(p, planeSize, x.frac, out.frac);
    p.pushScaled(bufferAt(out), planeReg, 32);
    a.op("MSTORE", "POP", "POP");
  });
}
