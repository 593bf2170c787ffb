/**
 * The graph-model front end: a TF.js graph model's GraphDef (what tensorflowjs_converter writes
 * from a SavedModel or frozen graph) to draft IR. It lists every unsupported op in one error
 * (control flow — loops, conditionals, TensorList/TensorArray, function calls — called out as
 * such), orders the nodes topologically (GraphDef lists need not be), declares the Placeholders as
 * inputs, takes each Const's value from the weights (or from its inline tensor), translates the
 * other nodes through TF_OPS and returns the outputs: the signature's, else the nodes nothing reads.
 */
import type { DraftBuilder } from "../common/draft.js";
import type { SizeGuard } from "../common/size-guard.js";
import { constValue, type ConstValue } from "../common/values.js";
import { dimsOf, tensorRef, TfNodeCtx, valueClassOfDtype, type NodeJson, type TensorJson } from "./graph-context.js";
import { isSupportedTfOp, TF_OPS } from "./graph-ops.js";
import type { TfBuilder, TfValue } from "./layout.js";
import { resolveInputShape } from "./shapes.js";
import type { Weight } from "./weights.js";

/** Ops the walker itself handles. */
const SOURCE_OPS = new Set(["Const", "Placeholder", "PlaceholderWithDefault", "NoOp"]);

/** Control flow and dynamic containers: detml graphs are static dataflow graphs. */
const CONTROL_FLOW = /^(Enter|Exit|Merge|Switch|NextIteration|LoopCond|While|StatelessWhile|If|StatelessIf|Case|StatelessCase|PartitionedCall|StatefulPartitionedCall|TensorList.*|TensorArray.*)$/;

export interface GraphWalk {
  inputs: { name: string; value: TfValue }[];
  outputs: { name: string; value: TfValue }[];
  nodesIn: number;
}

/** Throw one error listing every node whose op has no handler (call before reading weights). */
export function checkGraphOps(nodes: NodeJson[]): void {
  nodes.forEach((n, i) => {
    if (typeof n?.name !== "string" || typeof n.op !== "string") throw new Error(`node ${i} has no name or op`);
  });
  const missing = new Map<string, string[]>();
  for (const node of nodes) {
    if (SOURCE_OPS.has(node.op) || isSupportedTfOp(node.op)) continue;
    missing.set(node.op, [...(missing.get(node.op) ?? []), node.name]);
  }
  if (missing.size === 0) return;
  const describe = ([op, names]: [string, string[]]) => {
    const shown = names.slice(0, 4).map((n) => `'${n}'`).join(", ") + (names.length > 4 ? ` and ${names.length - 4} more` : "");
    return `${op}${CONTROL_FLOW.test(op) ? " [control flow]" : ""} (node${names.length > 1 ? "s" : ""} ${shown})`;
  };
  const control = [...missing.keys()].some((op) => CONTROL_FLOW.test(op));
  const note = control ? ". Control flow (loops, conditionals, TensorList/TensorArray, function calls) cannot be converted: detml graphs are static dataflow graphs; export the model without it (e.g. unroll loops, fix sequence lengths)" : "";
  throw new Error(`unsupported TensorFlow ops: ${[...missing].map(describe).join(", ")}${note}`);
}

/** Nodes in an order where every node comes after the nodes it reads (iterative DFS). */
function topologicalOrder(nodes: NodeJson[]): NodeJson[] {
  const byName = new Map(nodes.map((n) => [n.name, n]));
  const state = new Map<string, 1 | 2>();
  const order: NodeJson[] = [];
  for (const root of nodes) {
    if (state.has(root.name)) continue;
    const stack: [NodeJson, number][] = [[root, 0]];
    state.set(root.name, 1);
    while (stack.length) {
      const top = stack[stack.length - 1];
      const inputs = top[0].input ?? [];
      if (top[1] < inputs.length) {
        const dep = byName.get(tensorRef(inputs[top[1]++].replace(/^\^/, "")).node);
        if (!dep) continue;
        const s = state.get(dep.name);
        if (s === 1) throw new Error(`the graph has a cycle through node '${dep.name}' (loops are control flow, which detml cannot convert)`);
        if (s === undefined) {
          state.set(dep.name, 1);
          stack.push([dep, 0]);
        }
      } else {
        state.set(top[0].name, 2);
        order.push(top[0]);
        stack.pop();
      }
    }
  }
  return order;
}

/**
 * The value of a Const node stored inline in its `value` attribute (small constants). Its shape
 * is the model's word, not backed by bytes (a one-value list fills any shape), so the guard
 * sizes it first, as it would a fold.
 */
function inlineTensor(t: TensorJson | undefined, name: string, guard: SizeGuard): ConstValue {
  const dtype = valueClassOfDtype(t?.dtype);
  if (!t || !dtype) throw new Error(`Const '${name}' is not in the weights and has no inline ${t?.dtype ?? ""} value detml can read`);
  const shape = dimsOf(t.tensorShape);
  const values = guard.alloc(shape, `the inline value of Const '${name}'`);
  if (t.tensorContent) {
    const bytes = Buffer.from(t.tensorContent, "base64");
    const width = t.dtype === "DT_FLOAT" || t.dtype === "DT_INT32" ? 4 : t.dtype === "DT_BOOL" ? 1 : 0;
    if (!width) throw new Error(`Const '${name}': inline ${t.dtype} tensorContent is not supported`);
    if (bytes.byteLength !== width * values.length) throw new Error(`Const '${name}': inline tensorContent has ${bytes.byteLength} bytes, shape [${shape.join(",")}] of ${t.dtype} needs ${width * values.length}`);
    for (let i = 0; i < values.length; i++) values[i] = t.dtype === "DT_FLOAT" ? bytes.readFloatLE(4 * i) : t.dtype === "DT_INT32" ? bytes.readInt32LE(4 * i) : bytes[i];
  } else {
    const list = (t.floatVal ?? t.intVal ?? t.int64Val ?? t.boolVal ?? []).map(Number);
    // TF's rule: a shorter list repeats its last value (a scalar fill).
    for (let i = 0; i < values.length; i++) values[i] = list[Math.min(i, list.length - 1)] ?? 0;
  }
  return constValue(dtype, shape, values);
}

interface SignatureEntry {
  name?: string;
  dtype?: string;
  tensorShape?: { dim?: { size?: string | number }[] };
}

/** A graph input as the model declares it: dims with -1 for unknown (undefined: unknown rank). */
export interface InputSpec {
  name: string;
  dims?: number[];
  /** TF DataType, e.g. "DT_FLOAT". */
  dtype?: string;
}

/** The Placeholders, in the signature's order when there is one, with their declared shapes. */
export function graphInputs(topology: Record<string, unknown>, signature: Record<string, unknown> | undefined): InputSpec[] {
  const nodes = topology.node as NodeJson[];
  const signatureInputs = Object.values((signature?.inputs ?? {}) as Record<string, SignatureEntry>);
  const placeholders = nodes.filter((n) => n.op === "Placeholder");
  const byName = new Map(placeholders.map((p) => [p.name, p]));
  const ordered = signatureInputs.map((s) => tensorRef(s.name ?? "").node).filter((n) => byName.has(n));
  const inputNodes = [...ordered.map((n) => byName.get(n)!), ...placeholders.filter((p) => !ordered.includes(p.name))];
  return inputNodes.map((p) => {
    const fromSignature = signatureInputs.find((s) => tensorRef(s.name ?? "").node === p.name);
    const shapeAttr = p.attr?.shape?.shape;
    const dims = shapeAttr && !shapeAttr.unknownRank ? dimsOf(shapeAttr) : fromSignature?.tensorShape ? dimsOf(fromSignature.tensorShape) : undefined;
    return { name: p.name, dims, dtype: p.attr?.dtype?.type ?? fromSignature?.dtype };
  });
}

/** Output tensor refs: the signature's, else every node that nothing reads (as TF.js does). */
export function graphOutputs(topology: Record<string, unknown>, signature: Record<string, unknown> | undefined): string[] {
  const nodes = topology.node as NodeJson[];
  const signatureOutputs = Object.values((signature?.outputs ?? {}) as Record<string, SignatureEntry>);
  if (signatureOutputs.length) return signatureOutputs.map((s) => tensorRef(s.name ?? "").ref);
  const read = new Set(nodes.flatMap((n) => (n.input ?? []).map((x) => tensorRef(x.replace(/^\^/, "")).node)));
  return nodes.filter((n) => !read.has(n.name) && !SOURCE_OPS.has(n.op)).map((n) => n.name);
}

export interface GraphModelOptions {
  shapes: Record<string, number[]>;
  signature?: Record<string, unknown>;
  onProgress?: (done: number, total: number) => void;
}

export function readGraphModel(b: TfBuilder, db: DraftBuilder, topology: Record<string, unknown>, weights: Map<string, Weight>, options: GraphModelOptions): GraphWalk {
  const nodes = topology.node as NodeJson[];
  checkGraphOps(nodes);
  db.reserve(nodes.map((n) => n.name));
  const values = new Map<string, TfValue>();

  const specs = graphInputs(topology, options.signature);
  for (const name of Object.keys(options.shapes)) {
    if (!specs.some((p) => p.name === name)) throw new Error(`--shape ${name}: the model has no input '${name}' (inputs: ${specs.map((p) => p.name).join(", ")})`);
  }
  const inputs = specs.map((p) => {
    if (!p.dims && !options.shapes[p.name]) throw new Error(`input '${p.name}' has no shape in the model: pass --shape ${p.name}=D0,D1,...`);
    const cls = valueClassOfDtype(p.dtype);
    if (!cls) throw new Error(`input '${p.name}' has type ${p.dtype}, which detml does not support`);
    const shape = resolveInputShape(p.name, p.dims ?? options.shapes[p.name].map(() => -1), options.shapes[p.name]);
    const value = b.value(db.input(p.name, shape, cls));
    values.set(p.name, value);
    return { name: p.name, value };
  });

  const order = topologicalOrder(nodes);
  order.forEach((node, i) => {
    try {
      if (node.op === "Placeholder" || node.op === "NoOp") return;
      const ctx = new TfNodeCtx(node, b, values);
      if (node.op === "Const") {
        const w = weights.get(node.name);
        if (w && "unsupported" in w) throw new Error(`weight '${node.name}' cannot be used: ${w.unsupported}`);
        ctx.setConst(w ? w.value : inlineTensor(node.attr?.value?.tensor, node.name, db.guard));
      } else if (node.op === "PlaceholderWithDefault") {
        ctx.set(0, ctx.input(0));
      } else {
        TF_OPS[node.op](ctx);
      }
    } catch (e) {
      throw new Error(`node '${node.name}' (${node.op}): ${(e as Error).message}`);
    }
    options.onProgress?.(i + 1, order.length);
  });

  const outputRefs = graphOutputs(topology, options.signature);
  if (outputRefs.length === 0) throw new Error("the graph has no outputs (every node is read by another)");
  const outputs = outputRefs.map((ref) => {
    const value = values.get(ref);
    if (!value) throw new Error(`graph output '${ref}' is not computed by any node`);
    return { name: ref, value };
  });
  return { inputs, outputs, nodesIn: nodes.length };
}

