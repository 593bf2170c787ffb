/**
 * The detml IR: a graph of fixed-point ops with static shapes. Values are named strings; a value
 * is a graph input, a constant (weights, held as Tensors) or the output of exactly one node.
 * Nodes are stored in topological order. Attributes are already resolved (every default filled),
 * which is what makes the .detml encoding canonical. An absent optional input is "".
 */
import type { Attrs } from "../ops/op.js";
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
}

export interface Graph {
  /** Fractional bits at which ops write newly computed activations (DEFAULT_FRAC unless chosen). */
  frac: number;
  inputs: ValueInfo[];
  /** Names of the values the graph returns, in order. */
  outputs: string[];
  constants: Map<string, Tensor>;
  nodes: Node[];
  /** Free-form provenance (producer, source file, converter options). Part of the model id. */
  metadata: Record<string, string>;
}
