/**
 * Every op of the EVM target against the reference executor, on small graphs built here with
 * the option combinations the fixtures do not reach: broadcasting Add/Mul, LeakyRelu, Clip, Sigmoid
 * and Tanh over their whole range and at input fracs below and above exp's Q26, Concat of different fracs, pools with padding, dilation,
 * ceil_mode and count_include_pad, grouped/strided/dilated/1-D/SAME-padded Conv, grouped
 * ConvTranspose with output_padding and a dilated one with unequal strides, Gemm with alpha/beta/transA, MatMul with a constant left operand or a batched
 * left input. Also what the contract refuses: an unsupported op at compile time (naming the
 * node), and at run time a wrong input length or a word that is not an int32.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeAbiParameters, encodeFunctionData } from "viem";
import { connectChain, type ChainConnection } from "../../chain/connect.js";
import { deployEvmModel } from "../../chain/evm-model.js";
import { compileEvm, INFER_SELECTOR } from "../../compiler/evm/index.js";
import { GraphBuilder } from "../../lib/graph/builder.js";
import { Rng } from "../helpers/random.js";
import { expectReferenceOnChain, randomInputs } from "./helpers.js";

const values = (seed: number, n: number, scale: number) => {
  const rng = new Rng(seed);
  return Array.from({ length: n }, () => rng.normal() * scale);
};

function elementwiseGraph() {
  const g = new GraphBuilder();
  const x = g.input("x", [1, 3, 4, 5]);
  const y = g.input("y", [1, 3, 1, 5], 12);
  const z = g.input("z", [1, 8], 28);
  g.output(
    g.op("Sigmoid", [y], {}, { name: "sigmoid_q12" })[0],
    g.op("Tanh", [z], {}, { name: "tanh_q28" })[0],
    g.op("Add", [x, y], {}, { name: "add" })[0],
    g.op("Mul", [x, g.constant("m", values(1, 5, 0.7), [5])], {}, { name: "mul" })[0],
    g.op("LeakyRelu", [x], { alpha: 6554 }, { name: "leaky" })[0],
    g.op("Clip", [x], { min: 0, max: 6 * 65536 }, { name: "relu6" })[0],
    g.op("Clip", [y], { max: -13107 }, { name: "clip_max" })[0],
    g.op("Sigmoid", [x], {}, { name: "sigmoid" })[0],
    g.op("Tanh", [x], {}, { name: "tanh" })[0],
    g.op("Concat", [x, y], { axis: 2 }, { name: "concat" })[0],
    g.op("GlobalAveragePool", [x], {}, { name: "gap" })[0],
    g.op("AveragePool", [x], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] }, { name: "avg" })[0],
    g.op("AveragePool", [x], { kernel_shape: [2, 3], strides: [2, 2], ceil_mode: 1, count_include_pad: 1, pads: [0, 1, 0, 1] }, { name: "avg_pad" })[0],
    g.op("MaxPool", [x], { kernel_shape: [2, 2], pads: [1, 1, 0, 0], dilations: [1, 2] }, { name: "max" })[0],
  );
  return g.build();
}

function macGraph() {
  const g = new GraphBuilder();
  const x = g.input("x", [1, 4, 7, 6]);
  const t = g.input("t", [1, 4, 3, 3]);
  const a = g.input("a", [3, 5]);
  const s = g.input("s", [1, 2, 9]);
  const b3 = g.input("b3", [2, 3, 5]);
  g.output(
    g.op("Conv", [x, g.constant("wc", values(2, 6 * 2 * 9, 0.3), [6, 2, 3, 3]), g.constant("bc", values(3, 6, 0.2), [6])],
      { group: 2, strides: [2, 1], pads: [1, 0, 2, 1], dilations: [1, 2] }, { name: "conv" })[0],
    g.op("ConvTranspose", [t, g.constant("wt", values(4, 4 * 2 * 9, 0.3), [4, 2, 3, 3]), g.constant("bt", values(5, 4, 0.2), [4])],
      { group: 2, strides: [2, 2], pads: [1, 1, 0, 0], output_padding: [1, 0] }, { name: "convt" })[0],
    g.op("ConvTranspose", [t, g.constant("wd", values(12, 4 * 3 * 4, 0.3), [4, 3, 2, 2])],
      { strides: [2, 3], dilations: [2, 1], pads: [0, 1, 1, 0] }, { name: "convt_dilated" })[0],
    g.op("Conv", [x, g.constant("ws", values(13, 2 * 4 * 6, 0.3), [2, 4, 2, 3])], { auto_pad: "SAME_UPPER", strides: [2, 2] }, { name: "conv_same" })[0],
    g.op("Gemm", [a, g.constant("wg", values(6, 20, 0.4), [4, 5]), g.constant("cg", values(7, 4, 0.5), [4])],
      { transB: 1, alpha: 32768, beta: 131072 }, { name: "gemm" })[0],
    g.op("Gemm", [g.op("Relu", [a], {}, { name: "relu_a" })[0], g.constant("wg2", values(8, 6, 0.4), [3, 2])], { transA: 1 }, { name: "gemm_ta" })[0],
    g.op("MatMul", [g.constant("wl", values(9, 6, 0.5), [2, 3]), a], {}, { name: "matmul_left" })[0],
    g.op("MatMul", [b3, g.constant("wr", values(10, 20, 0.5), [5, 4])], {}, { name: "matmul_batched" })[0],
    g.op("Conv", [s, g.constant("w1", values(11, 3 * 2 * 4, 0.4), [3, 2, 4])], { pads: [2, 1], strides: [2] }, { name: "conv1d" })[0],
  );
  return g.build();
}

describe("EVM target ops (embedded chain)", () => {
  let conn: ChainConnection;
  beforeAll(async () => { conn = await connectChain("local"); });
  afterAll(async () => { await conn.close(); });

  it("elementwise ops and pools match the reference bit for bit", async () => {
    const graph = elementwiseGraph();
    await expectReferenceOnChain(conn, graph, [randomInputs(graph, 1), randomInputs(graph, 2, 40)]);
  });

  it("MAC ops in every layout match the reference bit for bit", async () => {
    const graph = macGraph();
    await expectReferenceOnChain(conn, graph, [randomInputs(graph, 3), randomInputs(graph, 4, 20000)]);
  });

  it("MAC ops with their tap lists rolled into loops match the reference bit for bit", async () => {
    const graph = macGraph();
    const unrolled = compileEvm(graph).model.runtimeBytes;
    expect(compileEvm(graph, { loopTapsAbove: 4 }).model.runtimeBytes).toBeLessThan(unrolled);
    await expectReferenceOnChain(conn, graph, [randomInputs(graph, 5), randomInputs(graph, 6, 20000)], { loopTapsAbove: 4 });
  });

  it("refuses an unsupported op in one line naming the node", () => {
    const g = new GraphBuilder();
    g.output(g.op("Softmax", [g.input("x", [1, 4])], {}, { name: "probs" })[0]);
    expect(() => compileEvm(g.build())).toThrow(/^node 'probs' \(Softmax\): op Softmax is not supported by the EVM target/);
  });

  it("reverts on a wrong input length and on a word outside int32", async () => {
    const g = new GraphBuilder();
    g.output(g.op("Relu", [g.input("x", [2])], {}, { name: "r" })[0]);
    const model = await deployEvmModel(conn, compileEvm(g.build()));
    const abi = model.abi;
    const call = (data: `0x${string}`) => conn.publicClient.call({ to: model.address, data });
    expect((await call(encodeFunctionData({ abi, functionName: "infer", args: [[5, -7]] }))).data).toBeDefined();
    await expect(call(encodeFunctionData({ abi, functionName: "infer", args: [[5, -7, 1]] }))).rejects.toThrow();
    const selector = INFER_SELECTOR.toString(16).padStart(8, "0");
    const wide = encodeAbiParameters([{ type: "int256[]" }], [[5n, 1n << 31n]]).slice(2);
    await expect(call(`0x${selector}${wide}`)).rejects.toThrow();
  });
});
