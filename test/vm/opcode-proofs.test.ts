import { describe, expect, test } from "vitest";
import { proofBytes, Session, toHex, verifyProof } from "../../vm/index.js";
import { wat, UNBOUNDED } from "./helpers.js";
import { I32_VALUES, I64_VALUES, memoryProgram, numericProgram, sortInput, sortProgram } from "./programs.js";

/** Prove every step of every segment and check the verifier reaches the prover's post-state. */
function proveAll(bytes: Uint8Array<ArrayBuffer>, input: Uint8Array = new Uint8Array(0)): number {
  const s = new Session(bytes, input, { ...UNBOUNDED, snapshotEvery: 1000 });
  let proved = 0;
  for (let k = 0; k < s.segmentCount; k++) {
    const steps = s.traceSegment(k).steps;
    for (let i = 0; i < steps; i++) {
      const p = s.prove(k, i);
      expect(toHex(verifyProof(p.preHash, proofBytes(p))), `segment ${k} step ${i} (${p.instruction.op.toString(16)})`).toBe(toHex(p.postHash));
      proved++;
    }
  }
  return proved;
}

describe("every instruction's one-step proof verifies", () => {
  test("i32 and i64 numeric instructions (every step proven)", () => {
    const few = (v: readonly string[]) => v.filter((_, i) => [0, 2, 8, 9, 11].includes(i));
    expect(proveAll(wat(numericProgram("i32", few(I32_VALUES))))).toBeGreaterThan(700);
    expect(proveAll(wat(numericProgram("i64", few(I64_VALUES))))).toBeGreaterThan(700);
  });
  test("loads and stores (every step proven)", () => {
    expect(proveAll(wat(memoryProgram()))).toBeGreaterThan(500);
  });
  test("control flow, calls and I/O (every step proven)", () => {
    expect(proveAll(wat(sortProgram(9)), sortInput(9, 7))).toBeGreaterThan(800);
  });
});
