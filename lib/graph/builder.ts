/**
 * GraphBuilder: the TS API for writing detml graphs by hand (tests, examples, converters).
 * Values are referred to by name; `op()` returns the names of a node's outputs. `build()`
 * resolves attribute defaults, validates and infers every shape, so a built Graph is always valid.
 *
 *   const g = new GraphBuilder();
 *   const x = g.input("x", [1, 4]);
 *   const w = g.constant("w", [0.5, -1, 2, 0.25, 1, 1, 0, 3], [4, 2]);
 *   g.output(g.op("Relu", [g.op("MatMul", [x, w])[0]])[0]);
 *   const graph = g.build();
 */
import { opDef, resolveAttrs, type AttrValue, type TensorType } from "../ops/index.js";
import { chooseFrac, DEFAULT_FRAC } from "../tensor/fixed.js";
import type { Shape } from "../tensor/shape.js";
import { Tensor } from "../tensor/tensor.js";
import type { Graph, Node, ValueInfo } from "./ir.js";
import { checkArity, GraphError, inferTypes } from "./validate.js";

export class GraphBuilder {
  private readonly frac: number;
  private readonly inputs: ValueInfo[] = [];
  private readonly outputs: string[] = [];
  private readonly constants = new Map<string, Tensor>();
  private readonly nodes: Node[] = [];
  private readonly metadata: Record<string, string> = {};
  private readonly types = new Map<string, TensorType>();
  private counter = 0;

  constructor(options: { frac?: number } = {}) {
    this.frac = options.frac ?? DEFAULT_FRAC;
  }

  /** Declare a graph input. Real-valued inputs use the graph frac; pass frac 0 for integer inputs. */
  input(name: string, shape: Shape, frac = this.frac): string {
    this.inputs.push({ name, shape: [...shape], frac });
    this.types.set(name, { shape: [...shape], frac });
    return name;
  }

  /** Add a constant from a Tensor, or from real values quantized at `frac` (default: chooseFrac). */
  constant(name: string, value: Tensor | ArrayLike<number>, shape?: Shape, frac?: number): string {
    const t = value instanceof Tensor ? value : Tensor.fromFloat(value, shape ?? [value.length], frac ?? chooseFrac(value));
    this.constants.set(name, t);
    this.types.set(name, { shape: [...t.shape], frac: t.frac });
    return name;
  }

  /**
   * Add a node; returns its output names (generated from the node name unless given). Its output
   * types are inferred at once, so a bad node fails here with an error naming it.
   */
  op(kind: string, inputs: string[], attrs: Record<string, AttrValue> = {}, opts: { name?: string; outputs?: string[] } = {}): string[] {
    const def = opDef(kind);
    const name = opts.name ?? `${kind.toLowerCase()}_${this.counter++}`;
    const resolved = resolveAttrs(def, attrs);
    const count = def.outputs(resolved);
    const outputs = opts.outputs ?? Array.from({ length: count }, (_, i) => (count === 1 ? name : `${name}:${i}`));
    checkArity(def, { name, op: kind, inputs, outputs, attrs: resolved });
    const inTypes = inputs.map((v) => (v === "" ? undefined : this.typeOf(v))) as TensorType[];
    let outTypes: TensorType[];
    try {
      outTypes = def.infer(inTypes, resolved, { frac: this.frac });
    } catch (e) {
      throw new GraphError(`node '${name}' (${kind}): ${(e as Error).message}`);
    }
    outputs.forEach((o, i) => this.types.set(o, outTypes[i]));
    this.nodes.push({ name, op: kind, inputs: [...inputs], outputs, attrs: resolved });
    return outputs;
  }

  output(...names: string[]): void {
    this.outputs.push(...names);
  }

  meta(key: string, value: string): void {
    this.metadata[key] = value;
  }

  /** Static type of a value defined so far; handy for converters. */
  typeOf(name: string): TensorType {
    const t = this.types.get(name);
    if (!t) throw new GraphError(`value '${name}' is not defined yet`);
    return t;
  }

  has(name: string): boolean {
    return this.types.has(name);
  }

  build(): Graph {
    const graph = this.snapshot();
    inferTypes(graph);
    return graph;
  }

  private snapshot(): Graph {
    return {
      frac: this.frac,
      inputs: this.inputs.map((v) => ({ ...v, shape: [...v.shape] })),
      outputs: [...this.outputs],
      constants: new Map(this.constants),
      nodes: this.nodes.map((n) => ({ ...n, inputs: [...n.inputs], outputs: [...n.outputs] })),
      metadata: { ...this.metadata },
    };
  }
}
