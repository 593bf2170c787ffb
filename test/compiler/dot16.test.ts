/**
 * The FAST build's 16-bit dot kernels (compiler/emit/dot16.ts, dot16-columns.ts) for 8-bit
 * narrow weights: MatMul (batched, odd depth), Gemm (transA, transB both ways, bias, alpha), Conv
 * (1x1, 3x3 padded with stride 2, bias and a fused Relu, grouped with an odd channel count per
 * group, dilated with one shift common to every channel, 1-D; depthwise and two channels per
 * group with column stride 2 on the column kernel) and an unstepped ConvTranspose give the
 * reference's outputs bit for bit in the canonical and the fast build, and the fast build the
 * canonical memory at every op boundary: with activations that fit 16 bits (the run counter at
 * the start of the scratch memory shows every dot kernel ran), with values out of range, checked
 * eight at a time or one by one (those ops fall back to the existing kernels, same bits), and
 * with reductions of 576 to 2400 extreme products (x = -32768, q = -128), whose i32 sums would
 * overflow without the widening (after every kernel row, tap, or MAX_I32_DOTS pairs). 16-bit
 * weights, activations at a frac above MAX_DOT_FRAC and depthwise convolutions with column stride
 * 1 keep the existing kernels.
 */
import { describe, expect, it } from "vitest";
import { compile } from "../../compiler/compile.js";
import { MAX_DOT_FRAC, MAX_I32_DOTS } from "../../compiler/emit/dot16.js";
import { narrowWeights } from "../../converter/common/narrow-weights.js";
import { GraphBuilder } from "../../lib/graph/builder.js";
import type { Graph } from "../../lib/graph/ir.js";
import { Tensor } from "../../lib/tensor/tensor.js";
import { loadWasm, WasmRunner } from "../../runtime-wasm/index.js";
import { HOST_MODULE, READ_INPUT, WRITE_OUTPUT } from "../../vm/spec/io.js";
import { Rng } from "../helpers/random.js";
import { expectWasmMatchesReference } from "./helpers.js";

function randomTensor(rng: Rng, shape: number[], frac: number, range: number): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return new Tensor(shape, Int32Array.from({ length: n }, () => Math.round((rng.next() * 2 - 1) * range)), frac);
}

/** How many times the fast module's ops took the dot path in one run on `inputs` (the scratch memory's first word). */
function dotRuns(graph: Graph, inputs: Record<string, Tensor>): number {
  const { wasm } = compile(graph, { build: "fast" });
  const noop = () => undefined;
  const exports = new WebAssembly.Instance(new WebAssembly.Module(wasm as Uint8Array<ArrayBuffer>),
    { [HOST_MODULE]: { [READ_INPUT]: noop, [WRITE_OUTPUT]: noop } }).exports;
  if (!exports.scratch) return 0;
  const scratch = (exports.scratch as WebAssembly.Global).value as number;
  const runner = new WasmRunner(loadWasm(wasm));
  runner.run(inputs);
  return new DataView(runner.memory.buffer).getInt32(scratch, true);
}

/** Inputs of opsGraph at `frac`, every value in [-32767, 32767]. */
const fittingInputs = (rng: Rng, frac = 8) => ({
  a: randomTensor(rng, [2, 3, 5], frac, 32767), h: randomTensor(rng, [4, 9], frac, 32767), x: randomTensor(rng, [1, 6, 7, 9], frac, 32767),
  ht: randomTensor(rng, [9, 4], frac, 32767), line: randomTensor(rng, [2, 4, 11], frac, 32767),
});

/** Every kind of op the dot kernels take, at graph frac `frac`, with `bits`-bit weights; returns the graph and the number of dot ops. */
function opsGraph(rng: Rng, frac = 8, bits: 8 | 16 = 8): { graph: Graph; dotOps: number } {
  const g = new GraphBuilder({ frac });
  const w = (shape: number[], frac = 12) => g.constant(`w${shape.join("x")}_${frac}`, randomTensor(rng, shape, frac, 2 ** frac));
  const a = g.input("a", [2, 3, 5]);
  const [m1] = g.op("MatMul", [a, w([5, 11])]);
  const h = g.input("h", [4, 9]);
  const [g1] = g.op("Gemm", [h, w([9, 10]), g.constant("c1", randomTensor(rng, [10], 20, 2 ** 20))], { alpha: 49152 });
  const [g2] = g.op("Gemm", [h, w([13, 9]), g.constant("c2", randomTensor(rng, [4, 13], 20, 2 ** 20))], { transB: 1 });
  const x = g.input("x", [1, 6, 7, 9]);
  const [c1] = g.op("Conv", [x, w([10, 6, 1, 1])]);
  const [c2] = g.op("Conv", [x, w([12, 6, 3, 3]), g.constant("b2", randomTensor(rng, [12], 20, 2 ** 20))], { pads: [1, 1, 1, 1], strides: [2, 2] });
  const [r2] = g.op("Relu", [c2]);
  const [c3] = g.op("Conv", [x, w([16, 3, 3, 2])], { group: 2, pads: [0, 1, 2, 0] });
  // Depthwise with column stride 2 (dot16-columns.ts), an odd kernel width, a bias.
  const [c4] = g.op("Conv", [x, w([6, 1, 3, 3]), g.constant("b4", randomTensor(rng, [6], 20, 2 ** 20))], { group: 6, strides: [2, 2], pads: [1, 1, 1, 1] });
  // Every channel of `same` holds -4096 and 4095: one shift (6) common to all channels.
  const same = new Tensor([9, 6, 2, 2], Int32Array.from({ length: 9 * 24 }, (_, i) => (i % 24 === 0 ? -4096 : i % 24 === 1 ? 4095 : Math.round((rng.next() * 2 - 1) * 4000))), 12);
  const [c5] = g.op("Conv", [x, g.constant("same", same)], { dilations: [2, 3], pads: [1, 0, 1, 2] });
  const [t1] = g.op("ConvTranspose", [x, w([6, 5, 2, 3])], { pads: [0, 1, 1, 0] });
  const [g3] = g.op("Gemm", [g.input("ht", [9, 4]), w([9, 6])], { transA: 1 });
  const [c6] = g.op("Conv", [g.input("line", [2, 4, 11]), w([5, 4, 3])], { strides: [2], pads: [1, 1] });
  // Two output channels per group, a kernel two columns wide, column stride 2 (dot16-columns.ts).
  const [c7] = g.op("Conv", [x, w([12, 1, 3, 2])], { group: 6, strides: [1, 2], pads: [1, 0, 1, 1] });
  // Depthwise with column stride 1 keeps the eight-column kernel (conv-positions.ts).
  const [c8] = g.op("Conv", [x, w([6, 1, 3, 3])], { group: 6, pads: [1, 1, 1, 1] });
  g.output(m1, g1, g2, c1, r2, c3, c4, c5, t1, g3, c6, c7, c8);
  return { graph: narrowWeights(g.build(), bits), dotOps: 12 };
}

describe("16-bit dot kernels", () => {
  it("MatMul, Gemm and Conv with activations that fit 16 bits: the dot path, bit-identical", () => {
    const rng = new Rng(3);
    const { graph, dotOps } = opsGraph(rng);
    const inputs = fittingInputs(rng);
    inputs.x.data[5] = -32768;
    expect(new Set(graph.constants.get("same")!.storage!.shifts)).toEqual(new Set([6]));
    expectWasmMatchesReference(graph, inputs);
    expectWasmMatchesReference(graph, inputs, "fast");
    expect(dotRuns(graph, inputs)).toBe(dotOps);
  });

  it("16-bit weights, and activations at a frac above MAX_DOT_FRAC, keep the existing kernels", () => {
    expect(MAX_DOT_FRAC).toBe(15);
    for (const [frac, bits] of [[8, 16], [MAX_DOT_FRAC + 1, 8]] as const) {
      const rng = new Rng(5);
      const { graph } = opsGraph(rng, frac, bits);
      const inputs = fittingInputs(rng, frac);
      expectWasmMatchesReference(graph, inputs, "fast");
      expect(dotRuns(graph, inputs), `frac ${frac}, ${bits}-bit weights`).toBe(0);
    }
  });

  it("a value outside 16 bits sends its ops to the existing kernels, still bit-identical", () => {
    const rng = new Rng(4);
    const { graph, dotOps } = opsGraph(rng);
    const inputs = fittingInputs(rng);
    // Out of range where eight values are checked at once (h, x), one by one (ht: read with a
    // stride, transA), and in a row's last values (line: 11 columns).
    inputs.h.data[7] = 32768;
    inputs.x.data[100] = -32769;
    inputs.ht.data[3] = 40000;
    inputs.line.data[10] = -40000;
    expectWasmMatchesReference(graph, inputs, "fast");
    // Only the MatMul on a still takes the dot path.
    expect(dotOps).toBe(12);
    expect(dotRuns(graph, inputs)).toBe(1);
  });

  it("reductions past 2 * MAX_I32_DOTS of extreme products widen before an i32 sum overflows", () => {
    expect(MAX_I32_DOTS).toBe(255);
    const g = new GraphBuilder({ frac: 8 });
    // Every weight -128 at frac 12 (q = -128, shift 0), every input -32768: each product 2^22.
    const minus = (shape: number[]) => new Tensor(shape, new Int32Array(shape.reduce((p, d) => p * d, 1)).fill(-128), 12);
    const a = g.input("a", [3, 600]);
    const [m] = g.op("MatMul", [a, g.constant("wm", minus([600, 9]))]);
    const x = g.input("x", [1, 600, 2, 5]);
    const [c1] = g.op("Conv", [x, g.constant("wc", minus([8, 600, 1, 1]))]);
    const [c2] = g.op("Conv", [x, g.constant("wk", minus([8, 600, 2, 2]))], { pads: [0, 0, 0, 1] });
    // Widening once per kernel row (64 channels, 3x3: 288 pairs, 96 per row) and once per tap (200 channels, 1x3: 300 pairs, 100 per tap).
    const y = g.input("y", [1, 64, 3, 4]);
    const [c3] = g.op("Conv", [y, g.constant("wr", minus([8, 64, 3, 3]))], { pads: [1, 1, 1, 1] });
    const z = g.input("z", [1, 200, 1, 4]);
    const [c4] = g.op("Conv", [z, g.constant("wt", minus([8, 200, 1, 3]))], { pads: [0, 1, 0, 1] });
    g.output(m, c1, c2, c3, c4);
    const graph = narrowWeights(g.build(), 8);
    const full = (shape: number[]) => new Tensor(shape, new Int32Array(shape.reduce((p, d) => p * d, 1)).fill(-32768), 8);
    const inputs = { a: full([3, 600]), x: full([1, 600, 2, 5]), y: full([1, 64, 3, 4]), z: full([1, 200, 1, 4]) };
    expectWasmMatchesReference(graph, inputs, "fast");
    expect(dotRuns(graph, inputs)).toBe(5);
  });
});
