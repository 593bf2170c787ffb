/**
 * Compiled fixture models for the dispute tests: an ONNX fixture converted and compiled, one input
 * sample packed by the manifest, and one vm Session (wrapped in an HonestView) per model, cached
 * so that every game in a test file reuses the same traced run. Also `expectReject`, the referee
 * tests' check of a rejection code.
 */
import { readFileSync } from "node:fs";
import { compile } from "../../compiler/compile.js";
import { convertOnnxFile } from "../../converter/onnx/index.js";
import { readNpy, npyToTensor } from "../../lib/tensor/npy.js";
import { Tensor } from "../../lib/tensor/tensor.js";
import { packInputs } from "../../abi/tensors.js";
import { expect } from "vitest";
import { HonestView, RefereeError, type RejectCode } from "../../dispute/index.js";
import { Session } from "../../vm/index.js";

export interface Fixture {
  name: string;
  wasm: Uint8Array;
  input: Uint8Array;
}

/** [model, input .npy, sample] of the fixtures the dispute tests play on. */
export const FIXTURES = { mlp: ["mlp", "mlp_input", 0], lenet: ["mnist_lenet", "mnist_test_1000", 3] } as const;

const cache = new Map<string, { fixture: Fixture; view: HonestView }>();

export function loadFixture(name: keyof typeof FIXTURES): { fixture: Fixture; view: HonestView } {
  const known = cache.get(name);
  if (known) return known;
  const [model, data, sample] = FIXTURES[name];
  const { graph } = convertOnnxFile(`fixtures/models/${model}.onnx`);
  const { wasm, manifest } = compile(graph);
  const slot = manifest.inputs[0];
  const npy = npyToTensor(readNpy(new Uint8Array(readFileSync(`fixtures/data/${data}.npy`))), slot.frac);
  const size = slot.shape.reduce((a, b) => a * b, 1);
  const x = new Tensor(slot.shape, npy.data.slice(sample * size, (sample + 1) * size), npy.frac);
  const input = packInputs(manifest.inputs, { [slot.name]: x });
  const entry = { fixture: { name: model, wasm, input }, view: new HonestView(new Session(wasm, input, { snapshotEvery: 1 << 16 })) };
  cache.set(name, entry);
  return entry;
}

/** Expect `f` to be rejected by the referee with `code`. */
export function expectReject(f: () => unknown, code: RejectCode): void {
  try {
    f();
  } catch (err) {
    expect(err).toBeInstanceOf(RefereeError);
    expect((err as RefereeError).code).toBe(code);
    return;
  }
  throw new Error(`expected a ${code} rejection`);
}
