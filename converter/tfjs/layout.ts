/**
 * TensorFlow tensors on top of the draft graph, with layout tracking. TF.js models are NHWC; the
 * detml Conv/pool/Resize/BatchNormalization ops are NCHW (ONNX). Rather than wrapping every conv
 * in a pair of transposes, each TF value records how its draft value is laid out: `perm[i]` is
 * the TF axis held by draft axis i (absent: the same layout). Convolutions produce channels-first
 * values; elementwise ops, bias adds, reductions, concatenations, pads and slices work in whatever
 * layout their operands have (axes are mapped through the perm); a TF Transpose of a run-time
 * value is only a change of perm. A value is physically transposed (`in`) only where an op needs
 * a given layout — Reshape/MatMul and graph outputs need the TF layout — and each such transpose
 * is made once per value and layout. So a conv stack has one transpose at its input and one at
 * its Flatten or output. Constants always keep the TF layout; transposes of constants fold.
 */
import type { Composer, Composite, Operand } from "../common/composite-math.js";
import type { DraftBuilder, OutputClasses } from "../common/draft.js";
import type { FoldAttrs } from "../common/fold.js";
import type { ConstValue, ValueClass } from "../common/values.js";

export interface TfValue {
  /** Draft value name. */
  name: string;
  /** Draft axis i holds TF axis perm[i]; undefined when the draft value has the TF layout. */
  perm?: number[];
}

export const identityPerm = (rank: number): number[] => Array.from({ length: rank }, (_, i) => i);

/** NHWC -> NCHW (and NWC -> NCW): the last axis moves to position 1. */
export const channelsFirst = (rank: number): number[] => [0, rank - 1, ...identityPerm(rank).slice(1, rank - 1)];

/** A perm that brings TF axis `axis` to position 1 (for ops that take channels at axis 1). */
export const axisToOne = (rank: number, axis: number): number[] => [0, axis, ...identityPerm(rank).filter((a) => a !== 0 && a !== axis)];

const isIdentity = (perm: readonly number[] | undefined): boolean => !perm || perm.every((a, i) => a === i);
const normPerm = (perm: number[] | undefined): number[] | undefined => (isIdentity(perm) ? undefined : perm);
const invert = (perm: readonly number[]): number[] => {
  const inv = new Array<number>(perm.length);
  perm.forEach((a, i) => (inv[a] = i));
  return inv;
};

export class TfBuilder {
  /** Draft name of a value physically transposed to a layout, keyed by `name|its perm|wanted perm`. */
  private readonly transposed = new Map<string, string>();

  constructor(readonly db: DraftBuilder) {}

  value(name: string, perm?: number[]): TfValue {
    return { name, perm: normPerm(perm) };
  }

  /** The TF shape of a value. */
  shape(v: TfValue): number[] {
    const draft = this.db.typeOf(v.name).shape;
    if (!v.perm) return [...draft];
    const out = new Array<number>(draft.length);
    v.perm.forEach((a, i) => (out[a] = draft[i]));
    return out;
  }

  rank(v: TfValue): number {
    return this.db.typeOf(v.name).shape.length;
  }

  dtype(v: TfValue): ValueClass {
    return this.db.dtypeOf(v.name);
  }

  /** The constant value of a TF value (constants always have the TF layout). */
  constOf(v: TfValue): ConstValue | undefined {
    return v.perm ? undefined : this.db.constOf(v.name);
  }

  constant(base: string, value: ConstValue): TfValue {
    return { name: this.db.constant(this.db.fresh(base), value) };
  }

  /** The draft name of `v` laid out by `perm` (undefined: the TF layout), transposing if needed. */
  in(v: TfValue, perm?: readonly number[]): string {
    const want = isIdentity(perm) ? undefined : [...perm!];
    const have = v.perm;
    if (String(have) === String(want)) return v.name;
    const key = `${v.name}|${have ?? "tf"}|${want ?? "tf"}`;
    const cached = this.transposed.get(key);
    if (cached) return cached;
    const rank = this.rank(v);
    const inv = invert(have ?? identityPerm(rank));
    const target = want ?? identityPerm(rank);
    const [out] = this.db.op("Transpose", [v.name], { perm: target.map((a) => inv[a]) }, { name: `${v.name}/${want ? "to_nchw" : "to_nhwc"}` });
    this.transposed.set(key, out);
    return out;
  }

  /** The draft name of `v` in the TF layout. */
  tf(v: TfValue): string {
    return this.in(v);
  }

  /** Emit a draft op on draft names; returns the draft output names. */
  op(kind: string, inputs: string[], attrs: FoldAttrs, name: string, dtype?: OutputClasses): string[] {
    return this.db.op(kind, inputs, attrs, { name, dtype });
  }

  /** An op whose inputs and output use the TF layout. */
  tfOp(kind: string, inputs: TfValue[], attrs: FoldAttrs, name: string, dtype?: ValueClass): TfValue {
    return { name: this.op(kind, inputs.map((v) => this.tf(v)), attrs, name, dtype)[0] };
  }

  /** An elementwise op of one input: it keeps the input's layout. */
  unary(kind: string, x: TfValue, attrs: FoldAttrs, name: string): TfValue {
    return { name: this.op(kind, [x.name], attrs, name)[0], perm: x.perm };
  }

  /**
   * Bring operands of a broadcasting op to one rank and one layout: the layout of the first
   * full-rank operand that is not in the TF layout (else the TF layout). A lower-rank operand is
   * first given leading 1s, as TF broadcasting aligns trailing axes. Returns draft names and perm.
   */
  harmonize(operands: TfValue[], name: string): { names: string[]; perm?: number[] } {
    const rank = Math.max(...operands.map((v) => this.rank(v)));
    const perm = operands.find((v) => v.perm && this.rank(v) === rank)?.perm;
    const names = operands.map((v) => {
      if (this.rank(v) === rank) return this.in(v, perm);
      if (!perm) return this.tf(v);
      const shape = this.shape(v);
      const [full] = this.op("Reshape", [this.tf(v)], { shape: [...new Array<number>(rank - shape.length).fill(1), ...shape] }, `${name}/broadcast`);
      return this.in({ name: full }, perm);
    });
    return { names, perm };
  }

  /**
   * This builder as the Composer of the shared compositions (converter/common/composite-*.ts):
   * their intermediate ops and constants are named under `name`.
   */
  composer(name: string): Composer {
    return {
      op: (kind, inputs, attrs = {}, dtype) => this.op(kind, inputs, attrs, `${name}/${kind.toLowerCase()}`, dtype),
      constant: (base, value) => this.constant(`${name}/${base}`, value).name,
      guard: this.db.guard,
    };
  }

  /** A draft value as a composition operand (its draft shape, class and frac). */
  operand(name: string): Operand {
    const t = this.db.typeOf(name);
    return { name, shape: [...t.shape], dtype: this.db.dtypeOf(name), frac: t.frac };
  }

  /** A composition's result as a TF value named `name`, its draft laid out by `perm`. */
  composed(r: Composite, name: string, perm?: number[]): TfValue {
    return this.value(typeof r === "string" ? r : this.op(r.kind, r.inputs, r.attrs ?? {}, name, r.dtype)[0], perm);
  }

  /** An elementwise composition of x (its constants are scalars), in x's layout. */
  elementwise(x: TfValue, name: string, build: (c: Composer, x: Operand) => Composite): TfValue {
    return this.composed(build(this.composer(name), this.operand(x.name)), name, x.perm);
  }

  /** A composition of several broadcast operands, brought to one layout first. */
  combine(operands: TfValue[], name: string, build: (c: Composer, names: string[]) => Composite): TfValue {
    const { names, perm } = this.harmonize(operands, name);
    return this.composed(build(this.composer(name), names), name, perm);
  }

  /** A broadcasting elementwise op of several inputs (Add, Mul, Max, PRelu...). */
  broadcast(kind: string, operands: TfValue[], attrs: FoldAttrs, name: string, dtype?: ValueClass): TfValue {
    const { names, perm } = this.harmonize(operands, name);
    return { name: this.op(kind, names, attrs, name, dtype)[0], perm };
  }

  /** Concat along TF axis `axis` (normalized) in the operands' common layout. */
  concat(operands: TfValue[], axis: number, name: string): TfValue {
    const { names, perm } = this.harmonize(operands, name);
    return { name: this.op("Concat", names, { axis: perm ? perm.indexOf(axis) : axis }, name)[0], perm };
  }

  /** Draft axis of TF axis `axis` (normalized) of `v`. */
  axis(v: TfValue, axis: number): number {
    return v.perm ? v.perm.indexOf(axis) : axis;
  }

  /**
   * A reduction over TF axes (normalized). With keepdims the layout is kept; without, the
   * remaining draft axes keep their order, which may still be a permutation of the TF order.
   */
  reduce(kind: string, x: TfValue, axes: number[], keepdims: boolean, name: string, extra: FoldAttrs = {}): TfValue {
    const draftAxes = axes.map((a) => this.axis(x, a)).sort((a, b) => a - b);
    const [out] = this.op(kind, [x.name], { ...extra, axes: draftAxes, keepdims: keepdims ? 1 : 0 }, name);
    return { name: out, perm: keepdims ? x.perm : this.dropAxes(x, axes) };
  }

  /** Squeeze TF axes (normalized) of `x`, keeping its layout for the others. */
  squeeze(x: TfValue, axes: number[], name: string): TfValue {
    if (axes.length === 0) return x;
    const [out] = this.op("Squeeze", [x.name], { axes: axes.map((a) => this.axis(x, a)).sort((a, b) => a - b) }, name);
    return { name: out, perm: this.dropAxes(x, axes) };
  }

  /** The perm left when TF axes `axes` are removed from `x`. */
  private dropAxes(x: TfValue, axes: number[]): number[] | undefined {
    if (!x.perm) return undefined;
    const remaining = x.perm.filter((a) => !axes.includes(a));
    const sorted = [...remaining].sort((a, b) => a - b);
    return normPerm(remaining.map((a) => sorted.indexOf(a)));
  }

  /** TF Transpose: a run-time value only changes its perm; a constant is transposed (folded). */
  transpose(x: TfValue, perm: number[], name: string): TfValue {
    if (this.constOf(x)) return { name: this.op("Transpose", [x.name], { perm }, name)[0] };
    const inv = invert(perm);
    const have = x.perm ?? identityPerm(perm.length);
    return { name: x.name, perm: normPerm(have.map((a) => inv[a])) };
  }

  /** Pad with TF paddings per TF axis ([before, after] pairs), in the input's layout. */
  pad(x: TfValue, paddings: [number, number][], attrs: FoldAttrs, name: string): TfValue {
    const perm = x.perm ?? identityPerm(paddings.length);
    const pads = [...perm.map((a) => paddings[a][0]), ...perm.map((a) => paddings[a][1])];
    return { name: this.op("Pad", [x.name], { ...attrs, pads }, name)[0], perm: x.perm };
  }

  /** Slice TF axes with [start, end) and step per TF axis, in the input's layout. */
  slice(x: TfValue, starts: number[], ends: number[], steps: number[], name: string): TfValue {
    const axes = starts.map((_, a) => this.axis(x, a));
    return { name: this.op("Slice", [x.name], { starts, ends, axes, steps }, name)[0], perm: x.perm };
  }
}
