/**
 * The draft graph: what a front end builds before quantization. It has the shape of a detml
 * Graph (IR op kinds, static shapes, ONNX attribute names) but keeps constants as float64
 * ConstValues and real attributes (alpha, epsilon, Clip bounds...) as plain numbers, so rewrites
 * such as BatchNorm fusion work on exact weights. DraftBuilder.op() folds any node whose inputs
 * are all constants (common/fold.ts) and otherwise records it after inferring its output types
 * with the op's own OpDef, so shapes are known as the front end walks the source graph (a
 * source `Shape` op becomes a constant). Its SizeGuard bounds every tensor folding or a
 * composition creates, and every value's static shape is checked as it is defined (no negative
 * or huge dimensions). Front-end neutral.
 */
import { ATTR_FRAC, hasOp, inputArity, opDef, resolveAttrs, type AnyOpDef, type Attrs, type TensorType } from "../../lib/ops/index.js";
import { quantize } from "../../lib/tensor/fixed.js";
import { canFold, evaluate, type FoldAttrs } from "./fold.js";
import { checkShape, SizeGuard } from "./size-guard.js";
import { fracOf, type ConstValue, type ValueClass } from "./values.js";

export interface DraftNode {
  name: string;
  op: string;
  inputs: string[];
  outputs: string[];
  /** IR attribute names; `fixed` attributes as real numbers (quantized when emitted). */
  attrs: FoldAttrs;
}

export interface DraftInput {
  name: string;
  shape: number[];
  dtype: ValueClass;
}

export interface DraftGraph {
  /** Activation frac of the graph to emit. */
  frac: number;
  inputs: DraftInput[];
  outputs: string[];
  constants: Map<string, ConstValue>;
  nodes: DraftNode[];
  metadata: Record<string, string>;
}

/** The OpDef of IR op `kind`, with a short error when detml has no such op. */
export function irOp(kind: string): AnyOpDef {
  if (!hasOp(kind)) throw new Error(`detml has no ${kind} op`);
  return opDef(kind);
}

/** IR attributes from draft attributes: `fixed`/`fixeds` quantized at ATTR_FRAC, the rest as is. */
export function irAttrs(def: AnyOpDef, attrs: FoldAttrs): Attrs {
  const out: Attrs = {};
  for (const [name, value] of Object.entries(attrs)) {
    const type = def.attrs[name]?.type;
    if (type === "fixed" && typeof value === "number") out[name] = quantize(value, ATTR_FRAC);
    else if (type === "fixeds" && Array.isArray(value)) out[name] = value.map((v) => quantize(v, ATTR_FRAC));
    else out[name] = value;
  }
  return out;
}

/** The element class of every output of an op, or of each in order. */
export type OutputClasses = ValueClass | readonly ValueClass[];

export interface OpOptions {
  /** Node name (must be unique); generated from the kind when absent. */
  name?: string;
  /** Output value names; generated from the node name when absent. */
  outputs?: string[];
  /**
   * Element class of the outputs, one for all or one per output (TopK: values and indices); by
   * default comparisons give bool, the rest follow the inputs.
   */
  dtype?: OutputClasses;
}

/** Add to `used` and return `base`, or `base_1`, `base_2`... whichever is free first. */
function claim(used: Set<string>, base: string): string {
  let name = base;
  for (let i = 1; used.has(name); i++) name = `${base}_${i}`;
  used.add(name);
  return name;
}

const BOOL_OPS = new Set(["Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual", "And", "Or", "Not"]);

export class DraftBuilder {
  private readonly graph: DraftGraph;
  private readonly types = new Map<string, TensorType>();
  private readonly dtypes = new Map<string, ValueClass>();
  private readonly taken = new Set<string>();
  private readonly nodeNames = new Set<string>();
  /** Number of op() calls answered by constant folding. */
  folds = 0;
  /** Folded constants that are the 2-D transpose of another constant: name -> that constant. */
  private readonly transposeOf = new Map<string, string>();
  /** Bounds the tensors that folding and compositions create (see size-guard.ts). */
  readonly guard: SizeGuard;

  /** `maxFoldedBytes`: the user's limit on a folded tensor (default: see SizeGuard). */
  constructor(options: { frac: number; metadata?: Record<string, string>; maxFoldedBytes?: number }) {
    this.graph = { frac: options.frac, inputs: [], outputs: [], constants: new Map(), nodes: [], metadata: { ...options.metadata } };
    this.guard = new SizeGuard(options.maxFoldedBytes);
  }

  get frac(): number {
    return this.graph.frac;
  }

  /** Keep names of the source graph out of generated names (call before generating any). */
  reserve(names: Iterable<string>): void {
    for (const n of names) this.taken.add(n);
  }

  /** A value name not used so far, derived from `base`. */
  fresh(base: string): string {
    return claim(this.taken, base);
  }

  input(name: string, shape: number[], dtype: ValueClass): string {
    this.graph.inputs.push({ name, shape: [...shape], dtype });
    this.define(name, { shape: [...shape], frac: dtype === "float" ? this.frac : 0 }, dtype);
    return name;
  }

  constant(name: string, value: ConstValue): string {
    this.graph.constants.set(name, value);
    this.define(name, { shape: [...value.shape], frac: fracOf(value) }, value.dtype);
    return name;
  }

  /** The constant value of `name`, or undefined for runtime values. */
  constOf(name: string): ConstValue | undefined {
    return this.graph.constants.get(name);
  }

  has(name: string): boolean {
    return this.types.has(name);
  }

  typeOf(name: string): TensorType {
    const t = this.types.get(name);
    if (!t) throw new Error(`value '${name}' is not defined yet`);
    return t;
  }

  dtypeOf(name: string): ValueClass {
    return this.dtypes.get(name) ?? "float";
  }

  /**
   * Add an op: folded into constants when every present input is constant and the kind can be
   * evaluated, otherwise recorded as a node with inferred output types. Returns the output names.
   * Throws a plain Error (the caller names the source node) when the op rejects its inputs.
   */
  op(kind: string, inputs: string[], attrs: FoldAttrs = {}, opts: OpOptions = {}): string[] {
    const present = inputs.filter((v) => v !== "");
    if (canFold(kind) && present.every((v) => this.graph.constants.has(v))) {
      const results = evaluate(kind, present.map((v) => this.graph.constants.get(v)!), attrs, this.guard);
      const outputs = opts.outputs ?? results.map((_, i) => this.fresh(`${opts.name ?? kind.toLowerCase()}${results.length > 1 ? `:${i}` : ""}`));
      this.folds++;
      results.forEach((r, i) => this.constant(outputs[i], r));
      if (kind === "Transpose" && results[0].shape.length === 2) this.transposeOf.set(outputs[0], present[0]);
      return outputs;
    }
    if (kind === "MatMul" && this.transposeOf.has(inputs[1]) && !this.graph.constants.has(inputs[0]) && this.typeOf(inputs[0]).shape.length >= 2) {
      return this.matMulTransposed(inputs[0], this.transposeOf.get(inputs[1])!, opts);
    }
    if (!hasOp(kind) && canFold(kind)) throw new Error(`${kind} is only supported on constant inputs (it is evaluated at conversion time)`);
    const def = irOp(kind);
    const { min, max } = inputArity(def);
    if (inputs.length < min || inputs.length > max || inputs.slice(0, min).includes("")) {
      throw new Error(`${kind} takes ${min === max ? min : max === Infinity ? `at least ${min}` : `${min} to ${max}`} inputs (${def.inputs.join(", ")}), got ${inputs.length}${inputs.includes("") ? " with some absent" : ""}`);
    }
    const resolved = resolveAttrs(def, irAttrs(def, attrs));
    const name = claim(this.nodeNames, opts.name ?? kind.toLowerCase());
    const count = def.outputs(resolved);
    const outputs = opts.outputs ?? Array.from({ length: count }, (_, i) => this.fresh(count === 1 ? name : `${name}:${i}`));
    if (outputs.length !== count) throw new Error(`${kind} gives ${count} outputs, ${outputs.length} requested`);
    const inTypes = inputs.map((v) => (v === "" ? undefined : this.typeOf(v))) as TensorType[];
    const outTypes = def.infer(inTypes, resolved, { frac: this.frac });
    const dtype = opts.dtype ?? (BOOL_OPS.has(kind) ? "bool" : this.inputClass(present));
    outputs.forEach((o, i) => this.define(o, outTypes[i], typeof dtype === "string" ? dtype : dtype[i]));
    this.graph.nodes.push({ name, op: kind, inputs: [...inputs], outputs, attrs: { ...attrs } });
    return outputs;
  }

  /**
   * MatMul(A, transpose(W)) with W a constant [N, K]: Gemm(A, W, transB = 1) on A's rows (A
   * reshaped to [rows, K] and the result back to [..., N]), so the weights stay W itself. A model
   * with tied embeddings (GPT-2's LM head is the token table, transposed) would otherwise store
   * the table twice (154 MB for GPT-2 small). The same exact dot products, narrowed once: the
   * result equals the MatMul's.
   */
  private matMulTransposed(a: string, w: string, opts: OpOptions): string[] {
    const aShape = this.typeOf(a).shape;
    const [n, k] = this.typeOf(w).shape;
    const rows = aShape.slice(0, -1);
    const flat = aShape.length === 2 ? a : this.op("Reshape", [a], { shape: [rows.reduce((x, y) => x * y, 1), k] })[0];
    const gemmOpts = aShape.length === 2 ? opts : { name: opts.name };
    const [y] = this.op("Gemm", [flat, w], { alpha: 1, beta: 1, transA: 0, transB: 1 }, gemmOpts);
    return aShape.length === 2 ? [y] : this.op("Reshape", [y], { shape: [...rows, n] }, { outputs: opts.outputs });
  }

  output(name: string): void {
    this.graph.outputs.push(name);
  }

  meta(key: string, value: string): void {
    this.graph.metadata[key] = value;
  }

  finish(): DraftGraph {
    return this.graph;
  }

  private define(name: string, type: TensorType, dtype: ValueClass): void {
    checkShape(type.shape, `value '${name}'`);
    this.types.set(name, type);
    this.dtypes.set(name, dtype);
    this.taken.add(name);
  }

  /** Any float operand makes a float (Where's condition and Gather's indices never are). */
  private inputClass(inputs: string[]): ValueClass {
    const classes = inputs.map((v) => this.dtypeOf(v));
    return classes.includes("float") ? "float" : classes.every((c) => c === "bool") ? "bool" : "int";
  }
}
