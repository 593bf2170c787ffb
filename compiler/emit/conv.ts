/**
 * Conv and ConvTranspose as direct correlation loops (no im2col buffer): for every image, group,
 * block of output channels and output position, the exact i64 sum over the group's input
 * channels and the valid kernel taps, plus the bias term, narrowed once (mac.ts). Positions whose
 * taps are all valid (the interior) run the taps unrolled with immediate offsets; border
 * positions read per-axis tap tables (window.ts) and loop over exactly the valid taps, skipping
 * the padding (which the reference multiplies by zero). ConvTranspose is the same correlation
 * over a stepped input with the kernel flipped and its channel axes swapped: only the affine
 * addressing of the weights differs (negative tap steps), never a rearranged copy.
 * Two accumulation strategies share these loops: one output channel in an i64 local (the
 * canonical build), or eight channels in SIMD accumulators with repacked weights (simd.ts, the
 * FAST build, when the weights are constants and a group has enough output channels); groups
 * with few output channels run eight output columns per pass instead (conv-positions.ts).
 * Narrow weights (mac.ts) are read as q, each output channel's exact sum shifted left by its
 * shift: by the scalar strategy from the weight operand, by the SIMD strategies from their
 * repacked q tables (simd.ts), as narrow as the weights. With 8-bit q the FAST build first tries
 * the 16-bit dot kernels (dot16.ts, dot16-columns.ts), which run these loops when an input
 * value needs more than 16 bits.
 */
import type { ConvAttrs } from "../../lib/ops/conv.js";
import { type ConvTransposeAttrs, convTransposeGeometry } from "../../lib/ops/conv-transpose.js";
import { type AxisWindow, liftTo2d, resolveWindows } from "../../lib/ops/window.js";
import type { Expr, FunctionBuilder, Local } from "../binaryen.js";
import { emitPositionCorrelation } from "./conv-positions.js";
import { emitDotCorrelation } from "./dot16.js";
import { emitDotColumns } from "./dot16-columns.js";
import { nest } from "./loops.js";
import { type BiasTerms, biasTerms, finishAccumulator, loadBiasTerm, loadWeight, narrowWeights, type NarrowWeights, shiftChannel, weightBytes } from "./mac.js";
import { Accumulators, blockBytes, LANES, laneMultipliers, packWeights, placePacked, storeLanes } from "./simd.js";
import { axisTapTable, TAP_ENTRY_BYTES, type TapRun, tapRuns } from "./window.js";
import type { EmitContext, FusedActivation, Operand, OpEmitter } from "./types.js";

/** Element offset of weight (g, m, c, ky, kx) = base + g*group + m*outChannel + c*channel + ky*row + kx*col. */
interface WeightAddressing {
  base: number;
  group: number;
  outChannel: number;
  channel: number;
  row: number;
  col: number;
}

export interface Correlation {
  x: Operand;
  w: Operand;
  out: Operand;
  group: number;
  outChannels: number;
  windows: AxisWindow[];
  weights: WeightAddressing;
  bias?: BiasTerms;
  accFrac: number;
  activation?: FusedActivation;
  /** W stored narrow, with the shift of each correlation output channel (group-major). */
  narrow?: NarrowWeights;
}

/** How one block of output channels accumulates; all offsets in bytes. */
interface Strategy {
  /** Output channels per block. */
  lanes: number;
  /** Where the weights it reads start, and the byte offset of tap (0, 0, 0) of group 0, block 0. */
  weights: number;
  base: number;
  /** Weight byte steps per kernel row, kernel column, input channel, block and group. */
  row: number;
  col: number;
  channel: number;
  block: number;
  group: number;
  /** Byte steps per block and per group of the per-channel table of narrow weights' shifts it reads at pShift, if any. */
  shiftTable?: { block: number; group: number };
  begin(): Expr[];
  tap(w: Expr, wOffset: number, x: Expr, xOffset: number): Expr[];
  /** Narrow and store `lanes` outputs at pOut (+ one output plane per lane), bias terms at pBias, narrow weights' shifts at pShift. */
  finish(lanes: number, pOut: Local, pBias: Local, pShift: Local): Expr[];
  /** Two adjacent positions sharing each weight load (SIMD): the second reads inputs dx bytes on. */
  pair?: {
    begin(): Expr[];
    tap(w: Expr, x: Expr, dx: number): Expr[];
    finish(lanes: number, pOut: Local, pBias: Local, pShift: Local): Expr[];
  };
}

/**
 * Most kernel taps unrolled in the interior by the scalar strategy (larger kernels run the table
 * loops everywhere). Unrolling speeds the scalar loops 1.3-2.6x; the SIMD ones it does not.
 */
const MAX_UNROLLED_TAPS = 64;
/** At most this many taps unrolled over all the position classes of a plane (else only the interior is). */
const MAX_RUN_TAPS = 256;

function scalarStrategy(f: FunctionBuilder, c: Correlation): Strategy {
  const sum = f.local("i64");
  const spec = { scale: 1, accFrac: c.accFrac, outFrac: c.out.frac, activation: c.activation };
  const width = weightBytes(c.narrow);
  return {
    lanes: 1,
    weights: c.w.address,
    base: c.weights.base * width,
    row: c.weights.row * width,
    col: c.weights.col * width,
    channel: c.weights.channel * width,
    block: c.weights.outChannel * width,
    group: c.weights.group * width,
    shiftTable: c.narrow?.table !== undefined ? { block: 8, group: (c.outChannels / c.group) * 8 } : undefined,
    begin: () => [f.set(sum, f.i64Const(0))],
    tap: (w, wOffset, x, xOffset) => [f.set(sum, f.i64Add(f.get(sum),
      f.i64Mul(loadWeight(f, c.narrow, w, c.w.address + wOffset), f.i64Load32S(x, c.x.address + xOffset))))],
    finish: (_lanes, pOut, pBias, pShift) => [f.i32Store(f.get(pOut),
      finishAccumulator(f, shiftChannel(f, c.narrow, f.get(sum), () => f.get(pShift)), spec, c.bias && loadBiasTerm(f, c.bias, f.get(pBias))), c.out.address)],
  };
}

/** Eight output channels per block, weights repacked per tap (simd.ts). */
function simdStrategy(ctx: EmitContext, c: Correlation, kh: number, kw: number, outPlane: number): Strategy {
  const { f } = ctx;
  const perGroup = c.x.shape[1] / c.group;
  const outPerGroup = c.outChannels / c.group;
  const taps = perGroup * kh * kw;
  const w = c.weights;
  const values = c.w.values!;
  const narrow = c.narrow;
  const packed = placePacked(ctx, packWeights(c.group, outPerGroup, taps, (g, t, m) =>
    values[w.base + g * w.group + m * w.outChannel + Math.floor(t / (kh * kw)) * w.channel + (Math.floor(t / kw) % kh) * w.row + (t % kw) * w.col], narrow));
  const blocks = Math.ceil(outPerGroup / LANES);
  const multipliers = narrow?.table !== undefined ? ctx.table(laneMultipliers(c.group, outPerGroup, narrow)) : undefined;
  const tapBytes = blockBytes(narrow);
  const accs = new Accumulators(f, narrow);
  const second = new Accumulators(f, narrow);
  const output = { spec: { scale: 1, accFrac: c.accFrac, outFrac: c.out.frac, activation: c.activation }, outAddress: c.out.address,
    outLaneBytes: outPlane * 4, bias: c.bias, biasLaneElements: 1 };
  const shift = (a: Accumulators, lanes: number, pShift: Local) => a.shiftChannels(lanes, (k) => f.v128Load(f.get(pShift), multipliers! + 16 * k));
  return {
    lanes: LANES,
    weights: packed,
    base: 0,
    row: kw * tapBytes,
    col: tapBytes,
    channel: kh * kw * tapBytes,
    block: taps * tapBytes,
    group: blocks * taps * tapBytes,
    shiftTable: multipliers !== undefined ? { block: LANES * 8, group: blocks * LANES * 8 } : undefined,
    begin: () => accs.clear(),
    tap: (wp, wOffset, x, xOffset) => accs.tap(wp, packed + wOffset, x, c.x.address + xOffset),
    finish: (lanes, pOut, pBias, pShift) => [...shift(accs, lanes, pShift), ...storeLanes(f, accs, lanes, output, pOut, pBias)],
    pair: {
      begin: () => [...accs.clear(), ...second.clear()],
      tap: (wp, x, dx) => accs.tapPair(second, wp, packed, x, c.x.address, dx),
      finish: (lanes, pOut, pBias, pShift) => [
        ...shift(accs, lanes, pShift),
        ...shift(second, lanes, pShift),
        ...storeLanes(f, accs, lanes, output, pOut, pBias),
        ...storeLanes(f, second, lanes, { ...output, outAddress: c.out.address + 4 }, pOut, pBias),
      ],
    },
  };
}

/** The FAST build's 16-bit dot kernels for 8-bit q (dot16.ts, dot16-columns.ts), falling back to these loops; else the loops. */
function emitCorrelation(ctx: EmitContext, c: Correlation): Expr[] {
  const loops = () => emitCorrelationLoops(ctx, c);
  return emitDotCorrelation(ctx, c, loops) ?? emitDotColumns(ctx, c, loops) ?? loops();
}

function emitCorrelationLoops(ctx: EmitContext, c: Correlation): Expr[] {
  const positions = emitPositionCorrelation(ctx, c);
  if (positions) return positions;
  const { f } = ctx;
  const [batch, channels] = c.x.shape;
  const [rowWindow, colWindow] = liftTo2d(c.windows);
  const [kh, kw] = [rowWindow.kernel, colWindow.kernel];
  const inPlane = rowWindow.inSize * colWindow.inSize;
  const outPlane = rowWindow.outSize * colWindow.outSize;
  const perGroup = channels / c.group;
  const outPerGroup = c.outChannels / c.group;
  // The canonical build's tables first (the FAST build places them at the same addresses).
  const scalar = scalarStrategy(f, c);
  const canonicalRows = axisTapTable(rowWindow, scalar.row, colWindow.inSize * 4);
  const canonicalCols = axisTapTable(colWindow, scalar.col, 4);
  const canonicalTables = [ctx.table(canonicalRows.entries), ctx.table(canonicalCols.entries)];
  const useSimd = ctx.fast && c.w.values !== undefined && outPerGroup >= LANES / 2;
  const s = useSimd ? simdStrategy(ctx, c, kh, kw, outPlane) : scalar;
  const rows = useSimd ? axisTapTable(rowWindow, s.row, colWindow.inSize * 4) : canonicalRows;
  const cols = useSimd ? axisTapTable(colWindow, s.col, 4) : canonicalCols;
  const [rowTable, colTable] = useSimd ? [ctx.table(rows.entries), ctx.table(cols.entries)] : canonicalTables;
  const biasWidth = c.bias?.width ?? 0;

  const [pX, pW, pBias, pOut, pWBlock, pBiasBlock, pOutBlock, pPos, pRow, pCol] = Array.from({ length: 10 }, () => f.local("i32"));
  const [rowW, rowCount, rowX, w0, x0, wy, xy, wx, xx, ty, tx] = Array.from({ length: 11 }, () => f.local("i32"));
  // Narrow weights with differing shifts: a pointer into the strategy's table of them.
  const [pShift, pShiftBlock] = [f.local("i32"), f.local("i32")];
  const shiftTable = s.shiftTable;
  const colEntry = (field: number) => f.i32Load(f.get(pCol), colTable + field);
  const channelLoop = (body: () => Expr[]) => f.loop(perGroup, body, [[w0, s.channel], [x0, inPlane * 4]]);

  /** A border position: the valid taps from the tables, in runtime-count loops. */
  const borderPosition = (lanes: number) => [
    ...s.begin(),
    f.set(w0, f.i32Add(f.get(pWBlock), f.i32Add(f.get(rowW), colEntry(0)))),
    f.set(x0, f.i32Add(f.get(pX), f.i32Add(f.get(rowX), colEntry(8)))),
    channelLoop(() => [
      f.set(wy, f.get(w0)),
      f.set(xy, f.get(x0)),
      f.set(ty, f.i32Const(0)),
      f.loopTo(ty, f.get(rowCount), 1, [
        f.set(wx, f.get(wy)),
        f.set(xx, f.get(xy)),
        f.set(tx, f.i32Const(0)),
        f.loopTo(tx, colEntry(4), 1, [...s.tap(f.get(wx), 0, f.get(xx), 0), f.bump(wx, cols.weightStep), f.bump(xx, cols.inputStep)]),
        f.bump(wy, rows.weightStep),
        f.bump(xy, rows.inputStep),
      ]),
    ]),
    ...s.finish(lanes, pPos, pBiasBlock, pShiftBlock),
  ];

  /**
   * A position whose valid taps are known when compiling: rowTaps x colTaps taps from weight byte
   * offset `first` (the tables' entry), unrolled at immediate offsets from the lowest weight address.
   */
  const unrolledPosition = (rowTaps: number, colTaps: number, first: number) => {
    const offsets: [number, number][] = [];
    for (let ky = 0; ky < rowTaps; ky++) {
      for (let kx = 0; kx < colTaps; kx++) offsets.push([first + ky * rows.weightStep + kx * cols.weightStep, ky * rows.inputStep + kx * cols.inputStep]);
    }
    const lowest = offsets.length > 0 ? Math.min(...offsets.map(([w]) => w)) : 0;
    return (lanes: number) => [
      ...s.begin(),
      f.set(w0, f.i32Add(f.get(pWBlock), f.i32Const(lowest))),
      f.set(x0, f.i32Add(f.get(pX), f.i32Add(f.get(rowX), colEntry(8)))),
      ...(offsets.length > 0 ? [channelLoop(() => offsets.flatMap(([wOff, xOff]) => s.tap(f.get(w0), wOff - lowest, f.get(x0), xOff)))] : []),
      ...s.finish(lanes, pPos, pBiasBlock, pShiftBlock),
    ];
  };
  const interiorPosition = unrolledPosition(kh, kw, 0);

  const columns = (from: number, to: number, position: (lanes: number) => Expr[], lanes: number): Expr[] => to <= from ? [] : [
    f.set(pCol, f.i32Const(from * TAP_ENTRY_BYTES)),
    f.loop(to - from, () => position(lanes), [[pCol, TAP_ENTRY_BYTES], [pPos, 4]]),
  ];
  const rowsRange = (from: number, to: number, row: (lanes: number) => Expr[], lanes: number): Expr[] => to <= from ? [] : [
    f.set(pRow, f.i32Const(from * TAP_ENTRY_BYTES)),
    f.loop(to - from, () => [
      f.set(rowW, f.i32Load(f.get(pRow), rowTable)),
      f.set(rowCount, f.i32Load(f.get(pRow), rowTable + 4)),
      f.set(rowX, f.i32Load(f.get(pRow), rowTable + 8)),
      ...row(lanes),
    ], [[pRow, TAP_ENTRY_BYTES]]),
  ];
  /** Two interior positions side by side (SIMD): tap loops with constant counts, weights shared. */
  const pair = s.pair;
  const dx = cols.interior[1] - cols.interior[0] >= 2
    ? cols.entries[(cols.interior[0] + 1) * 4 + 2] - cols.entries[cols.interior[0] * 4 + 2] : 0;
  const interiorPair = (lanes: number) => !pair ? [] : [
    ...pair.begin(),
    f.set(w0, f.get(pWBlock)),
    f.set(x0, f.i32Add(f.get(pX), f.i32Add(f.get(rowX), colEntry(8)))),
    nest(f, [perGroup, kh, kw], [
      { ptr: w0, strides: [s.channel, rows.weightStep, cols.weightStep] },
      { ptr: x0, strides: [inPlane * 4, rows.inputStep, cols.inputStep] },
    ], () => pair.tap(f.get(w0), f.get(x0), dx)),
    ...pair.finish(lanes, pPos, pBiasBlock, pShiftBlock),
  ];
  const interiorColumns = (lanes: number): Expr[] => {
    if (!pair) return columns(colLo, colHi, interiorPosition, lanes);
    const pairs = Math.floor((colHi - colLo) / 2);
    return [
      f.set(pCol, f.i32Const(colLo * TAP_ENTRY_BYTES)),
      f.loop(pairs, () => interiorPair(lanes), [[pCol, 2 * TAP_ENTRY_BYTES], [pPos, 8]]),
      ...columns(colLo + 2 * pairs, colHi, borderPosition, lanes),
    ];
  };
  const interior = useSimd || kh * kw <= MAX_UNROLLED_TAPS;
  const [rowLo, rowHi] = interior ? rows.interior : [0, 0];
  const [colLo, colHi] = interior && rowHi > rowLo ? cols.interior : [0, 0];
  const borderRow = (lanes: number) => columns(0, colWindow.outSize, borderPosition, lanes);
  const interiorRow = (lanes: number) => colHi > colLo ? [
    ...columns(0, colLo, borderPosition, lanes),
    ...interiorColumns(lanes),
    ...columns(colHi, colWindow.outSize, borderPosition, lanes),
  ] : borderRow(lanes);
  // The scalar strategy unrolls border positions too: output positions with the same valid taps
  // on both axes (a run of each axis, window.ts) share one unrolled body. At the border these
  // positions otherwise cost about three times the interior's instructions per product, and they
  // are half the positions of a 7x7 output.
  const rowRuns = tapRuns(rows), colRuns = tapRuns(cols);
  const runTaps = rowRuns.reduce((sum, r) => sum + colRuns.reduce((t, c) => t + r.count * c.count, 0), 0);
  const byRuns = !useSimd && interior && runTaps <= MAX_RUN_TAPS;
  const runRow = (r: TapRun) => (lanes: number) => colRuns.flatMap((c) =>
    columns(c.from, c.to, r.count * c.count <= MAX_UNROLLED_TAPS ? unrolledPosition(r.count, c.count, r.weight + c.weight) : borderPosition, lanes));
  const plane = (lanes: number) => [
    f.set(pPos, f.get(pOutBlock)),
    ...(byRuns ? rowRuns.flatMap((r) => rowsRange(r.from, r.to, runRow(r), lanes)) : [
      ...rowsRange(0, rowLo, borderRow, lanes),
      ...rowsRange(rowLo, rowHi, interiorRow, lanes),
      ...rowsRange(rowHi, rowWindow.outSize, borderRow, lanes),
    ]),
  ];

  // Blocks of output channels: full ones in a loop, then a partial one (SIMD only).
  const full = Math.floor(outPerGroup / s.lanes);
  const tail = outPerGroup % s.lanes;
  return [
    f.set(pX, f.i32Const(0)),
    f.set(pW, f.i32Const(s.base)),
    f.set(pBias, f.i32Const(0)),
    f.set(pOut, f.i32Const(0)),
    ...(shiftTable ? [f.set(pShift, f.i32Const(0))] : []),
    nest(f, [batch, c.group], [
      { ptr: pX, strides: [channels * inPlane * 4, perGroup * inPlane * 4] },
      { ptr: pW, strides: [0, s.group] },
      { ptr: pBias, strides: [0, outPerGroup * biasWidth] },
      { ptr: pOut, strides: [c.outChannels * outPlane * 4, outPerGroup * outPlane * 4] },
      ...(shiftTable ? [{ ptr: pShift, strides: [0, shiftTable.group] }] : []),
    ], () => [
      f.set(pWBlock, f.get(pW)),
      f.set(pBiasBlock, f.get(pBias)),
      f.set(pOutBlock, f.get(pOut)),
      ...(shiftTable ? [f.set(pShiftBlock, f.get(pShift))] : []),
      f.loop(full, () => plane(s.lanes), [[pWBlock, s.block], [pBiasBlock, s.lanes * biasWidth], [pOutBlock, s.lanes * outPlane * 4],
        ...(shiftTable ? [[pShiftBlock, shiftTable.block] as [Local, number]] : [])]),
      ...(tail > 0 ? plane(tail) : []),
    ]),
  ];
}

/** Bias terms of a correlation: one per output channel. */
function correlationBias(ctx: EmitContext, accFrac: number): BiasTerms | undefined {
  const b = ctx.inputs[2];
  return b && biasTerms(ctx, b, { mantissa: 1, frac: 0 }, accFrac, 1, 0);
}

export const ConvEmitter: OpEmitter<ConvAttrs> = {
  fusesActivation: true,
  emit: (ctx) => {
    const [x, w] = ctx.inputs as Operand[];
    const kernel = w.shape.slice(2);
    const windows = resolveWindows("Conv", x.shape.slice(2), kernel, ctx.attrs);
    const [kh, kw] = kernel.length === 2 ? kernel : [1, kernel[0]];
    const [outChannels, perGroup] = w.shape;
    const accFrac = x.frac + w.frac;
    return emitCorrelation(ctx, {
      x, w, out: ctx.outputs[0], group: ctx.attrs.group, outChannels, windows,
      weights: { base: 0, group: (outChannels / ctx.attrs.group) * perGroup * kh * kw, outChannel: perGroup * kh * kw, channel: kh * kw, row: kw, col: 1 },
      bias: correlationBias(ctx, accFrac),
      accFrac,
      activation: ctx.activation,
      narrow: narrowWeights(ctx, w, w.storage?.shifts ?? []),
    });
  },
};

export const ConvTransposeEmitter: OpEmitter<ConvTransposeAttrs> = {
  fusesActivation: true,
  emit: (ctx) => {
    const [x, w] = ctx.inputs as Operand[];
    const out = ctx.outputs[0];
    const kernel = w.shape.slice(2);
    const { windows } = convTransposeGeometry(x, w, undefined, ctx.attrs);
    const [kh, kw] = kernel.length === 2 ? kernel : [1, kernel[0]];
    const [channels, outPerGroup] = w.shape;
    const perGroup = channels / ctx.attrs.group;
    const accFrac = x.frac + w.frac;
    // Correlation weight (g, m, c, ky, kx) is W[g*perGroup + c][m][kh-1-ky][kw-1-kx].
    return emitCorrelation(ctx, {
      x, w, out, group: ctx.attrs.group, outChannels: outPerGroup * ctx.attrs.group, windows,
      weights: { base: kh * kw - 1, group: perGroup * outPerGroup * kh * kw, outChannel: kh * kw, channel: outPerGroup * kh * kw, row: -kw, col: -1 },
      bias: correlationBias(ctx, accFrac),
      accFrac,
      activation: ctx.activation,
      // W's channel axis (1) holds one group's output channels; every group shares their shifts.
      narrow: narrowWeights(ctx, w, Array.from({ length: outPerGroup * ctx.attrs.group }, (_, oc) => w.storage?.shifts[oc % outPerGroup] ?? 0)),
    });
  },
};
