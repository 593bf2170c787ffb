/**
 * The detml IR: a graph of fixed-point ops with static shapes. Values are named strings; a value
 * is a graph input, a constant (weights, held as Tensors) or the output of exactly one node.
 * Nodes are stored in topological order. Attributes are already resolved (every default filled),
 * which is what makes the .detml encoding canonical. An absent optional input is "".
 */
import type { Attrs, OpContext } from "../ops/op.js";
import type { Tensor } from "../tensor/tensor.js";

/** A graph input: its name, static shape and frac (frac 0 means an integer input such as token ids). */
export interface ValueInfo {
  name: string;
  shape: number[];
  frac: number;
}

export interface Node {
  name: string;
  op: string;
  inputs: string[];
  outputs: string[];
  attrs: Attrs;
  /**
   * The frac at which this node writes newly computed values (its OpContext.frac), when it is not
   * the graph's: calibration gives each node the format of its own outputs' range
   * (converter/common/calibrate.ts). Ops that move values (views, MaxPool, Relu...) keep their
   * input's frac whatever this says.
   */
  frac?: number;
}

export interface Graph {
  /** Fractional bits at which ops write newly computed activations (DEFAULT_FRAC unless chosen), where a node does not set its own. */
  frac: number;
  inputs: ValueInfo[];
  /** Names of the values the graph returns, in order. */
  outputs: string[];
  constants: Map<string, Tensor>;
  nodes: Node[];
  /** Free-form provenance (producer, source file, converter options). Part of the model id. */
  metadata: Record<string, string>;
}

/** What a node's kernel may know besides its inputs: its own frac, else the graph's. */
export function nodeContext(graph: Pick<Graph, "frac">, node: Pick<Node, "frac">): OpContext {
  return { frac: node.frac ?? graph.frac };
}

/**
 * The channel axis of a weight position (docs/numerics.md, "Narrow weights"): the axis of input
 * `input` of `node`, a tensor of rank `rank`, whose index selects one output channel of the op,
 * so that a per-channel shift applies after that channel's exact sum (or to a gathered row).
 * Conv W: axis 0; ConvTranspose W: axis 1; MatMul B: the last (output column); Gemm B: the
 * output column (0 with transB); Gather data: the gathered axis. Undefined elsewhere: such a
 * constant cannot be stored narrow.
 */
export function weightChannelAxis(node: Pick<Node, "op" | "attrs">, input: number, rank: number): number | undefined {
  const attr = (name: string) => Number(node.attrs[name] ?? 0);
  switch (`${node.op}:${input}`) {
    case "Conv:1": return rank >= 3 ? 0 : undefined;
    case "ConvTranspose:1": return rank >= 3 ? 1 : undefined;
    case "MatMul:1": return rank >= 2 ? rank - 1 : undefined;
    case "Gemm:1": return rank === 2 ? (attr("transB") ? 0 : 1) : undefined;
    case "Gather:0": {
      const axis = attr("axis");
      return rank >= 1 && axis >= -rank && axis < rank ? (axis + rank) % rank : undefined;
    }
    default: return undefined;
  }
}
