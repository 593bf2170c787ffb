import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { compile } from "../../compiler/compile.js";
import { convertOnnxFile } from "../../converter/onnx/index.js";
import { run } from "../../lib/executor.js";
import { readNpy, npyToTensor } from "../../lib/tensor/npy.js";
import { Tensor } from "../../lib/tensor/tensor.js";
import { packInputs, unpackTensors } from "../../abi/tensors.js";
import { decodeModule, fastBoundaries, Machine, proofBytes, Session, Status, toHex, verifyProof } from "../../vm/index.js";
import { WRITE_CHUNK_SHIFT } from "../../vm/merkle.js";
import { traceModule } from "../../vm/trace.js";
import { Rng } from "../helpers/random.js";

/** Fixture models with one input sample each: [model, input .npy, sample index]. */
const FIXTURES: [string, string, number][] = [
  ["mnist_lenet", "mnist_test_1000", 7],
  ["mlp", "mlp_input", 0],
];

describe("fixture models: the VM agrees with the JS engine and the reference executor", () => {
  for (const [name, data, sample] of FIXTURES) {
    test(name, () => {
      const { graph } = convertOnnxFile(`fixtures/models/${name}.onnx`);
      const { wasm, manifest } = compile(graph);
      const slot = manifest.inputs[0];
      const npy = npyToTensor(readNpy(new Uint8Array(readFileSync(`fixtures/data/${data}.npy`))), slot.frac);
      const size = slot.shape.reduce((a, b) => a * b, 1);
      const x = new Tensor(slot.shape, npy.data.slice(sample * size, (sample + 1) * size), npy.frac);
      const input = packInputs(manifest.inputs, { [slot.name]: x });

      const vm = traceModule(wasm, input);
      const fast = fastBoundaries(wasm, input);
      expect(Array.from(vm.output)).toEqual(Array.from(fast.output));
      // Op-boundary hashes from the engine equal the VM's own.
      expect(vm.segments.map((s) => toHex(s.boundary))).toEqual(fast.boundaries.slice(0, -1).map((b) => toHex(b.hash)));
      expect(toHex(vm.finalBoundary!)).toBe(toHex(fast.boundaries[fast.boundaries.length - 1].hash));

      // The JIT stops at the same states as the interpreter alone, and both stamp every chunk
      // they change in their write log (what lets a memory tree read only those chunks).
      const jit = new Machine(decodeModule(wasm), input);
      const interpreter = new Machine(jit.module, input);
      interpreter.jit = false;
      const stops = new Rng(3);
      for (let k = 0; k < jit.module.segments.length; k++) {
        jit.startSegment(k);
        interpreter.startSegment(k);
        while (interpreter.status === Status.RUNNING) {
          const limit = interpreter.steps + stops.int(1, 3_000_000);
          const before = jit.memory.slice();
          jit.epoch = interpreter.epoch += 1;
          jit.runUntil(limit);
          interpreter.runUntil(limit);
          expect([jit.steps, jit.pc, jit.sp, jit.status]).toEqual([interpreter.steps, interpreter.pc, interpreter.sp, interpreter.status]);
          expect(Buffer.from(jit.memory).equals(Buffer.from(interpreter.memory))).toBe(true);
          expect(Array.from(jit.stamps)).toEqual(Array.from(interpreter.stamps));
          for (let c = 0; c < jit.stamps.length; c++) {
            const at = c << WRITE_CHUNK_SHIFT, changed = !Buffer.from(before.subarray(at, at + (1 << WRITE_CHUNK_SHIFT))).equals(Buffer.from(jit.memory.subarray(at, at + (1 << WRITE_CHUNK_SHIFT))));
            if (changed) expect(jit.stamps[c] === jit.epoch || (c > 0 && jit.stamps[c - 1] === jit.epoch), `chunk ${c} changed without a stamp`).toBe(true);
          }
        }
      }

      // Random honest steps across the run prove and verify to the VM's next state.
      const session = new Session(wasm, input);
      const rng = new Rng(17);
      for (let i = 0; i < 12; i++) {
        const at = session.locate(rng.int(0, vm.totalSteps - 1));
        const p = session.prove(at.segment, at.step);
        expect(toHex(verifyProof(p.preHash, proofBytes(p)))).toBe(toHex(session.stateAt(at.segment, at.step + 1).hash));
      }

      // Last, the whole chain: the VM's outputs are the reference executor's (this also checks the compiler).
      const reference = run(graph, { [slot.name]: x }).outputs;
      unpackTensors(manifest.outputs, vm.output).forEach((t, i) => {
        const name = manifest.outputs[i].name;
        expect(Array.from(t.data), `${name}: VM (= compiled WASM) vs reference executor`).toEqual(Array.from(reference.get(name)!.data));
      });
    });
  }
});
