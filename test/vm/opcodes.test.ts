import { describe, expect, test } from "vitest";
import { expectSameRun, wat } from "./helpers.js";
import { I32_VALUES, I64_VALUES, memoryProgram, numericProgram, sortInput, sortProgram } from "./programs.js";

describe("every instruction against the JS engine", () => {
  test("i32 numeric instructions over edge-case operands", () => {
    expectSameRun(wat(numericProgram("i32", I32_VALUES)));
  });
  test("i64 numeric instructions over edge-case operands", () => {
    expectSameRun(wat(numericProgram("i64", I64_VALUES)));
  });
  test("loads and stores at aligned, unaligned and leaf-straddling addresses", () => {
    expectSameRun(wat(memoryProgram()));
  });
  test("calls, recursion, loops, br_table, select, I/O", () => {
    for (const [words, seed] of [[1, 1], [8, 2], [37, 3], [120, 4]]) {
      const r = expectSameRun(wat(sortProgram(words)), sortInput(words, seed));
      const sorted = Array.from(new Int32Array(r.vm.outputBytes().slice(0, words * 4).buffer));
      expect(sorted).toEqual(Array.from(new Int32Array(sortInput(words, seed).buffer)).sort((a, b) => a - b));
    }
  });
});
