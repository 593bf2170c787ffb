/**
 * The state shared by the EVM code generators while one model is lowered: the assembler, the
 * memory plan (scratch registers, the resident weights, one word-per-element buffer per tensor),
 * the packed weight image itself (weights.ts) and the emit helpers every op uses: fixed-point
 * narrowing with the reference's rounding and saturation, counted loops over memory registers,
 * strided block copies. Tensors live in memory as one 32-byte two's-complement word per element
 * (what the ABI's int32[] calldata already is), so an element is one MLOAD at a compile-time
 * address. A freed buffer's memory is reused by later buffers (EVM memory costs quadratically in
 * its size), except by those that must start zero (`zeroed`: padding), which take never-used
 * memory: fresh EVM memory is zero.
 */
import { Assembler, dup } from "./asm.js";
import { WeightImage } from "./weights.js";

/** A tensor in EVM memory: word i (row-major) at `addr + 32 * i`. */
export interface Buffer {
  addr: number;
  shape: number[];
  frac: number;
}

/**
 * Memory map: scratch registers, the exp table, the data-contract addresses, the resident part
 * of the weight image, then buffers.
 */
const REGISTER_COUNT = 32;
export const EXP_TABLE_ADDR = REGISTER_COUNT * 32;
export const ADDRESS_TABLE_ADDR = EXP_TABLE_ADDR + 16 * 32;
/** Most data contracts a model may have (their addresses sit in memory: 32 bytes each). */
export const MAX_DATA_CONTRACTS = 128;
const WEIGHTS_ADDR = ADDRESS_TABLE_ADDR + 32 * MAX_DATA_CONTRACTS;

/** A part of the weight image copied to memory at entry: image bytes [start, end) at `at` in the resident area. */
export interface ResidentRange {
  start: number;
  end: number;
  at: number;
}

export class Program {
  readonly asm = new Assembler();
  readonly weights = new WeightImage();
  private nextRegister = 0;
  private top = 0;
  /** Freed [start, words) runs of buffer memory, sorted by start, never adjacent. */
  private free: { start: number; words: number }[] = [];
  /** Whether some op needs the 2^(j/16) table in memory (written at entry). */
  usesExpTable = false;

  /** @param loopTapsAbove MAC tap lists longer than this run as loops over blocks (mac.ts), not unrolled. */
  constructor(readonly loopTapsAbove = Infinity) {}

  /**
   * The parts of the weight image the code reads in memory (copied there at entry); the rest
   * (dense layers' records) is copied from the data contracts by the op that reads it.
   */
  readonly resident: ResidentRange[] = [];
  private residentBytes = 0;

  /** Image bytes [start, end) must be in memory; `weightsAt` addresses in it resolve there. */
  makeResident(start: number, end: number): void {
    this.resident.push({ start, end, at: this.residentBytes });
    this.residentBytes += end - start;
  }

  /**
   * A scratch word for a loop counter or pointer. Registers are handed out round-robin over
   * REGISTER_COUNT words: an op holds only a few at once, so live ones never collide.
   */
  register(): number {
    if (this.nextRegister === REGISTER_COUNT) this.nextRegister = 0;
    return 32 * this.nextRegister++;
  }

  /**
   * Allocate a buffer of one word per element after the resident weights: the first freed run
   * that fits, or new memory (always, when it must start `zeroed`).
   */
  allocate(shape: number[], frac: number, options: { zeroed?: boolean } = {}): Buffer {
    const words = Math.max(shape.reduce((a, b) => a * b, 1), 1);
    const run = options.zeroed ? -1 : this.free.findIndex((r) => r.words >= words);
    if (run >= 0) {
      const r = this.free[run];
      const buffer = { addr: 32 * r.start, shape, frac };
      if (r.words === words) this.free.splice(run, 1);
      else this.free[run] = { start: r.start + words, words: r.words - words };
      return buffer;
    }
    const buffer = { addr: this.top, shape, frac };
    this.top += 32 * words;
    return buffer;
  }

  /** Give a buffer's memory back (its last reader has been emitted). */
  release(buffer: Buffer): void {
    const words = Math.max(buffer.shape.reduce((a, b) => a * b, 1), 1);
    const start = buffer.addr / 32;
    const runs = [...this.free, { start, words }].sort((a, b) => a.start - b.start);
    this.free = [];
    for (const r of runs) {
      const last = this.free[this.free.length - 1];
      if (last && last.start + last.words === r.start) last.words += r.words;
      else this.free.push({ ...r });
    }
  }

  /** Bytes of buffer memory used at the peak (buffer addresses are relative to `bufferBase`). */
  get bufferBytes(): number {
    return this.top;
  }

  /**
   * Buffers are allocated before the resident weights are all known, so their addresses are
   * offsets from the first byte after them; this is that byte (32 bytes of slack: a narrow
   * MLOAD of the last weight reads past the end).
   */
  bufferBase(): number {
    return WEIGHTS_ADDR + this.residentBytes + 32;
  }

  // ---- emit helpers -------------------------------------------------------------------------

  /** Push the absolute address of a buffer element (buffer addresses are resolved late: see `Addr`). */
  pushAddr(a: Addr): void {
    this.asm.pushDeferred(() => BigInt(this.resolve(a)));
  }

  resolve(a: Addr): number {
    if (a.kind === "buffer") return this.bufferBase() + a.offset;
    // An end pointer may sit at its range's end.
    const range = this.resident.find((r) => r.start <= a.offset && a.offset <= r.end);
    if (range === undefined) throw new Error(`weight byte ${a.offset} is read from memory but not resident`);
    return WEIGHTS_ADDR + range.at + a.offset - range.start;
  }

  /**
   * Narrow the value on top of the stack, an exact integer at frac `from`, to an i32 at `to`:
   * round half up on a right shift, exact left shift, then saturate (lib/tensor/fixed.ts).
   * With `wrap`, the value and the rounding add wrap to i64 first, as the i64 accumulators of
   * the reference do (roundShiftBig).
   */
  narrow(from: number, to: number, wrap: boolean): void {
    const a = this.asm;
    if (wrap) a.push(7).op("SIGNEXTEND");
    const s = from - to;
    if (s > 0) {
      a.push(1n << BigInt(s - 1)).op("ADD");
      if (wrap) a.push(7).op("SIGNEXTEND");
      a.push(s).op("SAR");
    } else if (s < 0) {
      a.push(-s).op("SHL");
    }
    this.saturate();
  }

  /** Clamp the signed word on top of the stack to the i32 range. */
  saturate(): void {
    const a = this.asm;
    const done = a.newLabel("sat");
    // In range when sign-extending its low 32 bits gives it back.
    a.op(dup(1)).push(3).op("SIGNEXTEND", dup(2), "EQ").jumpi(done);
    // Out of range: I32_MAX + (x < 0), sign-extended from 32 bits, is I32_MAX or I32_MIN.
    a.op("PUSH0", "SGT").push(0x7fffffff).op("ADD").push(3).op("SIGNEXTEND");
    a.label(done);
  }

  /** `for (reg = 0; reg < count; reg++) body()`, count >= 1, the counter in a memory register. */
  loop(count: number, body: (reg: number) => void): void {
    const a = this.asm;
    const reg = this.register();
    const top = a.newLabel("loop");
    a.push(0).push(reg).op("MSTORE");
    a.label(top);
    body(reg);
    a.push(reg).op("MLOAD").push(1).op("ADD", dup(1)).push(reg).op("MSTORE").push(count).op("SUB").jumpi(top);
  }

  /** Push `base + reg * stride` (reg a loop register; base an address). */
  pushScaled(base: Addr, reg: number, stride: number): void {
    const a = this.asm;
    a.push(reg).op("MLOAD");
    if (stride !== 1) a.push(stride).op("MUL");
    this.pushAddr(base);
    a.op("ADD");
  }

  /**
   * Copy `rows` blocks of `bytes` bytes: block r from src + r * srcStride to dst + r * dstStride
   * (byte strides), one MCOPY each, in a loop.
   */
  copyRows(dst: Addr, dstStride: number, src: Addr, srcStride: number, rows: number, bytes: number): void {
    const a = this.asm;
    if (rows === 1 || (dstStride === bytes && srcStride === bytes)) {
      a.push(bytes * rows);
      this.pushAddr(src);
      this.pushAddr(dst);
      a.op("MCOPY");
      return;
    }
    this.loop(rows, (reg) => {
      a.push(bytes);
      this.pushScaled(src, reg, srcStride);
      this.pushScaled(dst, reg, dstStride);
      a.op("MCOPY");
    });
  }
}

/**
 * An address known once the weight image is final: `buffer` offsets are relative to
 * `bufferBase()`, `weights` offsets to the image (resolved in its resident copy).
 */
export type Addr = { kind: "buffer" | "weights"; offset: number };

export const bufferAt = (b: Buffer, element = 0): Addr => ({ kind: "buffer", offset: b.addr + 32 * element });
export const weightsAt = (offset: number): Addr => ({ kind: "weights", offset });
