/**
 * Small graphs built with the GraphBuilder for tests: an MLP and a CNN with seeded random
 * weights, returned with the float weights so tests can compute the float answer themselves.
 */
import { GraphBuilder } from "../../lib/graph/builder.js";
import type { Graph } from "../../lib/graph/ir.js";
import { Rng } from "./random.js";

const randn = (rng: Rng, n: number, scale: number) => Array.from({ length: n }, () => rng.normal() * scale);

export interface MlpModel {
  graph: Graph;
  w1: number[]; b1: number[]; w2: number[]; b2: number[];
  sizes: [number, number, number];
}

/** x[1,inp] -> MatMul w1 + b1 -> Relu -> MatMul w2 + b2 -> y[1,out]. */
export function buildMlp(seed: number, sizes: [number, number, number] = [16, 32, 10]): MlpModel {
  const rng = new Rng(seed);
  const [inp, hid, out] = sizes;
  const w1 = randn(rng, inp * hid, 1 / Math.sqrt(inp));
  const b1 = randn(rng, hid, 0.1);
  const w2 = randn(rng, hid * out, 1 / Math.sqrt(hid));
  const b2 = randn(rng, out, 0.1);
  const g = new GraphBuilder();
  const x = g.input("x", [1, inp]);
  const h = g.op("Add", [g.op("MatMul", [x, g.constant("w1", w1, [inp, hid])])[0], g.constant("b1", b1, [hid])], {}, { name: "fc1" })[0];
  const r = g.op("Relu", [h], {}, { name: "relu1" })[0];
  const y = g.op("Add", [g.op("MatMul", [r, g.constant("w2", w2, [hid, out])])[0], g.constant("b2", b2, [out])], {}, { name: "fc2", outputs: ["y"] })[0];
  g.output(y);
  return { graph: g.build(), w1, b1, w2, b2, sizes };
}

export interface CnnModel {
  graph: Graph;
  wc: number[]; bc: number[]; wf: number[]; bf: number[];
}

/** x[1,1,8,8] -> Conv 4x(3x3, pad 1) -> Relu -> MaxPool 2 -> Flatten -> Gemm(64->5). */
export function buildCnn(seed: number): CnnModel {
  const rng = new Rng(seed);
  const wc = randn(rng, 4 * 9, 0.4);
  const bc = randn(rng, 4, 0.1);
  const wf = randn(rng, 64 * 5, 0.15);
  const bf = randn(rng, 5, 0.1);
  const g = new GraphBuilder();
  const x = g.input("x", [1, 1, 8, 8]);
  const c = g.op("Conv", [x, g.constant("wc", wc, [4, 1, 3, 3]), g.constant("bc", bc, [4])], { pads: [1, 1, 1, 1] }, { name: "conv" })[0];
  const p = g.op("MaxPool", [g.op("Relu", [c])[0]], { kernel_shape: [2, 2], strides: [2, 2] }, { name: "pool" })[0];
  const f = g.op("Flatten", [p], { axis: 1 })[0];
  const y = g.op("Gemm", [f, g.constant("wf", wf, [64, 5]), g.constant("bf", bf, [5])], {}, { name: "fc", outputs: ["y"] })[0];
  g.output(y);
  return { graph: g.build(), wc, bc, wf, bf };
}

/**
 * x[1,8] -> MatMul+Relu -> Gather(axis 1, idx[2], node "pick") -> Add -> y[1,2]: a model with an
 * integer input (idx, frac 0) whose out-of-range values make the Gather op trap.
 */
export function buildPickModel(seed = 5): Graph {
  const rng = new Rng(seed);
  const g = new GraphBuilder();
  const x = g.input("x", [1, 8]);
  const idx = g.input("idx", [2], 0);
  const h = g.op("Relu", [g.op("MatMul", [x, g.constant("w", Array.from({ length: 64 }, () => rng.normal() * 0.3), [8, 8])])[0]])[0];
  const picked = g.op("Gather", [h, idx], { axis: 1 }, { name: "pick" })[0];
  g.output(g.op("Add", [picked, g.constant("b", [0.5, -0.5], [2])], {}, { outputs: ["y"] })[0]);
  return g.build();
}
