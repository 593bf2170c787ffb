/**
 * The kernel contract. Every IR op kind is one OpDef: its inputs, its typed attributes with
 * defaults, its shape/frac inference and its reference kernel. The graph validator, the .detml
 * codec and the reference executor are generic over OpDefs, so adding an op means writing one
 * OpDef (plus its compiler emitter and converter lines), never editing those modules; a view
 * (`view: true`) needs no emitter at all.
 * Kernels are integer-only: no floating point touches tensor values (floats may appear only in
 * index arithmetic that is exact, e.g. Math.floor of small integers).
 */
import type { Tensor } from "../tensor/tensor.js";

/**
 * Attribute kinds. `fixed`/`fixeds` are real numbers stored as integers at ATTR_FRAC fractional
 * bits (quantized when the graph is built, so no float reaches a kernel).
 */
export type AttrType = "int" | "ints" | "fixed" | "fixeds" | "enum";
export type AttrValue = number | number[] | string;
export type Attrs = Record<string, AttrValue>;

/** Fractional bits of `fixed` attributes. */
export const ATTR_FRAC = 16;

export interface AttrSpec {
  type: AttrType;
  /** Used when the attribute is absent; no default means required. */
  default?: AttrValue;
  /** Allowed strings of an `enum`. */
  values?: readonly string[];
  doc?: string;
}

/** Static type of a tensor flowing through a graph. */
export interface TensorType {
  shape: number[];
  frac: number;
}

/** What a kernel may know besides its inputs: the frac at which it writes newly computed values. */
export interface OpContext {
  frac: number;
}

export interface OpDef<A extends Attrs = Attrs> {
  /** IR op kind, e.g. "Conv". */
  readonly kind: string;
  /** One line for the docs and op listings. */
  readonly summary: string;
  /** Input names; a trailing "?" marks an optional input, a leading "..." a variadic tail. */
  readonly inputs: readonly string[];
  readonly attrs: { readonly [K in keyof A]-?: AttrSpec };
  /**
   * True for a view: the output is the single input's row-major data under another shape, with
   * the input's frac (no value is moved or computed). Backends alias a view's output to its input
   * instead of emitting code; this flag is the only list of views.
   */
  readonly view?: boolean;
  /** Output count for these attributes (Split has several). */
  outputs(attrs: A): number;
  /**
   * Output shapes and fracs; throws an Error with a plain message on invalid inputs/attributes.
   * An absent optional input arrives as `undefined` (here and in `run`).
   */
  infer(inputs: TensorType[], attrs: A, ctx: OpContext): TensorType[];
  /** Reference kernel: the executable definition of the op. */
  run(inputs: Tensor[], attrs: A, ctx: OpContext): Tensor[];
}

/** Helper to declare an OpDef with its attribute type inferred. */
export function defineOp<A extends Attrs>(def: OpDef<A>): OpDef<A> {
  return def;
}

/** Fill defaults and check types of attributes against a schema; errors name the attribute. */
export function resolveAttrs<A extends Attrs>(def: OpDef<A>, given: Partial<Attrs>): A {
  const out: Attrs = {};
  for (const name of Object.keys(given)) {
    if (!(name in def.attrs)) throw new Error(`${def.kind} has no attribute '${name}'`);
  }
  for (const [name, spec] of Object.entries(def.attrs) as [string, AttrSpec][]) {
    const v = given[name] ?? spec.default;
    if (v === undefined) throw new Error(`${def.kind} requires attribute '${name}'`);
    checkAttr(def.kind, name, spec, v);
    out[name] = Array.isArray(v) ? [...v] : v;
  }
  return out as A;
}

function checkAttr(kind: string, name: string, spec: AttrSpec, v: AttrValue): void {
  const isInt = (x: unknown) => typeof x === "number" && Number.isInteger(x);
  const ok =
    spec.type === "int" || spec.type === "fixed" ? isInt(v)
    : spec.type === "ints" || spec.type === "fixeds" ? Array.isArray(v) && v.every(isInt)
    : typeof v === "string" && (!spec.values || spec.values.includes(v));
  if (!ok) {
    const want = spec.type === "enum" && spec.values ? `one of ${spec.values.join("|")}` : spec.type;
    throw new Error(`${kind} attribute '${name}' must be ${want}, got ${JSON.stringify(v)}`);
  }
}

/** Min and max input counts implied by an OpDef's input names. */
export function inputArity(def: OpDef): { min: number; max: number } {
  let min = 0;
  let max = 0;
  for (const name of def.inputs) {
    if (name.startsWith("...")) return { min: Math.max(min, 1), max: Infinity };
    max++;
    if (!name.endsWith("?")) min = max;
  }
  return { min, max };
}

/** Throw unless `cond`; the message is prefixed with nothing, the caller adds the node name. */
export function check(cond: boolean, message: string): asserts cond {
  if (!cond) throw new Error(message);
}
