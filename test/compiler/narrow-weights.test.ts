/**
 * Narrow weights (`convert --weight-bits 8|16`, docs/numerics.md): the converter's rounding gives
 * values q << s_c per output channel, the reference computes on them as on any weights, and the
 * canonical and FAST WASM builds read q at 8 or 16 bits with the channel's shift and give the
 * reference's outputs bit for bit (and the FAST build the canonical memory at every op boundary),
 * on the MNIST MLP and LeNet fixtures and on one-node graphs covering grouped Conv and
 * ConvTranspose (scalar and SIMD paths), batched MatMul, Gemm with transB, Gather along two axes
 * and a table shared by a Gather and a Gemm (a tied embedding / LM head). The FAST build's SIMD
 * kernels (eight channels per pass for MatMul/Gemm and Conv, eight columns per pass for
 * few-channel Conv) read their repacked q tables with both a per-channel shift table and one
 * shift common to every channel. The .detml file and both builds' modules shrink with the
 * weights; the VM runs the narrow loads too. `detml convert --weight-bits`
 * writes such a file and `detml inspect` shows each weight's storage.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { convertCommand } from "../../bin/commands/convert.js";
import { inspectCommand } from "../../bin/commands/inspect.js";
import { compile } from "../../compiler/compile.js";
import { narrowWeights } from "../../converter/common/narrow-weights.js";
import { convertOnnxFile } from "../../converter/onnx/index.js";
import { GraphBuilder } from "../../lib/graph/builder.js";
import { opDef, resolveAttrs } from "../../lib/ops/index.js";
import { decodeGraph, encodeGraph } from "../../lib/graph/codec.js";
import type { Graph } from "../../lib/graph/ir.js";
import { readInputs } from "../../lib/model-files.js";
import { Tensor } from "../../lib/tensor/tensor.js";
import { Rng } from "../helpers/random.js";
import { runHandler } from "../helpers/cli.js";
import { expectVmMatchesReference, expectWasmMatchesReference } from "./helpers.js";

const narrowCount = (g: Graph) => [...g.constants.values()].filter((t) => t.storage).length;

function randomTensor(rng: Rng, shape: number[], frac: number, range: number): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return new Tensor(shape, Int32Array.from({ length: n }, () => Math.round((rng.next() * 2 - 1) * range)), frac);
}

/** Random weights whose channels along `axis` all reach exactly `range`, so they share one shift. */
function uniformWeights(rng: Rng, shape: number[], axis: number, frac: number, range: number): Tensor {
  const t = randomTensor(rng, shape, frac, range);
  const inner = shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const reached = new Set<number>();
  return new Tensor(shape, t.data.map((v, i) => {
    const channel = Math.floor(i / inner) % shape[axis];
    if (reached.has(channel)) return v;
    reached.add(channel);
    return range;
  }), frac);
}

/** Random weights whose channels along `axis` span ranges 2^0..2^-4 of `range`, so their shifts differ. */
function randomWeights(rng: Rng, shape: number[], axis: number, frac: number, range: number): Tensor {
  const t = randomTensor(rng, shape, frac, range);
  const inner = shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  return new Tensor(shape, t.data.map((v, i) => Math.round(v / 2 ** (Math.floor(i / inner) % shape[axis] % 5))), frac);
}

describe("narrow weights on the MNIST fixtures", () => {
  for (const name of ["mlp", "mnist_lenet"]) {
    it(`${name}: 8- and 16-bit weights run bit-identically in the reference, canonical and fast builds`, () => {
      const { graph } = convertOnnxFile(`fixtures/models/${name}.onnx`);
      const sample = Object.fromEntries(readInputs(graph, new Map([["", name === "mlp" ? "fixtures/data/mlp_input.npy" : "fixtures/data/mnist_test_1000.npy"]]))[0]);
      const image = (g: Graph) => compile(g, { weightsImage: "always" }).weights!.bytes.length;
      const fastModule = (g: Graph) => compile(g, { build: "fast" }).wasm.length;
      const [plainImage, plainFast] = name === "mnist_lenet" ? [image(graph), fastModule(graph)] : [0, 0];
      for (const bits of [8, 16] as const) {
        const narrow = narrowWeights(graph, bits);
        // The converter's option gives the same file.
        expect(encodeGraph(convertOnnxFile(`fixtures/models/${name}.onnx`, { weightBits: bits }).graph)).toEqual(encodeGraph(narrow));
        // Every weight matrix is narrowed; biases are not.
        expect(narrowCount(narrow)).toBe([...graph.constants.values()].filter((t) => t.rank >= 2).length);
        expect(narrowCount(narrow)).toBeGreaterThan(0);
        expectWasmMatchesReference(narrow, sample, "fast");
        if (name !== "mnist_lenet") continue;
        // LeNet's weights are 99% weight matrices: the image shrinks to about bits/32 of the i32 image
        // (measured 0.253 and 0.502), the module with the weights in its data to under 0.3 at 8 bits (0.285).
        expect(image(narrow) / plainImage).toBeLessThan(bits / 32 + 0.01);
        if (bits === 8) expect(compile(narrow).wasm.length / compile(graph).wasm.length).toBeLessThan(0.3);
        // The fast build's repacked weight tables are narrow too: its module shrinks about as much
        // (measured 0.290 at 8 bits and 0.530 at 16; with i32 tables it was 0.645 and 0.765).
        expect(fastModule(narrow) / plainFast).toBeLessThan(bits / 32 + 0.1);
      }
    });
  }
});

describe("narrow weights in every weight position", () => {
  it("grouped Conv and ConvTranspose, batched MatMul, Gemm, Gather and a tied table match the reference (canonical, fast, VM)", () => {
    const rng = new Rng(5);
    const g = new GraphBuilder({ frac: 16 });
    const x = g.input("x", [1, 4, 6, 7]);
    // Conv with 2 groups of 3 output channels (the fast build vectorizes its columns) and of 8 (eight channels per pass);
    // the stepped ConvTranspose and the batched MatMul run the scalar kernels, on narrow weights, in both builds.
    const [c1] = g.op("Conv", [x, g.constant("w1", randomWeights(rng, [6, 2, 3, 3], 0, 18, 3e5)), g.constant("b1", randomTensor(rng, [6], 16, 5e4))], { group: 2, pads: [1, 1, 1, 1] });
    const [c2] = g.op("Conv", [x, g.constant("w2", randomWeights(rng, [16, 2, 3, 2], 0, 18, 3e5))], { group: 2, strides: [2, 1] });
    const [t1] = g.op("ConvTranspose", [x, g.constant("w3", randomWeights(rng, [4, 3, 2, 3], 1, 18, 3e5))], { group: 2, strides: [2, 2] });
    const a = g.input("a", [2, 3, 5]);
    const [m1] = g.op("MatMul", [a, g.constant("w4", randomWeights(rng, [2, 5, 9], 2, 20, 8e5))]);
    const h = g.input("h", [3, 6]);
    const table = g.constant("table", randomWeights(rng, [10, 6], 0, 20, 1e6));
    const [gemm] = g.op("Gemm", [h, table], { transB: 1 });
    const ids = g.input("ids", [4], 0);
    const [rows] = g.op("Gather", [table, ids], { axis: 0 });
    const [cols] = g.op("Gather", [g.constant("w5", randomWeights(rng, [3, 7], 1, 20, 1e6)), g.input("cids", [2], 0)], { axis: 1 });
    // One shift for every channel: the fast build's MatMul (11 columns: a full block and a partial one),
    // eight-channel Conv (12 channels, 5 output columns) and eight-column depthwise Conv shift by a constant.
    const a2 = g.input("a2", [4, 12]);
    const [m2] = g.op("MatMul", [a2, g.constant("w6", uniformWeights(rng, [12, 11], 1, 18, 3e5))]);
    const [c3] = g.op("Conv", [x, g.constant("w7", uniformWeights(rng, [12, 4, 3, 3], 0, 18, 3e5))]);
    const [c4] = g.op("Conv", [x, g.constant("w8", uniformWeights(rng, [4, 1, 3, 3], 0, 18, 3e5))], { group: 4, pads: [1, 1, 1, 1] });
    g.output(c1, c2, t1, m1, gemm, rows, cols, m2, c3, c4);
    const graph = g.build();
    const inputs = {
      x: randomTensor(rng, [1, 4, 6, 7], 16, 2e5), a: randomTensor(rng, [2, 3, 5], 16, 2e5), h: randomTensor(rng, [3, 6], 16, 2e5),
      ids: new Tensor([4], Int32Array.of(3, 0, 9, 3), 0), cids: new Tensor([2], Int32Array.of(6, -1), 0), a2: randomTensor(rng, [4, 12], 16, 2e5),
    };
    for (const bits of [8, 16] as const) {
      const narrow = narrowWeights(graph, bits);
      expect([...narrow.constants].filter(([, t]) => t.storage).map(([n]) => n).sort()).toEqual(["table", "w1", "w2", "w3", "w4", "w5", "w6", "w7", "w8"]);
      expect(narrow.constants.get("table")!.storage!.axis).toBe(0);
      expect(narrow.constants.get("w3")!.storage!.axis).toBe(1);
      // Channels of different ranges: those kernels take their shifts from a table; w6..w8 share one nonzero shift.
      for (const [name, t] of narrow.constants) {
        if (!t.storage) continue;
        const shifts = new Set(t.storage.shifts);
        if (["w6", "w7", "w8"].includes(name)) expect([shifts.size, Math.min(...shifts) > 0]).toEqual([1, true]);
        else expect(shifts.size).toBeGreaterThan(1);
      }
      expectWasmMatchesReference(narrow, inputs, "fast");
      if (bits === 8) expectVmMatchesReference(narrow, inputs);
    }
    // A narrow constant that some node reads outside a weight position (here the table as Gemm's A)
    // is placed as i32 values by the compiler: still bit-identical.
    const narrow = narrowWeights(graph, 8);
    const mixed = { ...narrow, outputs: [...narrow.outputs, "tableTimesH"],
      nodes: [...narrow.nodes, { name: "tableAsA", op: "Gemm", inputs: ["table", h], outputs: ["tableTimesH"], attrs: resolveAttrs(opDef("Gemm"), { transB: 1 }) }] };
    expectWasmMatchesReference(mixed, inputs, "fast");
  });
});

describe("the CLI", () => {
  it("convert --weight-bits 8 writes narrow weights, inspect shows their storage, a bad width is refused", async () => {
    const dir = mkdtempSync(join(tmpdir(), "detml-narrow-"));
    try {
      const output = join(dir, "lenet.detml");
      const converted = JSON.parse(await runHandler(convertCommand, { model: "fixtures/models/mnist_lenet.onnx", output, "weight-bits": 8, json: true, seed: 0 }));
      expect(converted.narrow_weights).toMatchObject({ bits: [8], constants: 5 });
      const graph = decodeGraph(new Uint8Array(readFileSync(output)), output);
      expect(narrowCount(graph)).toBe(5);
      const inspected = JSON.parse(await runHandler(inspectCommand, { model: output, json: true }));
      const storage = Object.fromEntries(inspected.constants.map((c: { name: string; storage: string }) => [c.name, c.storage]));
      expect(Object.values(storage).sort()).toEqual(["i32", "i32", "i32", "i32", "i32", "i8", "i8", "i8", "i8", "i8"]);
      expect(inspected.stored_weight_bytes).toBeLessThan(inspected.weightBytes / 3.5);
      const table = await runHandler(inspectCommand, { model: output });
      expect(table).toMatch(/Conv .* i8\+i32 /);
      await expect(runHandler(convertCommand, { model: "fixtures/models/mnist_lenet.onnx", output, "weight-bits": 4, seed: 0 })).rejects.toThrow("--weight-bits 4: expected 8, 16 or 32");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
