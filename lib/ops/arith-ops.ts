/**
 * The elementwise arithmetic, comparison, selection and reduction op group: every OpDef of
 * relu.ts, binary.ts, mod.ts, unary-arith.ts, compare.ts, reduce.ts, argmax.ts and topk.ts, in
 * one list that lib/ops/index.ts gathers into the closed set of IR op kinds.
 */
import { ArgMax } from "./argmax.js";
import { Add, Max, Min, Mul, Sub } from "./binary.js";
import { Equal, Greater, Less, Where } from "./compare.js";
import { Mod } from "./mod.js";
import { ReduceMax, ReduceMean, ReduceMin, ReduceSum } from "./reduce.js";
import { Relu } from "./relu.js";
import { TopK } from "./topk.js";
import { Abs, Clip, HardSigmoid, LeakyRelu, Neg, PRelu } from "./unary-arith.js";

export const ARITH_OPS = [
  Relu, Add, Sub, Mul, Min, Max, Mod,
  Neg, Abs, LeakyRelu, PRelu, Clip, HardSigmoid,
  Equal, Less, Greater, Where,
  ReduceMean, ReduceSum, ReduceMax, ReduceMin, ArgMax, TopK,
] as const;
