/**
 * Helpers for the VM tests: assemble WAT with Binaryen, run a module both in the VM and in the
 * JS engine's own WebAssembly (the differential oracle), and turn proofs into bytes.
 */
import binaryen from "binaryen";
import { expect } from "vitest";
import { decodeModule, Machine, WasmHost, proofBytes, Status, statusText, type DecodedModule, type DecodeOptions, type StepProof } from "../../vm/index.js";

/**
 * Decode options for the VM's own tests: the hand-written programs recurse (quicksort) and
 * some reach the VM's limit traps, which the static call bounds refuse in a provable module.
 */
export const UNBOUNDED: DecodeOptions = { skipCallBounds: true };

/** WAT text to module bytes (all features enabled so refused instructions can be written too). */
export function wat(text: string): Uint8Array<ArrayBuffer> {
  const m = binaryen.parseText(text);
  const F = binaryen.Features;
  m.setFeatures(F.SignExt | F.SIMD128 | F.BulkMemory | F.Atomics | F.MutableGlobals | F.Multivalue | F.NontrappingFPToInt | F.ReferenceTypes);
  const bytes = m.emitBinary() as Uint8Array<ArrayBuffer>;
  m.dispose();
  return bytes;
}

/** A module around some functions: the two host imports, one memory of `pages` pages, exported. */
export function module(body: string, pages = 1): string {
  return `(module
    (import "detml" "read_input" (func $read_input (param i32 i32)))
    (import "detml" "write_output" (func $write_output (param i32)))
    (memory (export "memory") ${pages} ${pages})
    ${body})`;
}

export interface BothRuns {
  mod: DecodedModule;
  vm: Machine;
  vmStatus: number;
  engineError?: string;
  engineMemory: Uint8Array;
  engineOutput: Uint8Array;
}

/** Run every segment in the VM and in the engine; the engine stops at its first trap. */
export function runBoth(bytes: Uint8Array, input: Uint8Array = new Uint8Array(0)): BothRuns {
  const mod = decodeModule(bytes, UNBOUNDED);
  const vm = new Machine(mod, input);
  const vmStatus = vm.runAll().status;
  const engine = new WasmHost(WasmHost.compile(bytes), input);
  let engineError: string | undefined;
  for (const seg of mod.segments) {
    try {
      engine.call(seg.export);
    } catch (err) {
      engineError = (err as Error).message;
      break;
    }
  }
  return { mod, vm, vmStatus, engineError, engineMemory: engine.memoryBytes().slice(), engineOutput: engine.output() };
}

/** Expect the VM and the engine to agree: same memory and output, both halting. */
export function expectSameRun(bytes: Uint8Array, input?: Uint8Array): BothRuns {
  const r = runBoth(bytes, input);
  expect(r.engineError, "the engine traps").toBeUndefined();
  expect(statusText(r.vmStatus)).toBe(statusText(Status.HALTED));
  const firstDiff = r.engineMemory.findIndex((b, i) => b !== r.vm.memory[i]);
  expect(firstDiff, `first differing memory byte (engine ${r.engineMemory[firstDiff]}, vm ${r.vm.memory[firstDiff]})`).toBe(-1);
  expect(Array.from(r.vm.outputBytes())).toEqual(Array.from(r.engineOutput));
  return r;
}

/** Expect both to trap, the VM with `status`. */
export function expectTrap(bytes: Uint8Array, status: number, input?: Uint8Array): BothRuns {
  const r = runBoth(bytes, input);
  expect(statusText(r.vmStatus)).toBe(statusText(status));
  expect(r.engineError, "the engine should trap too").toBeDefined();
  return r;
}

export { proofBytes };

/** A copy of a proof's bytes with one byte flipped in word `word` (byte `byte` of it). */
export function tamper(p: StepProof, word: number, byte = 31): Uint8Array {
  const b = proofBytes(p);
  b[word * 32 + byte] ^= 0x01;
  return b;
}
