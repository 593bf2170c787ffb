/**
 * Constant folding of value-computing ops in float64: broadcasting binary arithmetic and
 * comparisons, unary math, Where, Min/Max, Clip, Cast and the reductions (axes, keepdims and
 * output shape planned by the kernels' planReduce). This is the one table of the ops' real-valued
 * definitions, shared by both front ends. Integer classes keep integer semantics where ONNX has them (Div truncates unless its
 * `mode` says floor, Mod follows `fmod`, Cast to int truncates toward zero, bool casts test for
 * nonzero). The result class follows the operands: any float operand makes a float, comparisons
 * make bools. Broadcasting can make an output far larger than its operands ([N,1] + [1,N]), so
 * its buffer comes from the SizeGuard like every folded tensor's.
 */
import { planReduce } from "../../lib/ops/reduce.js";
import { broadcastIndex, broadcastShapes, sizeOf } from "../../lib/tensor/shape.js";
import type { FoldAttrs, Folder } from "./fold-array.js";
import type { SizeGuard } from "./size-guard.js";
import { constValue, type ConstValue, type ValueClass } from "./values.js";

function resultClass(inputs: ConstValue[]): ValueClass {
  return inputs.some((t) => t.dtype === "float") ? "float" : "int";
}

/** Apply `fn` elementwise over broadcast operands. */
function broadcastMap(guard: SizeGuard, inputs: ConstValue[], dtype: ValueClass, fn: (args: number[]) => number): ConstValue {
  const shape = broadcastShapes(...inputs.map((t) => t.shape));
  const out = guard.alloc(shape);
  const maps = inputs.map((t) => broadcastIndex(t.shape, shape));
  const args = new Array<number>(inputs.length);
  for (let i = 0; i < out.length; i++) {
    for (let k = 0; k < inputs.length; k++) args[k] = inputs[k].data[maps[k][i]];
    out[i] = fn(args);
  }
  return constValue(dtype, shape, out);
}

function binary(fn: (a: number, b: number, isInt: boolean) => number): Folder {
  return (inputs, _, guard) => {
    const dtype = resultClass(inputs);
    return [broadcastMap(guard, inputs.slice(0, 2), dtype, ([a, b]) => fn(a, b, dtype !== "float"))];
  };
}

function compare(fn: (a: number, b: number) => boolean): Folder {
  return (inputs, _, guard) => [broadcastMap(guard, inputs.slice(0, 2), "bool", ([a, b]) => (fn(a, b) ? 1 : 0))];
}

function unary(fn: (v: number) => number, dtype?: ValueClass): Folder {
  return ([x]) => [constValue(dtype ?? x.dtype, x.shape, x.data.map(fn))];
}

/** Variadic elementwise reduction over broadcast operands (Min, Max, Sum). */
function variadic(fn: (values: number[]) => number): Folder {
  return (inputs, _, guard) => [broadcastMap(guard, inputs, resultClass(inputs), fn)];
}

function cast(x: ConstValue, to: ValueClass): ConstValue {
  const convert = to === "float" ? (v: number) => v : to === "int" ? Math.trunc : (v: number) => (v !== 0 ? 1 : 0);
  return constValue(to, x.shape, x.data.map(convert));
}

function clip(x: ConstValue, attrs: FoldAttrs): ConstValue {
  const lo = (attrs.min as number | undefined) ?? -Infinity;
  const hi = (attrs.max as number | undefined) ?? Infinity;
  return constValue(x.dtype, x.shape, x.data.map((v) => Math.min(Math.max(v, lo), hi)));
}

/**
 * Reduce with the kernels' plan (lib/ops/reduce.ts: axes, keepdims, output shape), combining
 * each output's input values in row-major order.
 */
function reduce(combine: (values: number[]) => number, floatResult = false): Folder {
  return ([x], attrs) => {
    const axes = (attrs.axes as number[] | undefined) ?? [];
    const plan = planReduce(x.shape, { axes, keepdims: (attrs.keepdims as number | undefined) ?? 1, noop_with_empty_axes: 0 });
    const into = broadcastIndex(plan.keptShape, x.shape);
    const groups: number[][] = Array.from({ length: sizeOf(plan.keptShape) }, () => []);
    for (let i = 0; i < x.data.length; i++) groups[into[i]].push(x.data[i]);
    return [constValue(floatResult ? "float" : x.dtype === "bool" ? "int" : x.dtype, plan.outShape, groups.map(combine))];
  };
}

const sum = (v: number[]) => v.reduce((a, b) => a + b, 0);

export const MATH_FOLDERS: Record<string, Folder> = {
  Add: binary((a, b) => a + b),
  Sub: binary((a, b) => a - b),
  Mul: binary((a, b) => a * b),
  Div: (inputs, attrs, guard) => binary((a, b, isInt) => {
    if (attrs.mode === "floor") return Math.floor(a / b);
    return attrs.mode === "trunc" || isInt ? Math.trunc(a / b) : a / b;
  })(inputs, attrs, guard),
  Pow: binary((a, b) => a ** b),
  Mod: (inputs, attrs, guard) => binary((a, b) => {
    if (b === 0) throw new Error("Mod divisor is 0");
    return attrs.fmod === 1 ? a % b : a - Math.floor(a / b) * b;
  })(inputs, attrs, guard),
  Equal: compare((a, b) => a === b),
  Less: compare((a, b) => a < b),
  Greater: compare((a, b) => a > b),
  LessOrEqual: compare((a, b) => a <= b),
  GreaterOrEqual: compare((a, b) => a >= b),
  And: compare((a, b) => a !== 0 && b !== 0),
  Or: compare((a, b) => a !== 0 || b !== 0),
  Not: unary((v) => (v === 0 ? 1 : 0), "bool"),
  Neg: unary((v) => -v),
  Abs: unary(Math.abs),
  Sqrt: unary(Math.sqrt),
  Exp: unary(Math.exp),
  Log: unary(Math.log),
  Reciprocal: unary((v) => 1 / v),
  Relu: unary((v) => Math.max(v, 0)),
  Sigmoid: unary((v) => 1 / (1 + Math.exp(-v))),
  Tanh: unary(Math.tanh),
  Sin: unary(Math.sin),
  Cos: unary(Math.cos),
  Tan: unary(Math.tan),
  Asin: unary(Math.asin),
  Acos: unary(Math.acos),
  Atan: unary(Math.atan),
  Sinh: unary(Math.sinh),
  Cosh: unary(Math.cosh),
  Asinh: unary(Math.asinh),
  Acosh: unary(Math.acosh),
  Atanh: unary(Math.atanh),
  Floor: unary(Math.floor),
  Ceil: unary(Math.ceil),
  Sign: unary(Math.sign),
  Where: (inputs, _, guard) => {
    const [cond, x, y] = inputs;
    return [broadcastMap(guard, [cond, x, y], resultClass([x, y]), ([c, a, b]) => (c !== 0 ? a : b))];
  },
  Min: variadic((v) => Math.min(...v)),
  Max: variadic((v) => Math.max(...v)),
  Sum: variadic(sum),
  Clip: ([x], a) => [clip(x, a)],
  Cast: ([x], a) => [cast(x, a.to as ValueClass)],
  ReduceSum: reduce(sum),
  ReduceMean: reduce((v) => sum(v) / v.length, true),
  ReduceMax: reduce((v) => v.reduce((a, b) => Math.max(a, b), -Infinity)),
  ReduceMin: reduce((v) => v.reduce((a, b) => Math.min(a, b), Infinity)),
  ReduceProd: reduce((v) => v.reduce((a, b) => a * b, 1)),
};
