import { describe, expect, test } from "vitest";
import { decodeModule, Machine, type MachineSnapshot } from "../../vm/index.js";
import { Rng } from "../helpers/random.js";
import { module, wat } from "./helpers.js";
import { I32_VALUES, I64_VALUES, memoryProgram, numericProgram, sortInput, sortProgram } from "./programs.js";

/** Everything observable about a machine, for comparing the JIT with the interpreter. */
function view(s: MachineSnapshot) {
  return { ...s, lo: Array.from(s.lo), hi: Array.from(s.hi), fRet: Array.from(s.fRet), fFp: Array.from(s.fFp), fLocals: Array.from(s.fLocals),
    memory: Buffer.from(s.memory).toString("base64"), output: Array.from(s.output) };
}

/** Run both engines segment by segment with random step limits; compare every stop. */
function compare(bytes: Uint8Array, input: Uint8Array, seed: number, maxChunk: number): number {
  const mod = decodeModule(bytes);
  const jit = new Machine(mod, input);
  const interp = new Machine(mod, input);
  interp.jit = false;
  const rng = new Rng(seed);
  let stops = 0;
  for (let k = 0; k < mod.segments.length; k++) {
    jit.startSegment(k);
    interp.startSegment(k);
    while (interp.status === 0) {
      const limit = interp.steps + rng.int(1, maxChunk);
      jit.runUntil(limit);
      interp.runUntil(limit);
      expect(view(jit.snapshot())).toEqual(view(interp.snapshot()));
      stops++;
    }
    if (interp.status !== 1) break;
  }
  return stops;
}

describe("the JIT reaches exactly the interpreter's states", () => {
  test("numeric and memory programs", () => {
    const some = (v: readonly string[]) => v.filter((_, i) => i % 2 === 0 || i === 9);
    compare(wat(numericProgram("i32", some(I32_VALUES))), new Uint8Array(0), 1, 5000);
    compare(wat(numericProgram("i64", some(I64_VALUES))), new Uint8Array(0), 2, 5000);
    compare(wat(memoryProgram()), new Uint8Array(0), 3, 700);
  });
  test("calls, recursion, br_table and I/O, stopped at random steps", () => {
    for (const seed of [4, 5, 6]) expect(compare(wat(sortProgram(60)), sortInput(60, seed), seed, 3000)).toBeGreaterThan(10);
  });
  test("recursion deeper than the JIT's JS call depth continues in the interpreter", () => {
    const sorted = new Uint8Array(new Int32Array(Array.from({ length: 90 }, (_, i) => i)).buffer);
    expect(compare(wat(sortProgram(90)), sorted, 8, 20000)).toBeGreaterThan(10);
  });
  test("traps inside JIT code leave the same state", () => {
    const body = (x: string) => module(`(func $f (param i32) (result i32) (local i64)
      (local.set 1 (i64.extend_i32_s (local.get 0)))
      (loop $l (local.set 1 (i64.add (local.get 1) (i64.const 3))) (br_if $l (i64.lt_s (local.get 1) (i64.const 2000))))
      ${x})
      (func (export "run") (drop (i32.add (i32.const 5) (call $f (i32.const 7)))))`);
    for (const x of ["(i32.div_s (i32.const 1) (i32.wrap_i64 (i64.sub (local.get 1) (local.get 1))))", "(i32.load (i32.const 65534))",
      "(unreachable)", "(call $f (local.get 0))", "(i32.const 1)"]) {
      compare(wat(body(x)), new Uint8Array(0), 7, 100000);
    }
  });
});
