/**
 * What an op emitter sees and returns. Every tensor an op touches is an `Operand`: a static
 * shape and frac at a fixed byte address (the memory plan decided it), plus its values when the
 * compiler knows them (graph constants, e.g. weights and biases). An emitter turns one IR node
 * into the statements of its segment function, mirroring its reference kernel in lib/ops.
 */
import type { Attrs } from "../../lib/ops/op.js";
import type { NarrowStorage } from "../../lib/tensor/narrow.js";
import type { Expr, FunctionBuilder } from "../binaryen.js";

export interface Operand {
  shape: number[];
  frac: number;
  /** Byte address of element 0 (row-major i32 little-endian). */
  address: number;
  /** Known values, for graph constants. */
  values?: Int32Array;
  /** Set when memory at `address` holds narrow q (value = q << shifts[channel]) instead of i32 values. */
  storage?: NarrowStorage;
}

/**
 * A Relu or Clip fused into the op that feeds it: applied to each narrowed i32 output before the
 * store. Clip bounds are already at the output's frac (the Clip kernel's rescaled bounds).
 */
export type FusedActivation = { kind: "Relu" } | { kind: "Clip"; min: number; max: number };

export interface EmitContext<A extends Attrs = Attrs> {
  f: FunctionBuilder;
  attrs: A;
  /** One per node input; undefined for an absent optional input. */
  inputs: (Operand | undefined)[];
  outputs: Operand[];
  /** The graph frac (ctx.frac of the reference kernels). */
  frac: number;
  /** True in the FAST build: SIMD allowed, the memory at the end must equal the canonical build's. */
  fast: boolean;
  /** Place compile-time constant data (tables) in memory; returns its address (8-byte aligned). */
  table(data: Int32Array | BigInt64Array): number;
  activation?: FusedActivation;
}

export interface OpEmitter<A extends Attrs = Attrs> {
  emit(ctx: EmitContext<A>): Expr[];
  /** Whether the emitter applies ctx.activation, so a following Relu or Clip can fuse into it. */
  fusesActivation?: boolean;
}
