/**
 * NodeCtx: what an ONNX op handler sees of the node it translates. Attribute getters with ONNX
 * defaults; inputs resolved through aliases (removed Identity/Dropout), with their constant
 * value, static shape and element class; and emission into the draft graph, either as
 * intermediate values (`emit`) or as the node's own outputs (`finish`, `alias`, `setConst`).
 * `irAttrs(kind)` copies the node's attributes by the IR op's schema, so an attribute detml
 * does not know is an error rather than silently ignored.
 */
import { irOp, type DraftBuilder, type OutputClasses } from "../common/draft.js";
import type { FoldAttrs } from "../common/fold.js";
import type { SizeGuard } from "../common/size-guard.js";
import { toInts, type ConstValue, type ValueClass } from "../common/values.js";
import { attrValue, ExternalData, tensorValue, type NodeProto, type OnnxAttr, type TensorProto } from "./proto.js";

/** Attributes of old opsets that only hinted at memory reuse and never changed results. */
const LEGACY_HINTS = ["consumed_inputs"];

export class NodeCtx {
  private readonly attrs: Map<string, OnnxAttr>;
  private readonly inputNames: string[];
  readonly outputs: string[];

  constructor(
    readonly node: NodeProto,
    /** Display name for messages and the base of IR node names. */
    readonly name: string,
    readonly opset: number,
    private readonly db: DraftBuilder,
    private readonly aliases: Map<string, string>,
    private readonly used: ReadonlySet<string>,
    private readonly external: ExternalData,
    /** ONNX element types (TensorProto.DataType) of the values whose type the model states. */
    private readonly elemTypes: ReadonlyMap<string, number> = new Map(),
  ) {
    this.attrs = new Map((node.attribute ?? []).map((a) => [a.name ?? "", attrValue(a)]));
    this.inputNames = [...(node.input ?? [])];
    while (this.inputNames.length && this.inputNames[this.inputNames.length - 1] === "") this.inputNames.pop();
    this.outputs = [...(node.output ?? [])];
  }

  get opType(): string {
    return this.node.opType ?? "";
  }

  /** The draft's size guard, for constants a handler computes from a shape. */
  get guard(): SizeGuard {
    return this.db.guard;
  }

  // ---- attributes -------------------------------------------------------------------------

  has(attr: string): boolean {
    return this.attrs.has(attr);
  }

  attrNames(): string[] {
    return [...this.attrs.keys()];
  }

  private attr<T>(name: string, check: (v: OnnxAttr) => boolean, kind: string, fallback?: T): T {
    const v = this.attrs.get(name);
    if (v === undefined) {
      if (fallback === undefined) throw new Error(`attribute '${name}' is required`);
      return fallback;
    }
    if (!check(v)) throw new Error(`attribute '${name}' must be ${kind}, got ${JSON.stringify(v)}`);
    return v as T;
  }

  int(name: string, fallback?: number): number {
    return this.attr(name, (v) => typeof v === "number" && Number.isInteger(v), "an int", fallback);
  }

  float(name: string, fallback?: number): number {
    return this.attr(name, (v) => typeof v === "number", "a float", fallback);
  }

  ints(name: string, fallback?: number[]): number[] {
    return this.attr(name, (v) => Array.isArray(v) && v.every((x) => Number.isInteger(x)), "a list of ints", fallback);
  }

  floats(name: string, fallback?: number[]): number[] {
    return this.attr(name, (v) => Array.isArray(v) && v.every((x) => typeof x === "number"), "a list of floats", fallback);
  }

  string(name: string, fallback?: string): string {
    return this.attr(name, (v) => typeof v === "string", "a string", fallback);
  }

  tensor(name: string): ConstValue {
    const t = this.attr<TensorProto>(name, (v) => typeof v === "object" && v !== null && !Array.isArray(v), "a tensor");
    const value = tensorValue(t, this.external, `attribute '${name}'`);
    // Read from the model's own bytes (a Constant's weights): as large a fold is fair.
    this.db.guard.admitSource(value.data.length);
    return value;
  }

  /**
   * The node's attributes under the names of IR op `kind` (plus `extra`, which win), converted
   * by the IR schema: ints, int lists, reals for `fixed`, strings for enums. Attributes listed in
   * `ignore` are dropped; any other attribute the IR op lacks is an error naming it.
   */
  irAttrs(kind: string, extra: FoldAttrs = {}, ignore: readonly string[] = []): FoldAttrs {
    const given = [...this.attrs].filter(([name]) => !ignore.includes(name) && !LEGACY_HINTS.includes(name) && !(name in extra));
    if (given.length === 0) return { ...extra };
    const schema = irOp(kind).attrs;
    const out: FoldAttrs = {};
    for (const [name, value] of given) {
      if (!(name in schema)) throw new Error(`attribute '${name}' is not supported (detml's ${kind} has ${Object.keys(schema).join(", ") || "no attributes"})`);
      if (value === undefined || typeof value === "object" && !Array.isArray(value)) throw new Error(`attribute '${name}' has an unsupported type`);
      out[name] = value as number | number[] | string;
    }
    return { ...out, ...extra };
  }

  // ---- inputs ---------------------------------------------------------------------------

  /** Number of inputs, not counting trailing absent ones. */
  get inputCount(): number {
    return this.inputNames.length;
  }

  hasInput(i: number): boolean {
    return (this.inputNames[i] ?? "") !== "";
  }

  /** The draft value of input i ("" when absent). */
  input(i: number): string {
    const name = this.inputNames[i] ?? "";
    return name === "" ? "" : this.aliases.get(name) ?? name;
  }

  inputs(): string[] {
    return this.inputNames.map((_, i) => this.input(i));
  }

  constant(i: number): ConstValue | undefined {
    return this.hasInput(i) ? this.db.constOf(this.input(i)) : undefined;
  }

  /** Input i as a constant; shape-like operands must be known at conversion time. */
  requireConst(i: number, what: string): ConstValue {
    const v = this.constant(i);
    if (!v) {
      throw new Error(this.hasInput(i)
        ? `input ${i} (${what}) must be a constant: detml graphs have static shapes and parameters, and '${this.inputNames[i]}' is computed at run time`
        : `input ${i} (${what}) is required`);
    }
    return v;
  }

  constInts(i: number, what: string): number[] {
    return toInts(this.requireConst(i, what), `input ${i} (${what})`);
  }

  shape(i: number): number[] {
    return [...this.db.typeOf(this.input(i)).shape];
  }

  rank(i: number): number {
    return this.shape(i).length;
  }

  /** The static shape of any draft value, e.g. one this handler emitted. */
  shapeOf(value: string): number[] {
    return [...this.db.typeOf(value).shape];
  }

  dtype(i: number): ValueClass {
    return this.db.dtypeOf(this.input(i));
  }

  /** The ONNX element type of input i (TensorProto.DataType), when the model states it. */
  elemType(i: number): number | undefined {
    const name = this.inputNames[i] ?? "";
    return name === "" ? undefined : this.elemTypes.get(name);
  }

  /** The frac of input i in the draft (0 for integers). */
  frac(i: number): number {
    return this.db.typeOf(this.input(i)).frac;
  }

  /** Whether output i exists and something reads it. */
  outputUsed(i: number): boolean {
    const name = this.outputs[i] ?? "";
    return name !== "" && this.used.has(name);
  }

  // ---- emission -------------------------------------------------------------------------

  /** Add an intermediate op; its values get names derived from this node's. */
  emit(kind: string, inputs: string[], attrs: FoldAttrs = {}, dtype?: ValueClass): string[] {
    return this.db.op(kind, inputs, attrs, { name: this.name, dtype });
  }

  /** Add the op that produces this node's outputs (only the first `count` when the rest are unused). */
  finish(kind: string, inputs: string[], attrs: FoldAttrs = {}, dtype?: OutputClasses, count = this.outputs.length): void {
    const outputs = this.outputs.slice(0, count).map((o, i) => (o === "" ? this.db.fresh(`${this.name}:${i}`) : o));
    this.db.op(kind, inputs, attrs, { name: this.name, outputs, dtype });
  }

  /** Output i is the same value as `value` (no node emitted). */
  alias(i: number, value: string): void {
    this.aliases.set(this.outputs[i], value);
  }

  setConst(i: number, value: ConstValue): void {
    this.db.constant(this.outputs[i], value);
  }

  isConst(value: string): boolean {
    return this.db.constOf(value) !== undefined;
  }

  /** A draft constant for a value computed by the handler (e.g. a reshape target). */
  addConst(base: string, value: ConstValue): string {
    return this.db.constant(this.db.fresh(`${this.name}/${base}`), value);
  }
}
