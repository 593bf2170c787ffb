/**
 * ONNX handlers for the positional and attention tooling ops whose output does not need a
 * kernel: EyeLike (a constant: its value depends only on the input's static shape), and the
 * shape-producing ops Range and ConstantOfShape, which fold when their operands are known at
 * conversion time (Range's start/limit/delta, ConstantOfShape's shape: Shape of a static tensor
 * and arithmetic on it fold to constants). Fed at run time, their output's size would depend on
 * the values, and detml graphs have static shapes, so that case is rejected naming the operand.
 * Pow with a tensor exponent (computed at run time, or a constant that varies per element or is
 * neither an integer nor 0.5, which the IR Pow does not take) is the composition
 * sign * e^(y ln|x|) of Abs, Log, Mul, Exp (a negative base gives -|x|^y where y is odd, and
 * |x|^y for other y, where the float result is NaN); its error is Log's rounding times |y|, in
 * relative terms, plus Exp's (docs/numerics.md). An integer base is exact instead, for a constant
 * exponent of integers (x^1..x^max by repeated Mul, one Where per exponent), and refused otherwise.
 */
import { MAX_POW_EXPONENT } from "../../lib/ops/unary-math.js";
import { constValue, scalar } from "../common/values.js";
import type { NodeCtx } from "./context.js";
import { constantOfShape as constantOfShapeFolded, foldOnly, pow as powConstant, type Handler } from "./handlers.js";
import { dataTypeName, valueClassOf } from "./proto.js";

/** EyeLike: ones on diagonal k of a 2-D tensor shaped like the input, zeros elsewhere. */
export const eyeLike: Handler = (n) => {
  const shape = n.shape(0);
  if (shape.length !== 2) throw new Error(`EyeLike of a rank-${shape.length} input is not supported (the input must be 2-D)`);
  const dtype = n.has("dtype") ? valueClassOf(n.int("dtype")) : n.dtype(0);
  if (!dtype) throw new Error(`EyeLike to ${dataTypeName(n.int("dtype"))} is not supported`);
  const k = n.int("k", 0);
  const [rows, cols] = shape;
  const data = n.guard.alloc(shape, "EyeLike");
  for (let i = 0; i < rows; i++) if (i + k >= 0 && i + k < cols) data[i * cols + i + k] = 1;
  n.setConst(0, constValue(dtype, shape, data));
};

/** Operands that size the output must be constants: name the first one fed at run time. */
function requireStaticSize(n: NodeCtx, operands: string[]): void {
  operands.forEach((what, i) => {
    if (n.hasInput(i) && !n.constant(i)) {
      throw new Error(`input ${i} (${what}) computed at run time is not supported: it sets the output's size, and detml graphs have static shapes (it must be a constant)`);
    }
  });
}

/** Range (start, limit, delta): folded (the folder checks the values). */
export const range: Handler = (n) => {
  requireStaticSize(n, ["start", "limit", "delta"]);
  foldOnly("Range")(n);
};

export const constantOfShape: Handler = (n) => {
  requireStaticSize(n, ["shape"]);
  constantOfShapeFolded(n);
};

/** Whether IR Pow takes this exponent as its attribute: an integer within its bound, or 0.5. */
const irExponent = (v: number): boolean => v === 0.5 || (Number.isInteger(v) && Math.abs(v) <= MAX_POW_EXPONENT);

/**
 * An integer base to a constant exponent of integers 0..MAX_POW_EXPONENT that varies per
 * element: the powers x^1..x^max by repeated exact Mul (integer products), each element taking
 * its own through a Where with a constant mask per exponent.
 */
function integerPow(n: NodeCtx, exponents: ArrayLike<number>): void {
  const shape = n.shape(1);
  const wanted = [...new Set(Array.from(exponents))].sort((a, b) => a - b);
  const powers = [n.addConst("one", scalar("int", 1)), n.input(0)];
  for (let e = 2; e <= wanted[wanted.length - 1]; e++) powers.push(n.emit("Mul", [powers[e - 1], n.input(0)], {}, "int")[0]);
  const mask = (e: number) => n.addConst(`exponent_${e}`, constValue("bool", shape, Array.from(exponents, (v) => (v === e ? 1 : 0))));
  // At least two exponents differ (a uniform one is IR Pow's): the outermost Where is the output.
  let rest = powers[wanted[wanted.length - 1]];
  for (const e of wanted.slice(1, -1).reverse()) rest = n.emit("Where", [mask(e), powers[e], rest], {}, "int")[0];
  n.finish("Where", [mask(wanted[0]), powers[wanted[0]], rest], {}, "int", 1);
}

export const tensorPow: Handler = (n) => {
  const y = n.constant(1);
  const uniform = y !== undefined && y.data.every((v) => v === y.data[0]);
  if ((n.constant(0) && y) || (uniform && irExponent(y.data[0]))) return powConstant(n);
  if (n.dtype(0) !== "float") {
    if (y && y.data.every((v) => Number.isInteger(v) && v >= 0 && v <= MAX_POW_EXPONENT)) return integerPow(n, y.data);
    throw new Error(`Pow of an integer base by a tensor exponent is not supported unless the exponent is a constant of integers 0..${MAX_POW_EXPONENT}: it is computed as e^(y ln|x|), whose rounding error would make integer results inexact`);
  }
  const x = n.input(0);
  const [abs] = n.emit("Abs", [x]);
  const [log] = n.emit("Log", [abs]);
  const [product] = n.emit("Mul", [log, n.input(1)]);
  const [magnitude] = n.emit("Exp", [product]);
  const base = n.constant(0);
  if (base && base.data.every((v) => v >= 0)) return n.alias(0, magnitude);
  // Odd integer exponents: y mod 2 = 1 (the floor remainder of an even y is 0, of a fraction not 1).
  const odd = y
    ? n.addConst("odd", constValue("bool", y.shape, Array.from(y.data, (v) => (Math.abs(v % 2) === 1 ? 1 : 0))))
    : n.emit("Equal", [n.emit("Mod", [n.input(1), n.addConst("two", scalar("int", 2))], { fmod: 0 })[0], n.addConst("one", scalar("int", 1))], {}, "bool")[0];
  const [negative] = n.emit("Less", [x, n.addConst("zero", scalar("int", 0))], {}, "bool");
  const [flipped] = n.emit("Neg", [magnitude]);
  const [signed] = n.emit("Where", [odd, flipped, magnitude]);
  n.finish("Where", [negative, signed, magnitude]);
};
