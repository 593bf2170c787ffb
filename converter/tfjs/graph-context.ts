/**
 * GraphDef nodes as a TF.js graph model stores them (TensorFlow's JSON proto encoding: strings
 * base64, int64s as decimal strings, lists under `list`, types as "DT_FLOAT") and TfNodeCtx, what
 * an op handler sees of one node: typed attribute getters with TF's defaults, its inputs as TF
 * values (a constant input's value and shape-like operands that must be constants), and the
 * definition of its outputs. Inputs are TF tensor references: "node" (output 0), "node:k", and
 * "^node" control dependencies, which carry no data and are dropped.
 */
import { toInts, type ConstValue, type ValueClass } from "../common/values.js";
import type { TfBuilder, TfValue } from "./layout.js";

export interface AttrJson {
  s?: string;
  i?: string | number;
  f?: number;
  b?: boolean;
  type?: string;
  shape?: { dim?: { size?: string | number }[]; unknownRank?: boolean };
  tensor?: TensorJson;
  list?: { s?: string[]; i?: (string | number)[]; f?: number[]; b?: boolean[]; type?: string[] };
  func?: unknown;
}

export interface TensorJson {
  dtype?: string;
  tensorShape?: { dim?: { size?: string | number }[] };
  floatVal?: number[];
  intVal?: number[];
  int64Val?: (string | number)[];
  boolVal?: boolean[];
  tensorContent?: string;
}

export interface NodeJson {
  name: string;
  op: string;
  input?: string[];
  attr?: Record<string, AttrJson>;
}

/** A TF tensor reference without the ":0" of a first output. */
export function tensorRef(input: string): { node: string; index: number; ref: string } {
  const m = /^(.*):(\d+)$/.exec(input);
  const node = m ? m[1] : input;
  const index = m ? Number(m[2]) : 0;
  return { node, index, ref: index === 0 ? node : `${node}:${index}` };
}

/** TF DataType name -> detml value class (undefined for types detml cannot hold). */
export function valueClassOfDtype(dtype: string | undefined): ValueClass | undefined {
  if (dtype === "DT_FLOAT" || dtype === "DT_HALF" || dtype === "DT_DOUBLE" || dtype === "DT_BFLOAT16") return "float";
  if (dtype === "DT_INT32" || dtype === "DT_INT64" || dtype === "DT_INT16" || dtype === "DT_INT8" || dtype === "DT_UINT8" || dtype === "DT_UINT16") return "int";
  if (dtype === "DT_BOOL") return "bool";
  return undefined;
}

const decodeBase64 = (s: string): string => Buffer.from(s, "base64").toString("utf8");

/** Dimensions of a TensorShapeProto (-1 for unknown). */
export function dimsOf(shape: { dim?: { size?: string | number }[] } | undefined): number[] {
  return (shape?.dim ?? []).map((d) => Number(d.size ?? -1));
}

export class TfNodeCtx {
  private readonly inputRefs: string[];

  constructor(
    readonly node: NodeJson,
    readonly b: TfBuilder,
    private readonly values: Map<string, TfValue>,
  ) {
    this.inputRefs = (node.input ?? []).filter((x) => !x.startsWith("^")).map((x) => tensorRef(x).ref);
  }

  get name(): string {
    return this.node.name;
  }

  get op(): string {
    return this.node.op;
  }

  // ---- attributes -------------------------------------------------------------------------

  private attr(name: string): AttrJson | undefined {
    return this.node.attr?.[name];
  }

  has(name: string): boolean {
    return this.attr(name) !== undefined;
  }

  int(name: string, fallback?: number): number {
    const a = this.attr(name);
    if (a?.i === undefined) {
      if (fallback === undefined) throw new Error(`attribute '${name}' is required`);
      return fallback;
    }
    return Number(a.i);
  }

  float(name: string, fallback: number): number {
    const f = this.attr(name)?.f;
    return f === undefined ? fallback : Number(f);
  }

  bool(name: string, fallback = false): boolean {
    return this.attr(name)?.b ?? fallback;
  }

  str(name: string, fallback?: string): string {
    const s = this.attr(name)?.s;
    if (s === undefined) {
      if (fallback === undefined) throw new Error(`attribute '${name}' is required`);
      return fallback;
    }
    return decodeBase64(s);
  }

  ints(name: string, fallback: number[] = []): number[] {
    const list = this.attr(name)?.list;
    return list?.i ? list.i.map(Number) : fallback;
  }

  strs(name: string): string[] {
    return (this.attr(name)?.list?.s ?? []).map(decodeBase64);
  }

  type(name: string): string | undefined {
    return this.attr(name)?.type;
  }

  /** Reject data formats other than NHWC/NWC (TF.js runs only channels-last on the CPU). */
  channelsLast(): void {
    const format = this.str("data_format", "NHWC");
    if (format !== "NHWC" && format !== "NWC") throw new Error(`data_format ${format} is not supported (NHWC only, as in TF.js)`);
  }

  // ---- inputs ---------------------------------------------------------------------------

  get inputCount(): number {
    return this.inputRefs.length;
  }

  input(i: number): TfValue {
    const ref = this.inputRefs[i];
    if (ref === undefined) throw new Error(`input ${i} is missing (the node has ${this.inputRefs.length})`);
    const v = this.values.get(ref);
    if (!v) throw new Error(`input '${ref}' is not computed by any node`);
    return v;
  }

  inputs(): TfValue[] {
    return this.inputRefs.map((_, i) => this.input(i));
  }

  constant(i: number): ConstValue | undefined {
    return this.b.constOf(this.input(i));
  }

  /** A shape-like operand, which must be known at conversion time. */
  requireConst(i: number, what: string): ConstValue {
    const v = this.constant(i);
    if (!v) throw new Error(`input ${i} (${what}) must be a constant: detml graphs have static shapes and parameters, and '${this.inputRefs[i]}' is computed at run time`);
    return v;
  }

  constInts(i: number, what: string): number[] {
    return toInts(this.requireConst(i, what), `input ${i} (${what})`);
  }

  shape(i: number): number[] {
    return this.b.shape(this.input(i));
  }

  rank(i: number): number {
    return this.b.rank(this.input(i));
  }

  // ---- outputs --------------------------------------------------------------------------

  /** Define output `index` of this node. */
  set(index: number, v: TfValue): void {
    this.values.set(index === 0 ? this.name : `${this.name}:${index}`, v);
  }

  /** Define output 0 as a new constant. */
  setConst(value: ConstValue): void {
    this.set(0, this.b.constant(this.name, value));
  }
}
