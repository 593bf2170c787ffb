/**
 * Elementwise ops for the EVM target: Relu, LeakyRelu, Clip, Tanh, Sigmoid (one value in, one out),
 * Add and Mul (two broadcast operands), each a loop over the output words with the reference
 * kernel's integer arithmetic on 256-bit words (exact: no value here comes near 2^255):
 * Relu and Clip keep the frac (Clip's Q16 bounds rescaled to it, I32_MIN/I32_MAX meaning no
 * bound, as the reference does); LeakyRelu rescales x >= 0 and narrows x * alpha (Q16) once; Add aligns
 * both operands to the larger frac, Mul takes the exact product, each narrowed once to the
 * output frac; Tanh and Sigmoid are lib/ops/fixed-exp-log.ts step by step (e^-k|x| at Q30 from
 * the same constants and 16-entry table, then one division rounded to nearest).
 */
import { EXP2_POLY, EXP2_TABLE, LOG2E_Q30 } from "../../lib/ops/fixed-exp-log.js";
import { ONE_Q30 } from "../../lib/ops/fixed-math.js";
import { ATTR_FRAC } from "../../lib/ops/op.js";
import { I32_MAX, I32_MIN, rescale } from "../../lib/tensor/fixed.js";
import { broadcastStrides, stridesOf } from "../../lib/tensor/shape.js";
import { dup, swap } from "./asm.js";
import { type Buffer, bufferAt, EXP_TABLE_ADDR, type Program } from "./program.js";

/** Loop over n words: stack [end out in], `body` maps the value on top ([end out in x]) to the result. */
export function mapWords(p: Program, input: Buffer, output: Buffer, n: number, body: () => void): void {
  const a = p.asm;
  const top = a.newLabel("map");
  p.pushAddr(bufferAt(input, n));
  p.pushAddr(bufferAt(output));
  p.pushAddr(bufferAt(input));
  a.label(top);
  a.op(dup(1), "MLOAD");
  body();
  a.op(dup(3), "MSTORE");
  a.push(32).op("ADD", swap(1)).push(32).op("ADD", swap(1));
  a.op(dup(3), dup(2), "SUB").jumpi(top);
  a.op("POP", "POP", "POP");
}

export function emitRelu(p: Program, x: Buffer, out: Buffer, n: number): void {
  mapWords(p, x, out, n, () => p.asm.op(dup(1), "PUSH0", "SLT", "MUL"));
}

export function emitLeakyRelu(p: Program, x: Buffer, out: Buffer, n: number, alpha: number): void {
  const a = p.asm;
  mapWords(p, x, out, n, () => {
    const negative = a.newLabel("leaky-neg");
    const done = a.newLabel("leaky-done");
    a.op(dup(1), "PUSH0", "SGT").jumpi(negative);
    p.narrow(x.frac, out.frac, false);
    a.jump(done);
    a.label(negative);
    a.push(alpha).op("MUL");
    p.narrow(x.frac + ATTR_FRAC, out.frac, false);
    a.label(done);
  });
}

/** Branch-free max / min of the two values on top of the stack: a ^ ((a ^ b) * (b > a)), (b < a) for min. */
export function emitPick(p: Program, kind: "max" | "min"): void {
  p.asm.op(dup(2), dup(2), kind === "max" ? "SGT" : "SLT", swap(1), dup(3), "XOR", "MUL", "XOR");
}

/** min(max(x, lo), hi) with the Q16 bounds at the input's frac (lib/ops/unary-arith.ts clip). */
export function emitClip(p: Program, x: Buffer, out: Buffer, n: number, min: number, max: number): void {
  const bound = (b: number) => (b === I32_MIN || b === I32_MAX ? b : rescale(b, ATTR_FRAC, x.frac));
  mapWords(p, x, out, n, () => {
    p.asm.push(bound(min));
    emitPick(p, "max");
    p.asm.push(bound(max));
    emitPick(p, "min");
  });
}

/** Write the 2^(j/16) table at its fixed address (once, at entry). */
export function emitExpTable(p: Program): void {
  EXP2_TABLE.forEach((v, j) => p.asm.push(v).push(EXP_TABLE_ADDR + 32 * j).op("MSTORE"));
}

/**
 * e^(z / 2^fx) at Q30 for the value z <= 0 on top of the stack (fixedExp with fo = 30; z >= 0
 * never reaches here, so the saturating branch is the s = 0 case only).
 */
function emitExpNonPositive(p: Program, fx: number): void {
  const a = p.asm;
  p.usesExpTable = true;
  const zero1 = a.newLabel("exp-zero");
  const zero2 = a.newLabel("exp-under");
  const noShift = a.newLabel("exp-s0");
  const done = a.newLabel("exp-done");
  // 1. z <= -32 * 2^fx rounds to 0.
  a.op(dup(1)).push(-(32n << BigInt(fx))).op("SLT", "ISZERO").jumpi(zero1);
  // 2. To Q26, then t = z * log2(e) at Q30.
  if (fx > 26) a.push(1n << BigInt(fx - 27)).op("ADD").push(fx - 26).op("SAR");
  else if (fx < 26) a.push(26 - fx).op("SHL");
  a.push(LOG2E_Q30).op("MUL").push(1n << 25n).op("ADD").push(26).op("SAR");
  // 3. k = t >> 30, f = t mod 2^30, j = f >> 26, r = f mod 2^26: stack [k j r].
  a.op(dup(1)).push(30).op("SAR", swap(1)).push(ONE_Q30 - 1).op("AND");
  a.op(dup(1)).push(26).op("SHR", swap(1)).push((1 << 26) - 1).op("AND");
  // 4. 2^r by Horner, each step mulShift(p, r, 30): stack [k j r p].
  a.push(EXP2_POLY[0]);
  for (let i = 1; i < EXP2_POLY.length; i++) a.op(dup(2), "MUL").push(1 << 29).op("ADD").push(30).op("SAR").push(EXP2_POLY[i]).op("ADD");
  // m = mulShift(table[j], p, 30): stack [k m].
  a.op(swap(1), "POP", swap(1)).push(32).op("MUL").push(EXP_TABLE_ADDR).op("ADD", "MLOAD", "MUL").push(1 << 29).op("ADD").push(30).op("SAR");
  // 5. s = 30 - k - 30 = -k >= 0: 0 saturates m, above 32 rounds to 0, else round half up.
  a.op(swap(1), "PUSH0", "SUB");
  a.op(dup(1)).push(32).op("LT").jumpi(zero2);
  a.op(dup(1), "ISZERO").jumpi(noShift);
  a.op(dup(1)).push(1).op(swap(1), "SUB").push(1).op(swap(1), "SHL", dup(3), "ADD", swap(1), "SAR", swap(1), "POP");
  a.jump(done);
  a.label(noShift);
  a.op("POP");
  p.saturate();
  a.jump(done);
  a.label(zero2);
  a.op("POP", "POP", "PUSH0");
  a.jump(done);
  a.label(zero1);
  a.op("POP", "PUSH0");
  a.label(done);
}

/** |x| of the value on top; the sign goes to memory register `signReg` (1 when negative). */
function absToRegister(p: Program, signReg: number): void {
  const a = p.asm;
  const positive = a.newLabel("abs");
  a.op(dup(1), "PUSH0", "SGT", dup(1)).push(signReg).op("MSTORE", "ISZERO").jumpi(positive);
  a.op("PUSH0", "SUB");
  a.label(positive);
}

/** round(num * 2^fo / den) for num >= 0, den > 0 on the stack as [den num]: divShiftRound. */
function divideRounded(p: Program, fo: number): void {
  p.asm.push(fo + 1).op("SHL", dup(2), "ADD", swap(1)).push(1).op("SHL", swap(1), "DIV");
}

export function emitTanhSigmoid(p: Program, kind: "Tanh" | "Sigmoid", x: Buffer, out: Buffer, n: number): void {
  const a = p.asm;
  const signReg = p.register();
  mapWords(p, x, out, n, () => {
    absToRegister(p, signReg);
    a.push(kind === "Tanh" ? 2 : 1).op("MUL", "PUSH0", "SUB");
    emitExpNonPositive(p, x.frac);
    // [e] -> [den num]
    a.op(dup(1)).push(ONE_Q30).op("ADD", swap(1));
    if (kind === "Tanh") {
      a.push(ONE_Q30).op("SUB");
      divideRounded(p, out.frac);
      const positive = a.newLabel("tanh-pos");
      a.push(signReg).op("MLOAD", "ISZERO").jumpi(positive);
      a.op("PUSH0", "SUB");
      a.label(positive);
    } else {
      const negative = a.newLabel("sigmoid-neg");
      a.push(signReg).op("MLOAD").jumpi(negative);
      a.op("POP").push(ONE_Q30);
      a.label(negative);
      divideRounded(p, out.frac);
    }
  });
}

/** Push the address of the operand element that output element i (on top of the stack) reads. */
function pushOperandAddress(p: Program, operand: Buffer, outShape: number[]): void {
  const a = p.asm;
  const strides = broadcastStrides(operand.shape, outShape);
  const outStrides = stridesOf(outShape);
  const size = operand.shape.reduce((s, d) => s * d, 1);
  const total = outShape.reduce((s, d) => s * d, 1);
  if (size === total) {
    a.op(dup(1)).push(32).op("MUL");
  } else {
    a.op("PUSH0");
    strides.forEach((stride, d) => {
      if (stride === 0 || outShape[d] === 1) return;
      // + ((i / outStride_d) % dim_d) * stride_d, the operand's index along axis d.
      a.op(dup(2)).push(outStrides[d]).op(swap(1), "DIV").push(outShape[d]).op(swap(1), "MOD").push(32 * stride).op("MUL", "ADD");
    });
  }
  p.pushAddr(bufferAt(operand));
  a.op("ADD");
}

/** Add or Mul of two broadcast operands into `out` (shape = the broadcast shape). */
export function emitBinary(p: Program, kind: "Add" | "Mul", x: Buffer, y: Buffer, out: Buffer): void {
  const a = p.asm;
  const n = out.shape.reduce((s, d) => s * d, 1);
  const common = Math.max(x.frac, y.frac);
  const top = a.newLabel("binary");
  // Stack [i]; the loop ends when i reaches n.
  a.op("PUSH0");
  a.label(top);
  pushOperandAddress(p, x, out.shape);
  a.op("MLOAD");
  if (kind === "Add" && common > x.frac) a.push(common - x.frac).op("SHL");
  a.op(swap(1));
  pushOperandAddress(p, y, out.shape);
  a.op("MLOAD");
  if (kind === "Add" && common > y.frac) a.push(common - y.frac).op("SHL");
  a.op(swap(1), swap(2), kind === "Add" ? "ADD" : "MUL");
  p.narrow(kind === "Add" ? common : x.frac + y.frac, out.frac, false);
  // [i v] -> store at out + 32 i
  a.op(dup(2)).push(32).op("MUL");
  p.pushAddr(bufferAt(out));
  a.op("ADD", "MSTORE").push(1).op("ADD", dup(1)).push(n).op("SUB").jumpi(top);
  a.op("POP");
}
