/**
 * From a validated graph to the list of segments the module runs. Three rewrites, each exact:
 * constant folding (a node whose inputs are all constants is evaluated at compile time by its
 * reference kernel, so its output IS the reference value), dead-node removal (nodes no graph
 * output depends on), and fusion of a Relu or Clip into the op that feeds it when it is that
 * op's only reader (applied to each narrowed i32 before the store, exactly what the two kernels
 * compute in sequence). Views (Reshape and friends) get no segment of their own: they are
 * listed with the next segment.
 */
import { type Graph, type Node, nodeContext } from "../lib/graph/ir.js";
import { ATTR_FRAC, opDef, resolveAttrs, VIEW_KINDS, type Attrs, type TensorType } from "../lib/ops/index.js";
import type { ClipAttrs } from "../lib/ops/unary-arith.js";
import { I32_MAX, I32_MIN } from "../lib/tensor/fixed.js";
import type { Tensor } from "../lib/tensor/tensor.js";
import { COMPILER_UNSUPPORTED, emitterFor, hasEmitter } from "./emit/index.js";
import { rescaleConst } from "./emit/numerics.js";
import type { FusedActivation } from "./emit/types.js";

export interface Segment {
  /** The node whose emitter writes this segment's code. */
  node: Node;
  attrs: Attrs;
  /** A Relu or Clip fused into the node's output; its output replaces the node's. */
  activation?: { fused: FusedActivation; node: Node };
  /** Every IR node this segment covers, in graph order (code node, fused activation, views). */
  covers: Node[];
}

export interface Schedule {
  constants: Map<string, Tensor>;
  types: Map<string, TensorType>;
  segments: Segment[];
  /** View nodes: output value -> input value. */
  views: Map<string, string>;
  /** Graph nodes evaluated at compile time. */
  folded: number;
}

/** Outputs a segment writes: the fused activation's in place of the node's. */
export function segmentOutputs(s: Segment): string[] {
  return s.activation ? s.activation.node.outputs : s.node.outputs;
}

export function schedule(graph: Graph, types: Map<string, TensorType>): Schedule {
  const constants = new Map(graph.constants);
  const live = liveNodes(graph);
  const remaining: Node[] = [];
  let folded = 0;
  for (const node of graph.nodes) {
    if (!live.has(node)) continue;
    if (node.inputs.every((v) => v === "" || constants.has(v))) {
      const def = opDef(node.op);
      const args = node.inputs.map((v) => (v === "" ? undefined : constants.get(v))) as Tensor[];
      const results = def.run(args, resolveAttrs(def, node.attrs), nodeContext(graph, node));
      node.outputs.forEach((name, i) => constants.set(name, results[i]));
      folded++;
    } else {
      remaining.push(node);
    }
  }
  const unsupported = remaining.filter((n) => !VIEW_KINDS.has(n.op) && !hasEmitter(n.op));
  if (unsupported.length > 0) {
    const kinds = [...new Set(unsupported.map((n) => n.op))].sort();
    const why = kinds.filter((k) => Object.hasOwn(COMPILER_UNSUPPORTED, k)).map((k) => `; ${k}: ${COMPILER_UNSUPPORTED[k]}`).join("");
    throw new Error(`the compiler does not support op kind(s) ${kinds.join(", ")} yet (nodes: ${unsupported.map((n) => n.name).join(", ")})${why}`);
  }
  return { constants, types, segments: formSegments(graph, remaining, types), views: viewMap(remaining), folded };
}

/** Nodes some graph output depends on. */
function liveNodes(graph: Graph): Set<Node> {
  const producer = new Map<string, Node>();
  for (const n of graph.nodes) for (const o of n.outputs) producer.set(o, n);
  const live = new Set<Node>();
  const stack = [...graph.outputs];
  while (stack.length > 0) {
    const n = producer.get(stack.pop()!);
    if (!n || live.has(n)) continue;
    live.add(n);
    stack.push(...n.inputs.filter((v) => v !== ""));
  }
  return live;
}

function viewMap(nodes: Node[]): Map<string, string> {
  return new Map(nodes.filter((n) => VIEW_KINDS.has(n.op)).map((n) => [n.outputs[0], n.inputs[0]]));
}

/** The Relu or Clip `node` as an activation on an i32 at `frac` (Clip's bounds rescaled as its kernel does). */
function asActivation(node: Node | undefined, frac: number): FusedActivation | undefined {
  if (node?.op === "Relu") return { kind: "Relu" };
  if (node?.op !== "Clip") return undefined;
  const { min, max } = resolveAttrs(opDef("Clip"), node.attrs) as ClipAttrs;
  const bound = (v: number) => (v === I32_MIN || v === I32_MAX ? v : rescaleConst(v, ATTR_FRAC, frac));
  return { kind: "Clip", min: bound(min), max: bound(max) };
}

function formSegments(graph: Graph, nodes: Node[], types: Map<string, TensorType>): Segment[] {
  const uses = new Map<string, number>();
  for (const n of nodes) for (const v of n.inputs) uses.set(v, (uses.get(v) ?? 0) + 1);
  for (const v of graph.outputs) uses.set(v, (uses.get(v) ?? 0) + 1);
  const segments: Segment[] = [];
  const pendingViews: Node[] = [];
  const fusedInto = new Set<Node>();
  for (let i = 0; i < nodes.length; i++) {
    const node = nodes[i];
    if (fusedInto.has(node)) continue;
    if (VIEW_KINDS.has(node.op)) {
      pendingViews.push(node);
      continue;
    }
    const segment: Segment = { node, attrs: resolveAttrs(opDef(node.op), node.attrs), covers: [...pendingViews, node] };
    pendingViews.length = 0;
    const next = nodes.slice(i + 1).find((n) => n.inputs.includes(node.outputs[0]));
    const fused = asActivation(next, types.get(node.outputs[0])!.frac);
    if (emitterFor(node.op).fusesActivation && fused && node.outputs.length === 1 && uses.get(node.outputs[0]) === 1) {
      segment.activation = { fused, node: next! };
      segment.covers.push(next!);
      fusedInto.add(next!);
    }
    segments.push(segment);
  }
  if (pendingViews.length > 0 && segments.length > 0) segments[segments.length - 1].covers.push(...pendingViews);
  return segments;
}
