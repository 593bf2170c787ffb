/**
 * `convert --weight-bits 8|16` (docs/numerics.md, "Narrow weights"): every constant that is read
 * only in weight positions (Conv/ConvTranspose W, MatMul/Gemm B, Gather data: lib/graph/ir.ts
 * `weightChannelAxis`), all with the same channel axis, is rounded per channel to q << s_c with q
 * of that many bits (lib/tensor/narrow.ts `narrowChannels`) and gets the storage descriptor. The
 * graph stays an ordinary i32 graph: the reference kernels compute on the rounded values as on any
 * weights, and the codec, the weights image and the compiled code may store them narrow. Other
 * constants (biases, graph outputs, constants read elsewhere or along two axes) stay as they are.
 */
import { type Graph, weightChannelAxis } from "../../lib/graph/ir.js";
import { NARROW_BITS, type NarrowBits, narrowChannels } from "../../lib/tensor/narrow.js";
import { Tensor } from "../../lib/tensor/tensor.js";

/** What a graph's narrow storage amounts to (for convert's report and inspect). */
export interface NarrowSummary {
  /** Widths in use, e.g. [8]. */
  bits: NarrowBits[];
  /** Constants stored narrow, and their element count. */
  constants: number;
  params: number;
  /** Bytes of every constant's values at 4 per element, and as stored (narrow q, plus a byte per shift). */
  i32Bytes: number;
  storedBytes: number;
}

/** Check a --weight-bits value: 8, 16 or 32 (32 = unchanged i32 weights). */
export function parseWeightBits(value: unknown): NarrowBits | undefined {
  if (value === undefined || value === 32) return undefined;
  if (!NARROW_BITS.includes(value as NarrowBits)) throw new Error(`--weight-bits ${value}: expected 8, 16 or 32`);
  return value as NarrowBits;
}

/** The channel axis every reader of each constant agrees on, for constants read only in weight positions. */
function weightAxes(graph: Graph): Map<string, number> {
  const axes = new Map<string, number | null>();
  for (const name of graph.outputs) axes.set(name, null);
  for (const node of graph.nodes) {
    node.inputs.forEach((name, i) => {
      const t = graph.constants.get(name);
      if (!t) return;
      const axis = weightChannelAxis(node, i, t.rank);
      const seen = axes.get(name);
      axes.set(name, axis === undefined || (seen !== undefined && seen !== axis) ? null : axis);
    });
  }
  return new Map([...axes].filter((e): e is [string, number] => e[1] !== null && graph.constants.has(e[0])));
}

/** A copy of `graph` with its weight constants rounded to `bits`-bit storage (metadata `weight_bits`). */
export function narrowWeights(graph: Graph, bits: NarrowBits): Graph {
  const constants = new Map(graph.constants);
  for (const [name, axis] of weightAxes(graph)) {
    const t = graph.constants.get(name)!;
    if (t.size === 0) continue;
    const { data, storage } = narrowChannels(t.shape, t.data, bits, axis);
    constants.set(name, new Tensor(t.shape, data, t.frac, storage));
  }
  return { ...graph, constants, metadata: { ...graph.metadata, weight_bits: String(bits) } };
}

/** The narrow storage of a graph's constants. */
export function narrowSummary(graph: Graph): NarrowSummary {
  const summary: NarrowSummary = { bits: [], constants: 0, params: 0, i32Bytes: 0, storedBytes: 0 };
  for (const t of graph.constants.values()) {
    summary.i32Bytes += 4 * t.size;
    summary.storedBytes += t.storage ? (t.storage.bits / 8) * t.size + t.storage.shifts.length : 4 * t.size;
    if (!t.storage) continue;
    summary.constants++;
    summary.params += t.size;
    if (!summary.bits.includes(t.storage.bits)) summary.bits.push(t.storage.bits);
  }
  return summary;
}
