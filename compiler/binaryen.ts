/**
 * The only importer of binaryen. It wraps the expression builders as typed helpers named after
 * the WASM instructions they emit (`i32Add`, `i64Mul`, `i32Load`...), adds locals and counted
 * loops for function bodies, and exposes module assembly (memory with data segments, the I/O
 * imports, exports, a custom section, validation, optimization, binary emission). Emitters read
 * like the reference kernels because every instruction is spelled out. Binaryen's optimize and
 * shrink levels are process-global state: `optimize()` sets them explicitly every time.
 * The scalar helpers cover the provable subset; the `v128` helpers exist for the FAST build only.
 */
import binaryen from "binaryen";

declare const expressionBrand: unique symbol;
/**
 * A Binaryen expression reference, opaque: a plain number (an address, a count, a shift) can
 * never be passed where an expression is expected and an expression never where a number is,
 * both of which Binaryen's own `number` type would allow.
 */
export type Expr = { readonly [expressionBrand]: true };
const E = (ref: binaryen.ExpressionRef): Expr => ref as unknown as Expr;
const R = (e: Expr): binaryen.ExpressionRef => e as unknown as binaryen.ExpressionRef;
const RS = (es: readonly Expr[]): binaryen.ExpressionRef[] => es.map(R);
export type ValueType = "i32" | "i64" | "v128";

/** Internal name of the one memory; loads and stores name it since they may be built before it exists. */
const MEMORY = "memory";

/** The FAST build's i32 global (and export) holding the address of its scratch memory (FunctionBuilder.scratch). */
export const SCRATCH_GLOBAL = "scratch";

const TYPE: Record<ValueType, binaryen.Type> = { i32: binaryen.i32, i64: binaryen.i64, v128: binaryen.v128 };

export interface Local {
  readonly index: number;
  readonly type: ValueType;
}

/** Expression builders bound to one module. */
export class Ops {
  constructor(protected readonly m: binaryen.Module) {}

  i32Const(v: number): Expr {
    return E(this.m.i32.const(v | 0));
  }
  i64Const(v: bigint | number): Expr {
    return E(this.m.i64.const(BigInt.asIntN(64, BigInt(v))));
  }

  i32Add(a: Expr, b: Expr): Expr { return E(this.m.i32.add(R(a), R(b))); }
  i32Sub(a: Expr, b: Expr): Expr { return E(this.m.i32.sub(R(a), R(b))); }
  i32Mul(a: Expr, b: Expr): Expr { return E(this.m.i32.mul(R(a), R(b))); }
  i32DivU(a: Expr, b: Expr): Expr { return E(this.m.i32.div_u(R(a), R(b))); }
  i32And(a: Expr, b: Expr): Expr { return E(this.m.i32.and(R(a), R(b))); }
  i32Or(a: Expr, b: Expr): Expr { return E(this.m.i32.or(R(a), R(b))); }
  i32Xor(a: Expr, b: Expr): Expr { return E(this.m.i32.xor(R(a), R(b))); }
  i32Shl(a: Expr, b: Expr): Expr { return E(this.m.i32.shl(R(a), R(b))); }
  i32ShrS(a: Expr, b: Expr): Expr { return E(this.m.i32.shr_s(R(a), R(b))); }
  i32Eqz(a: Expr): Expr { return E(this.m.i32.eqz(R(a))); }
  i32Eq(a: Expr, b: Expr): Expr { return E(this.m.i32.eq(R(a), R(b))); }
  i32Ne(a: Expr, b: Expr): Expr { return E(this.m.i32.ne(R(a), R(b))); }
  i32LtS(a: Expr, b: Expr): Expr { return E(this.m.i32.lt_s(R(a), R(b))); }
  i32LtU(a: Expr, b: Expr): Expr { return E(this.m.i32.lt_u(R(a), R(b))); }
  i32GtS(a: Expr, b: Expr): Expr { return E(this.m.i32.gt_s(R(a), R(b))); }
  i32GeS(a: Expr, b: Expr): Expr { return E(this.m.i32.ge_s(R(a), R(b))); }
  i32GeU(a: Expr, b: Expr): Expr { return E(this.m.i32.ge_u(R(a), R(b))); }
  i32WrapI64(a: Expr): Expr { return E(this.m.i32.wrap(R(a))); }

  i64Add(a: Expr, b: Expr): Expr { return E(this.m.i64.add(R(a), R(b))); }
  i64Sub(a: Expr, b: Expr): Expr { return E(this.m.i64.sub(R(a), R(b))); }
  i64Mul(a: Expr, b: Expr): Expr { return E(this.m.i64.mul(R(a), R(b))); }
  i64DivS(a: Expr, b: Expr): Expr { return E(this.m.i64.div_s(R(a), R(b))); }
  i64DivU(a: Expr, b: Expr): Expr { return E(this.m.i64.div_u(R(a), R(b))); }
  i64RemS(a: Expr, b: Expr): Expr { return E(this.m.i64.rem_s(R(a), R(b))); }
  i64RemU(a: Expr, b: Expr): Expr { return E(this.m.i64.rem_u(R(a), R(b))); }
  i64And(a: Expr, b: Expr): Expr { return E(this.m.i64.and(R(a), R(b))); }
  i64Or(a: Expr, b: Expr): Expr { return E(this.m.i64.or(R(a), R(b))); }
  i64Shl(a: Expr, b: Expr): Expr { return E(this.m.i64.shl(R(a), R(b))); }
  i64ShrS(a: Expr, b: Expr): Expr { return E(this.m.i64.shr_s(R(a), R(b))); }
  i64ShrU(a: Expr, b: Expr): Expr { return E(this.m.i64.shr_u(R(a), R(b))); }
  i64Clz(a: Expr): Expr { return E(this.m.i64.clz(R(a))); }
  i64Eqz(a: Expr): Expr { return E(this.m.i64.eqz(R(a))); }
  i64Eq(a: Expr, b: Expr): Expr { return E(this.m.i64.eq(R(a), R(b))); }
  i64Ne(a: Expr, b: Expr): Expr { return E(this.m.i64.ne(R(a), R(b))); }
  i64LtS(a: Expr, b: Expr): Expr { return E(this.m.i64.lt_s(R(a), R(b))); }
  i64LeS(a: Expr, b: Expr): Expr { return E(this.m.i64.le_s(R(a), R(b))); }
  i64GtS(a: Expr, b: Expr): Expr { return E(this.m.i64.gt_s(R(a), R(b))); }
  i64GeS(a: Expr, b: Expr): Expr { return E(this.m.i64.ge_s(R(a), R(b))); }
  i64GeU(a: Expr, b: Expr): Expr { return E(this.m.i64.ge_u(R(a), R(b))); }
  i64ExtendI32S(a: Expr): Expr { return E(this.m.i64.extend_s(R(a))); }
  i64ExtendI32U(a: Expr): Expr { return E(this.m.i64.extend_u(R(a))); }

  /** i32.load at byte address `ptr + offset` (offset: a static address or displacement). */
  i32Load(ptr: Expr, offset = 0): Expr { return E(this.m.i32.load(offset, 4, R(ptr), MEMORY)); }
  i32Store(ptr: Expr, value: Expr, offset = 0): Expr { return E(this.m.i32.store(offset, 4, R(ptr), R(value), MEMORY)); }
  i64Load(ptr: Expr, offset = 0): Expr { return E(this.m.i64.load(offset, 8, R(ptr), MEMORY)); }
  /** i64.load32_s: an i32 in memory sign-extended to i64 (one instruction). */
  i64Load32S(ptr: Expr, offset = 0): Expr { return E(this.m.i64.load32_s(offset, 4, R(ptr), MEMORY)); }
  /** Sign-extending loads of narrow weights (8 or 16 bits), to i64 or i32. */
  i64Load8S(ptr: Expr, offset = 0): Expr { return E(this.m.i64.load8_s(offset, 1, R(ptr), MEMORY)); }
  i64Load16S(ptr: Expr, offset = 0): Expr { return E(this.m.i64.load16_s(offset, 2, R(ptr), MEMORY)); }
  i32Load8S(ptr: Expr, offset = 0): Expr { return E(this.m.i32.load8_s(offset, 1, R(ptr), MEMORY)); }
  i32Load16S(ptr: Expr, offset = 0): Expr { return E(this.m.i32.load16_s(offset, 2, R(ptr), MEMORY)); }
  /** i32.store16: the low 16 bits of an i32. */
  i32Store16(ptr: Expr, value: Expr, offset = 0): Expr { return E(this.m.i32.store16(offset, 2, R(ptr), R(value), MEMORY)); }

  /** `cond ? ifTrue : ifFalse`: both arms are evaluated, in order, then the condition. */
  select(cond: Expr, ifTrue: Expr, ifFalse: Expr): Expr { return E(this.m.select(R(cond), R(ifTrue), R(ifFalse))); }
  if(cond: Expr, then: Expr | Expr[], otherwise?: Expr | Expr[]): Expr {
    return E(this.m.if(R(cond), R(this.seq(then)), otherwise === undefined ? undefined : R(this.seq(otherwise))));
  }
  call(name: string, args: Expr[]): Expr { return E(this.m.call(name, RS(args), binaryen.none)); }
  nop(): Expr { return E(this.m.nop()); }
  unreachable(): Expr { return E(this.m.unreachable()); }

  /** A statement list as one expression (no value). */
  seq(body: Expr | Expr[]): Expr {
    if (!Array.isArray(body)) return body;
    return body.length === 1 ? body[0] : E(this.m.block(null, RS(body), binaryen.none));
  }
  /** Statements followed by a value of `type`. */
  valueBlock(body: Expr[], type: ValueType): Expr {
    return E(this.m.block(null, RS(body), TYPE[type]));
  }

  // SIMD (FAST build only; the canonical build never calls these).
  v128Load(ptr: Expr, offset = 0): Expr { return E(this.m.v128.load(offset, 4, R(ptr), MEMORY)); }
  /** One i32 at ptr broadcast to the four i32 lanes. */
  v128Load32Splat(ptr: Expr, offset = 0): Expr { return E(this.m.v128.load32_splat(offset, 4, R(ptr), MEMORY)); }
  /** Eight i8 at ptr sign-extended to the eight i16 lanes (narrow weights). */
  v128Load8x8S(ptr: Expr, offset = 0): Expr { return E(this.m.v128.load8x8_s(offset, 1, R(ptr), MEMORY)); }
  /** Four i16 at ptr sign-extended to the four i32 lanes (narrow weights). */
  v128Load16x4S(ptr: Expr, offset = 0): Expr { return E(this.m.v128.load16x4_s(offset, 2, R(ptr), MEMORY)); }
  /** i16 lanes 0-3 (low) or 4-7 (high) sign-extended to four i32 lanes. */
  i32x4ExtendLowI16x8S(v: Expr): Expr { return E(this.m.i32x4.extend_low_i16x8_s(R(v))); }
  i32x4ExtendHighI16x8S(v: Expr): Expr { return E(this.m.i32x4.extend_high_i16x8_s(R(v))); }
  /** One i8 (i16) at ptr broadcast to the sixteen i8 (eight i16) lanes. */
  v128Load8Splat(ptr: Expr, offset = 0): Expr { return E(this.m.v128.load8_splat(offset, 1, R(ptr), MEMORY)); }
  v128Load16Splat(ptr: Expr, offset = 0): Expr { return E(this.m.v128.load16_splat(offset, 2, R(ptr), MEMORY)); }
  /** i8 lanes 0-7 sign-extended to eight i16 lanes. */
  i16x8ExtendLowI8x16S(v: Expr): Expr { return E(this.m.i16x8.extend_low_i8x16_s(R(v))); }
  i64x2Add(a: Expr, b: Expr): Expr { return E(this.m.i64x2.add(R(a), R(b))); }
  /** Lane-wise product modulo 2^64 (as i64.mul). */
  i64x2Mul(a: Expr, b: Expr): Expr { return E(this.m.i64x2.mul(R(a), R(b))); }
  /** Signed i32 lanes 0, 1 of a and b multiplied into two exact i64 lanes. */
  i64x2ExtmulLowI32x4S(a: Expr, b: Expr): Expr { return E(this.m.i64x2.extmul_low_i32x4_s(R(a), R(b))); }
  /** The same for i32 lanes 2, 3. */
  i64x2ExtmulHighI32x4S(a: Expr, b: Expr): Expr { return E(this.m.i64x2.extmul_high_i32x4_s(R(a), R(b))); }
  /** Lane i = a.i16[2i] * b.i16[2i] + a.i16[2i+1] * b.i16[2i+1]: two exact products summed, wrapping in i32. */
  i32x4DotI16x8S(a: Expr, b: Expr): Expr { return E(this.m.i32x4.dot_i16x8_s(R(a), R(b))); }
  /** i32 lanes 0, 1 (low) or 2, 3 (high) sign-extended to two i64 lanes. */
  i64x2ExtendLowI32x4S(v: Expr): Expr { return E(this.m.i64x2.extend_low_i32x4_s(R(v))); }
  i64x2ExtendHighI32x4S(v: Expr): Expr { return E(this.m.i64x2.extend_high_i32x4_s(R(v))); }
  i64x2ExtractLane(v: Expr, lane: 0 | 1): Expr {
    // binaryen.js types the lane index as an expression; it is the lane number.
    return E(this.m.i64x2.extract_lane(R(v), lane as unknown as binaryen.ExpressionRef));
  }
  v128Zero(): Expr { return E(this.m.v128.const(new Array(16).fill(0))); }
  /** A v128 constant of four i32 lanes. */
  v128ConstI32(lanes: readonly number[]): Expr {
    const bytes = new Uint8Array(new Int32Array(lanes).buffer);
    return E(this.m.v128.const(Array.from(bytes)));
  }
  /** A v128 constant of two i64 lanes (wrapped to 64 bits). */
  v128ConstI64(lanes: readonly bigint[]): Expr {
    const bytes = new Uint8Array(BigInt64Array.from(lanes, (v) => BigInt.asIntN(64, v)).buffer);
    return E(this.m.v128.const(Array.from(bytes)));
  }
  v128And(a: Expr, b: Expr): Expr { return E(this.m.v128.and(R(a), R(b))); }
  v128Or(a: Expr, b: Expr): Expr { return E(this.m.v128.or(R(a), R(b))); }
  v128Xor(a: Expr, b: Expr): Expr { return E(this.m.v128.xor(R(a), R(b))); }
  i32x4Add(a: Expr, b: Expr): Expr { return E(this.m.i32x4.add(R(a), R(b))); }
  i32x4Sub(a: Expr, b: Expr): Expr { return E(this.m.i32x4.sub(R(a), R(b))); }
  i32x4ShrS(v: Expr, shift: number): Expr { return E(this.m.i32x4.shr_s(R(v), R(this.i32Const(shift)))); }
  /** Lanes of ifTrue where mask bits are set, of ifFalse elsewhere. */
  v128Bitselect(ifTrue: Expr, ifFalse: Expr, mask: Expr): Expr { return E(this.m.v128.bitselect(R(ifTrue), R(ifFalse), R(mask))); }
  v128Store(ptr: Expr, value: Expr, offset = 0): Expr { return E(this.m.v128.store(offset, 4, R(ptr), R(value), MEMORY)); }
  v128Store32Lane(ptr: Expr, value: Expr, lane: number, offset = 0): Expr {
    return E(this.m.v128.store32_lane(offset, 4, lane, R(ptr), R(value), MEMORY));
  }
  /** Bytes of a and b (16 + 16) picked by the 16 indices. */
  i8x16Shuffle(a: Expr, b: Expr, indices: readonly number[]): Expr { return E(this.m.i8x16.shuffle(R(a), R(b), indices)); }
  i32x4MaxS(a: Expr, b: Expr): Expr { return E(this.m.i32x4.max_s(R(a), R(b))); }
  i32x4LtS(a: Expr, b: Expr): Expr { return E(this.m.i32x4.lt_s(R(a), R(b))); }
  i32x4GtS(a: Expr, b: Expr): Expr { return E(this.m.i32x4.gt_s(R(a), R(b))); }
  /** Eight i16 lanes: the i32 lanes of a (lanes 0-3) and b (4-7), each saturated to the i16 range. */
  i16x8NarrowI32x4S(a: Expr, b: Expr): Expr { return E(this.m.i16x8.narrow_i32x4_s(R(a), R(b))); }
  /** 1 if any bit of v is set, else 0 (an i32). */
  v128AnyTrue(v: Expr): Expr { return E(this.m.v128.any_true(R(v))); }
  /** i16 lane `lane` of value stored at ptr + offset. */
  v128Store16Lane(ptr: Expr, value: Expr, lane: number, offset = 0): Expr {
    return E(this.m.v128.store16_lane(offset, 2, lane, R(ptr), R(value), MEMORY));
  }
  i32x4MinS(a: Expr, b: Expr): Expr { return E(this.m.i32x4.min_s(R(a), R(b))); }
  i64x2Splat(v: Expr): Expr { return E(this.m.i64x2.splat(R(v))); }
  i64x2ShrS(v: Expr, shift: number): Expr { return E(this.m.i64x2.shr_s(R(v), R(this.i32Const(shift)))); }
  i64x2Shl(v: Expr, shift: number): Expr { return E(this.m.i64x2.shl(R(v), R(this.i32Const(shift)))); }
  /** i64x2.shl by a run-time i32 amount (taken modulo 64, as i64.shl). */
  i64x2ShlBy(v: Expr, shift: Expr): Expr { return E(this.m.i64x2.shl(R(v), R(shift))); }
  i64x2GtS(a: Expr, b: Expr): Expr { return E(this.m.i64x2.gt_s(R(a), R(b))); }
  i64x2LtS(a: Expr, b: Expr): Expr { return E(this.m.i64x2.lt_s(R(a), R(b))); }
}

/** Builds one function body: locals, labels and counted loops on top of Ops. */
export class FunctionBuilder extends Ops {
  readonly vars: binaryen.Type[] = [];
  private labels = 0;

  constructor(m: binaryen.Module, private readonly paramCount = 0, private readonly scratchNeed: { bytes: number } = { bytes: 0 }) {
    super(m);
  }

  /**
   * The address of the module's scratch memory (FAST build only), at least `bytes` long: an i32
   * global the compiler sets once every table is placed (`ModuleBuilder.placeScratch`).
   */
  scratch(bytes: number): Expr {
    this.scratchNeed.bytes = Math.max(this.scratchNeed.bytes, bytes);
    return E(this.m.global.get(SCRATCH_GLOBAL, binaryen.i32));
  }

  local(type: ValueType): Local {
    this.vars.push(TYPE[type]);
    return { index: this.paramCount + this.vars.length - 1, type };
  }
  get(l: Local): Expr { return E(this.m.local.get(l.index, TYPE[l.type])); }
  set(l: Local, v: Expr): Expr { return E(this.m.local.set(l.index, R(v))); }
  tee(l: Local, v: Expr): Expr { return E(this.m.local.tee(l.index, R(v), TYPE[l.type])); }
  /** l += step (i32 locals). */
  bump(l: Local, step: number): Expr {
    return this.set(l, this.i32Add(this.get(l), this.i32Const(step)));
  }

  /**
   * for (i = 0; i < count; i++) body, with `count` static: nothing for 0, the body once for 1,
   * else a do-while loop (no entry test). Extra induction variables advance by `steps` after the
   * body of every iteration. The body receives the counter.
   */
  loop(count: number, body: (i: Local) => Expr[], steps: [Local, number][] = []): Expr {
    const i = this.local("i32");
    if (count <= 0) return this.nop();
    if (count === 1) return this.seq([this.set(i, this.i32Const(0)), ...body(i), ...steps.map(([l, s]) => this.bump(l, s))]);
    const label = `L${this.labels++}`;
    return this.seq([
      this.set(i, this.i32Const(0)),
      E(this.m.loop(label, R(this.seq([
        ...body(i),
        ...steps.map(([l, s]) => this.bump(l, s)),
        E(this.m.br(label, R(this.i32LtU(this.tee(i, this.i32Add(this.get(i), this.i32Const(1))), this.i32Const(count))))),
      ])))),
    ]);
  }

  /** A fresh label name (labels are unique within a function). */
  label(prefix: string): string {
    return `${prefix}${this.labels++}`;
  }

  /** A named block that `br(label)` leaves. */
  block(label: string, body: Expr[]): Expr {
    return E(this.m.block(label, RS(body), binaryen.none));
  }

  /** br (or br_if with a condition) to a block or loop label. */
  br(label: string, cond?: Expr): Expr {
    return E(this.m.br(label, cond === undefined ? undefined : R(cond)));
  }

  /** while (cond) body, with cond evaluated before every iteration. */
  whileLoop(cond: Expr, body: Expr[]): Expr {
    const exit = this.label("W");
    const top = this.label("L");
    return E(this.m.block(exit, [
      this.m.loop(top, R(this.seq([E(this.m.br(exit, R(this.i32Eqz(cond)))), ...body, E(this.m.br(top))]))),
    ], binaryen.none));
  }

  /** while (counter < end) { body; counter += step } with a runtime end (evaluated once); may run zero times. */
  loopTo(counter: Local, end: Expr, step: number, body: Expr[]): Expr {
    const label = `L${this.labels++}`;
    const exit = `B${this.labels++}`;
    const limit = this.local("i32");
    return E(this.m.block(exit, [
      R(this.set(limit, end)),
      this.m.br(exit, R(this.i32GeS(this.get(counter), this.get(limit)))),
      this.m.loop(label, R(this.seq([
        ...body,
        this.bump(counter, step),
        E(this.m.br(label, R(this.i32LtS(this.get(counter), this.get(limit))))),
      ]))),
    ]));
  }
}

/** Fields of binaryen.getExpressionInfo that hold child expressions. */
const CHILD_FIELDS = ["children", "value", "ptr", "condition", "ifTrue", "ifFalse", "left", "right", "operands", "body", "vec", "shift", "a", "b", "c"];

const LEAF_IDS = new Set([binaryen.ConstId, binaryen.UnreachableId, binaryen.NopId, binaryen.LocalGetId]);

/** Whether some expression under `root` is reachable twice (a DAG, not a tree). */
function hasSharedNode(root: Expr): boolean {
  const seen = new Set<Expr>();
  const stack = [root];
  while (stack.length > 0) {
    const e = stack.pop()!;
    if (seen.has(e)) return true;
    seen.add(e);
    // Leaves have no children (and getExpressionInfo throws on unreachable in binaryen.js 132).
    if (LEAF_IDS.has(binaryen.getExpressionId(R(e)))) continue;
    const info = binaryen.getExpressionInfo(R(e)) as unknown as Record<string, unknown>;
    for (const k of CHILD_FIELDS) {
      const v = info[k];
      if (Array.isArray(v)) stack.push(...(v as number[]).filter((c) => c !== 0).map(E));
      else if (typeof v === "number" && v !== 0) stack.push(E(v));
    }
  }
  return false;
}

export interface DataSegment {
  address: number;
  data: Uint8Array;
}

export interface BuildOptions {
  /** Allow SIMD128 instructions (the FAST build). */
  simd: boolean;
}

/** One WASM module under construction. Call `dispose()` when done (Binaryen memory is manual). */
export class ModuleBuilder {
  private readonly m = new binaryen.Module();
  private readonly scratchNeed = { bytes: 0 };

  constructor(options: BuildOptions) {
    // The canonical build is MVP + sign extension only: no bulk memory, no multi-value, no SIMD.
    this.m.setFeatures(binaryen.Features.SignExt | (options.simd ? binaryen.Features.SIMD128 : binaryen.Features.MVP));
  }

  /** Import a host function (i32 parameters, no result) under module `moduleName`. */
  importFunction(name: string, moduleName: string, params: number): void {
    this.m.addFunctionImport(name, moduleName, name, binaryen.createType(new Array(params).fill(binaryen.i32)), binaryen.none);
  }

  /** Add an exported `() -> ()` function whose body `build` writes with a fresh FunctionBuilder. */
  addFunction(name: string, build: (f: FunctionBuilder) => Expr[]): void {
    const f = new FunctionBuilder(this.m, 0, this.scratchNeed);
    const body = f.seq(build(f));
    this.m.addFunction(name, binaryen.none, binaryen.none, f.vars, R(body));
    this.m.addFunctionExport(name, name);
  }

  /** A fixed-size memory (maximum = initial) exported as `memory`, with active data segments. */
  setMemory(pages: number, segments: DataSegment[]): void {
    this.m.setMemory(pages, pages, "memory",
      segments.map((s) => ({ offset: this.m.i32.const(s.address), data: s.data, passive: false })), false, false, MEMORY);
  }

  /** Bytes of scratch memory the functions asked for (FunctionBuilder.scratch); 0 if none. */
  get scratchBytes(): number {
    return this.scratchNeed.bytes;
  }

  /** Set the scratch global (exported) to `address`; only when some function asked for scratch. */
  placeScratch(address: number): void {
    this.m.addGlobal(SCRATCH_GLOBAL, binaryen.i32, false, this.m.i32.const(address));
    this.m.addGlobalExport(SCRATCH_GLOBAL, SCRATCH_GLOBAL);
  }

  /** An immutable i64 global holding `value`, exported under `name`. */
  addConstantGlobal(name: string, value: bigint): void {
    this.m.addGlobal(name, binaryen.i64, false, this.m.i64.const(value));
    this.m.addGlobalExport(name, name);
  }

  /**
   * Throws when Binaryen's validator rejects the module (it prints the details to stderr). With
   * `strict`, also when an expression node has two parents: Binaryen's validator does not catch
   * that, but its optimizer can then abort or miscompile.
   */
  validate(strict = false): void {
    if (!this.m.validate()) throw new Error("Binaryen rejected the generated module (validation failed; see the messages above)");
    if (!strict) return;
    for (let i = 0; i < this.m.getNumFunctions(); i++) {
      const info = binaryen.getFunctionInfo(this.m.getFunctionByIndex(i));
      if (info.body && hasSharedNode(E(info.body))) throw new Error(`internal: function ${info.name} shares an expression node between two parents`);
    }
  }

  /** Run Binaryen's default optimization pipeline at explicit levels (global state, set every time). */
  optimize(level: number, shrink: number): void {
    binaryen.setOptimizeLevel(level);
    binaryen.setShrinkLevel(shrink);
    binaryen.setDebugInfo(false);
    binaryen.setLowMemoryUnused(false);
    binaryen.setZeroFilledMemory(true);
    binaryen.setFastMath(false);
    this.m.optimize();
  }

  text(): string {
    return this.m.emitText();
  }

  emitBinary(): Uint8Array {
    return new Uint8Array(this.m.emitBinary());
  }

  dispose(): void {
    this.m.dispose();
  }
}
