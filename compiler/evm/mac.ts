/**
 * Multiply-accumulate code for the EVM target. Every MAC op (Gemm, MatMul, Conv, ConvTranspose)
 * becomes one or more `MacJob`s: for each output channel m and each output position of a group,
 * out = narrow(scale * sum_t in[base + inOff_t] * w[m][t] + bias_m), the reference's arithmetic
 * (lib/ops/accumulate.ts): exact products and sums (256-bit words never overflow here), one wrap
 * to i64 (SIGNEXTEND 7), round half up once, saturate. The sum over the taps of a group is fully
 * unrolled with every tap offset a constant, which is what makes it cheap:
 *  - several positions (convolutions): the channel's weights are first widened into a word
 *    buffer at fixed addresses, then each tap costs DUP, PUSH, ADD, MLOAD (input at the moving
 *    position pointer), PUSH, MLOAD (weight), MUL, ADD: 26 gas;
 *  - one position (dense layers): the input words sit at fixed addresses, and so do the packed
 *    weights once the channel's record is copied to a fixed window (an MCOPY from the resident
 *    weights, or for large layers an EXTCODECOPY straight from the data contract, so their
 *    weights never occupy memory together): PUSH, MLOAD, PUSH, MLOAD, PUSH, SAR, MUL, ADD:
 *    26 gas per tap.
 * The weights of a group are stored per channel as a record [bias term][weights in tap order],
 * so the code walks them sequentially. When the unrolled code would not fit a contract, the
 * lowering retries with long tap lists as loops over equal blocks (`Program.loopTapsAbove`):
 * block k is block 0 shifted by k * step input elements (a dense layer's next 16 inputs, a
 * convolution's next input channel), at about 6 more gas per tap.
 */
import type { Buffer, Program } from "./program.js";
import { ADDRESS_TABLE_ADDR, bufferAt, weightsAt } from "./program.js";
import { CHUNK_BYTES, extendShift, packWidth } from "./weights.js";
import { dup, swap } from "./asm.js";

/** One tap: the input element at `inOff` from the position's base, times weight `w` of the channel's row. */
export interface MacTap {
  inOff: number;
  w: number;
}

/** Output positions that share one tap list: an ny x nx grid (element offsets and steps). */
export interface MacGroup {
  taps: MacTap[];
  ny: number;
  nx: number;
  inBase: number;
  iyStep: number;
  ixStep: number;
  outBase: number;
  oyStep: number;
  oxStep: number;
}

export interface MacJob {
  input: Buffer;
  output: Buffer;
  channels: number;
  /** Elements between the outputs of consecutive channels. */
  outChanStride: number;
  /** The weight row of channel m, indexed by MacTap.w. */
  row(m: number): ArrayLike<number>;
  /** Per channel, the bias term already aligned to the accumulator frac (i64), or null. */
  biasTerms: readonly bigint[] | null;
  /** Integer multiplier of the sums (Gemm alpha's mantissa). */
  scale: number;
  accFrac: number;
  outFrac: number;
  groups: MacGroup[];
  /** Apply Relu to each result (a Relu node fused into this op). */
  relu?: boolean;
}

export function emitMac(p: Program, job: MacJob): void {
  const weightWidth = packWidth(jobWeights(job));
  const biasWidth = job.biasTerms ? packWidth(job.biasTerms) : 0;
  for (const group of job.groups) {
    if (group.ny * group.nx === 0) continue;
    // Records: [bias][weights of the group's taps], one per channel, back to back.
    let start = -1;
    for (let m = 0; m < job.channels; m++) {
      const row = job.row(m);
      if (job.biasTerms) {
        const at = p.weights.add([job.biasTerms[m]], biasWidth).offset;
        if (start < 0) start = at;
      }
      const at = p.weights.add(group.taps.map((t) => BigInt(row[t.w])), weightWidth).offset;
      if (start < 0) start = at;
    }
    const layout = { start, record: biasWidth + group.taps.length * weightWidth, biasWidth, weightWidth };
    if (group.ny * group.nx === 1) emitSinglePosition(p, job, group, layout);
    else emitPositions(p, job, group, layout);
  }
}

interface RecordLayout {
  start: number;
  record: number;
  biasWidth: number;
  weightWidth: number;
}

/** Taps as `count` blocks of `size`: tap k * size + i reads taps[i].inOff + k * step. */
interface TapBlocks {
  size: number;
  count: number;
  step: number;
}

/** The largest block size up to 32 that splits the taps regularly, when the list is long enough to loop. */
function tapBlocks(p: Program, taps: MacTap[]): TapBlocks | undefined {
  if (taps.length <= p.loopTapsAbove) return undefined;
  for (let size = Math.min(32, taps.length >> 1); size >= 2; size--) {
    if (taps.length % size !== 0) continue;
    const step = taps[size].inOff - taps[0].inOff;
    if (step !== 0 && taps.every((t, j) => t.inOff === taps[j % size].inOff + Math.floor(j / size) * step)) {
      return { size, count: taps.length / size, step };
    }
  }
  return undefined;
}

/**
 * The looped sum over blocks, for stack [.. acc end ptr wq] set up by the caller: per block the
 * partial sum of its taps (input at ptr + offset, weight via `pushWeight`), added into acc, then
 * ptr and wq step; leaves [.. acc].
 */
function emitBlockLoop(p: Program, taps: MacTap[], blocks: TapBlocks, weightStep: number, pushWeight: (i: number, depth: number) => void): void {
  const a = p.asm;
  const top = a.newLabel("taps");
  a.label(top);
  for (let i = 0; i < blocks.size; i++) {
    a.op(dup(i === 0 ? 2 : 3));
    if (taps[i].inOff !== 0) a.push(32 * taps[i].inOff).op("ADD");
    a.op("MLOAD");
    pushWeight(i, i === 0 ? 2 : 3);
    a.op("MUL");
    if (i > 0) a.op("ADD");
  }
  a.op(dup(5), "ADD", swap(4), "POP");
  a.push(weightStep).op("ADD", swap(1)).push(32 * blocks.step).op("ADD", swap(1), dup(2), dup(4), "SUB").jumpi(top);
  a.op("POP", "POP", "POP");
}

function* jobWeights(job: MacJob): Generator<bigint> {
  const used = new Set(job.groups.flatMap((g) => g.taps.map((t) => t.w)));
  for (let m = 0; m < job.channels; m++) {
    const row = job.row(m);
    for (const w of used) yield BigInt(row[w]);
  }
}

/** Scale, bias (pushed by `pushBias`), wrap, round, saturate: the value on top of the stack. */
function finish(p: Program, job: MacJob, pushBias: () => void): void {
  if (job.scale !== 1) p.asm.push(job.scale).op("MUL");
  if (job.biasTerms) {
    pushBias();
    p.asm.op("ADD");
  }
  p.narrow(job.accFrac, job.outFrac, true);
  if (job.relu) p.asm.op(dup(1), "PUSH0", "SLT", "MUL");
}

/** Dense layers with at least this many bytes of records read them from the data contracts. */
const STREAM_BYTES = 8192;

/**
 * Copy image bytes [g, g + size) of the record whose image offset g is on top of the stack into
 * `window`, straight from the data contracts (EXTCODECOPY: the record may straddle two of them),
 * so dense weights never sit in memory all at once. Leaves the stack as it was.
 */
function emitRecordCopy(p: Program, window: Buffer, size: number): void {
  const a = p.asm;
  const split = a.newLabel("record-split");
  const done = a.newLabel("record-done");
  const pushAddress = (next: number) => {
    // The address of data contract c (+ next), c at depth 5.
    a.op(dup(5));
    if (next) a.push(next).op("ADD");
    a.push(32).op("MUL").push(ADDRESS_TABLE_ADDR).op("ADD", "MLOAD");
  };
  // [g c o]: contract c = g / CHUNK, offset o = g mod CHUNK in its chunk.
  a.push(CHUNK_BYTES).op(dup(2), "DIV").push(CHUNK_BYTES).op(dup(3), "MOD");
  a.op(dup(1)).push(size).op("ADD").push(CHUNK_BYTES).op("LT").jumpi(split);
  a.push(size).op(dup(2)).push(1).op("ADD");
  p.pushAddr(bufferAt(window));
  pushAddress(0);
  a.op("EXTCODECOPY").jump(done);
  a.label(split);
  // The first CHUNK - o bytes from contract c, the other o + size - CHUNK from the start of c + 1.
  a.op(dup(1)).push(CHUNK_BYTES).op("SUB", dup(2)).push(1).op("ADD");
  p.pushAddr(bufferAt(window));
  pushAddress(0);
  a.op("EXTCODECOPY", dup(1)).push(size - CHUNK_BYTES).op("ADD").push(1).op(dup(3));
  p.pushAddr({ kind: "buffer", offset: window.addr + CHUNK_BYTES });
  a.op("SUB");
  pushAddress(1);
  a.op("EXTCODECOPY");
  a.label(done);
  a.op("POP", "POP");
}

/**
 * Dense layers: stack [end out record]. Input words sit at fixed addresses; each channel's
 * record is first copied to a fixed window (from the data contracts, or from memory when rolled
 * loops read the image in place), so each weight is a PUSH3 MLOAD like its input.
 */
function emitSinglePosition(p: Program, job: MacJob, group: MacGroup, layout: RecordLayout): void {
  const a = p.asm;
  const shift = extendShift(layout.weightWidth);
  const top = a.newLabel("dense");
  const end = layout.start + job.channels * layout.record;
  const blocks = tapBlocks(p, group.taps);
  // Streamed records (large layers: their weights would cost memory): the stack holds image
  // offsets; resident ones (small layers: an MCOPY beats an EXTCODECOPY): memory addresses.
  const streamed = !blocks && layout.record <= CHUNK_BYTES && end - layout.start >= STREAM_BYTES;
  if (!streamed) p.makeResident(layout.start, end);
  const pushImage = (offset: number) => (streamed ? a.push(offset) : p.pushAddr(weightsAt(offset)));
  pushImage(end);
  p.pushAddr(bufferAt(job.output, group.outBase));
  pushImage(layout.start);
  a.label(top);
  let pushBias = (): void => void a.op(dup(2), "MLOAD").push(extendShift(layout.biasWidth)).op("SAR");
  let window: Buffer | undefined;
  if (blocks) {
    // [end out wp acc xEnd xp wq]
    a.op("PUSH0");
    p.pushAddr(bufferAt(job.input, group.inBase + blocks.count * blocks.step));
    p.pushAddr(bufferAt(job.input, group.inBase));
    a.op(dup(4)).push(layout.biasWidth).op("ADD");
    emitBlockLoop(p, group.taps, blocks, blocks.size * layout.weightWidth, (i, depth) => {
      a.op(dup(depth));
      if (i > 0) a.push(i * layout.weightWidth).op("ADD");
      a.op("MLOAD").push(shift).op("SAR");
    });
  } else {
    const w = window = p.allocate([Math.ceil(layout.record / 32) + 1], 0);
    if (streamed) emitRecordCopy(p, w, layout.record);
    else {
      a.push(layout.record).op(dup(2));
      p.pushAddr(bufferAt(w));
      a.op("MCOPY");
    }
    group.taps.forEach((tap, t) => {
      p.pushAddr(bufferAt(job.input, group.inBase + tap.inOff));
      a.op("MLOAD");
      p.pushAddr({ kind: "buffer", offset: w.addr + layout.biasWidth + t * layout.weightWidth });
      a.op("MLOAD").push(shift).op("SAR", "MUL");
      if (t > 0) a.op("ADD");
    });
    pushBias = () => {
      p.pushAddr(bufferAt(w));
      a.op("MLOAD").push(extendShift(layout.biasWidth)).op("SAR");
    };
  }
  if (group.taps.length === 0) a.op("PUSH0");
  finish(p, job, pushBias);
  a.op(dup(3), "MSTORE");
  a.push(layout.record).op("ADD", swap(1)).push(32 * job.outChanStride).op("ADD", swap(1));
  a.op(dup(3), dup(2), "SUB").jumpi(top);
  a.op("POP", "POP", "POP");
  if (window) p.release(window);
}

/** Convolutions: per channel, widen its weights to words, then sweep the positions with a pointer. */
function emitPositions(p: Program, job: MacJob, group: MacGroup, layout: RecordLayout): void {
  const a = p.asm;
  const taps = group.taps.length;
  const wide = p.allocate([Math.max(taps, 1)], 0);
  const recordReg = p.register();
  const biasReg = p.register();
  const nx = group.nx;
  const ixStep = nx === 1 ? 1 : group.ixStep;
  const blocks = tapBlocks(p, group.taps);
  p.makeResident(layout.start, layout.start + job.channels * layout.record);
  p.loop(job.channels, (channelReg) => {
    p.pushScaled(weightsAt(layout.start), channelReg, layout.record);
    a.push(recordReg).op("MSTORE");
    if (taps > 0) {
      // Widen: stack [dst src], one packed weight per iteration.
      const widen = a.newLabel("widen");
      p.pushAddr(bufferAt(wide));
      a.push(recordReg).op("MLOAD").push(layout.biasWidth).op("ADD");
      a.label(widen);
      a.op(dup(1), "MLOAD").push(extendShift(layout.weightWidth)).op("SAR", dup(3), "MSTORE");
      a.push(layout.weightWidth).op("ADD", swap(1)).push(32).op("ADD", swap(1));
      a.op(dup(2));
      p.pushAddr(bufferAt(wide, taps));
      a.op("SUB").jumpi(widen);
      a.op("POP", "POP");
    }
    if (job.biasTerms) a.push(recordReg).op("MLOAD", "MLOAD").push(extendShift(layout.biasWidth)).op("SAR").push(biasReg).op("MSTORE");
    p.loop(group.ny, (rowReg) => {
      // Stack [end out base] for the sweep along x.
      p.pushScaled(bufferAt(job.input, group.inBase + nx * ixStep), rowReg, 32 * group.iyStep);
      a.push(channelReg).op("MLOAD").push(32 * job.outChanStride).op("MUL");
      p.pushScaled(bufferAt(job.output, group.outBase), rowReg, 32 * group.oyStep);
      a.op("ADD");
      p.pushScaled(bufferAt(job.input, group.inBase), rowReg, 32 * group.iyStep);
      const sweep = a.newLabel("sweep");
      a.label(sweep);
      if (blocks) {
        // [end out base acc bEnd bp wq]
        a.op("PUSH0", dup(2)).push(32 * blocks.count * blocks.step).op("ADD", dup(3));
        p.pushAddr(bufferAt(wide));
        emitBlockLoop(p, group.taps, blocks, 32 * blocks.size, (i, depth) => {
          a.op(dup(depth));
          if (i > 0) a.push(32 * i).op("ADD");
          a.op("MLOAD");
        });
      }
      else {
        group.taps.forEach((tap, t) => {
          a.op(dup(t === 0 ? 1 : 2));
          if (tap.inOff !== 0) a.push(32 * tap.inOff).op("ADD");
          a.op("MLOAD");
          p.pushAddr(bufferAt(wide, t));
          a.op("MLOAD", "MUL");
          if (t > 0) a.op("ADD");
        });
      }
      if (taps === 0) a.op("PUSH0");
      finish(p, job, () => a.push(biasReg).op("MLOAD"));
      a.op(dup(3), "MSTORE");
      a.push(32 * ixStep).op("ADD", swap(1)).push(32 * group.oxStep).op("ADD", swap(1));
      a.op(dup(3), dup(2), "SUB").jumpi(sweep);
      a.op("POP", "POP", "POP");
    });
  });
  p.release(wide);
}
