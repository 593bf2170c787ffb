import { describe, expect, test } from "vitest";
import { decodeModule, formatInstruction, instructionAt, lintModule, Op, opcodeInfo, SubsetError } from "../../vm/index.js";
import { module, wat } from "./helpers.js";

const run = (body: string) => `(func (export "run") ${body})`;
/** A module with the ABI's segment exports, op_3 holding `body`. */
const segments = (body: string) => module(`(func (export "load_inputs")) (func (export "op_0")) (func (export "op_1")) (func (export "op_2"))
  (func (export "op_3") ${body}) (func (export "store_outputs"))`);

function refusal(text: string): string {
  try {
    decodeModule(wat(text));
  } catch (err) {
    expect(err).toBeInstanceOf(SubsetError);
    return (err as Error).message;
  }
  throw new Error("the module was accepted");
}

describe("decoder refusals", () => {
  const cases: [string, string, string][] = [
    ["float instruction", segments("(drop (i32.trunc_f32_s (f32.add (f32.const 1) (f32.const 2))))"),
      "function 'op_3' uses f32.const (floating point is outside the provable subset)"],
    ["float parameter", module(`(func (export "g") (param f64))` + run("")), "function 'g' has a parameter of type f64 (floating point"],
    ["float local", module(`(func (export "g") (local f32))` + run("")), "function 'g' declares a local of type f32 (floating point"],
    ["SIMD", module(run("(drop (i32x4.extract_lane 0 (i32x4.splat (i32.const 1))))")), "function 'run' uses a simd instruction"],
    ["table section", module(`(table 1 funcref) ` + run("")), "the module has a table section"],
    ["memory.grow", module(run("(drop (memory.grow (i32.const 1)))")), "uses memory.grow (memory is fixed-size"],
    ["memory.copy", module(run("(memory.copy (i32.const 0) (i32.const 32) (i32.const 4))")), "uses memory.copy (bulk memory operations"],
    ["memory.fill", module(run("(memory.fill (i32.const 0) (i32.const 0) (i32.const 4))")), "uses memory.fill (bulk memory"],
    ["saturating truncation", module(run("(drop (i32.trunc_sat_f32_s (f32.const 1)))")), "uses f32.const (floating point"],
    ["unknown import", `(module (import "env" "now" (func $now (result i32))) (memory (export "memory") 1 1) ${run("")})`,
      "the module imports env.now (only detml.read_input and detml.write_output may be imported)"],
    ["host call with a wrong signature", `(module (import "detml" "read_input" (func (param i32))) (memory (export "memory") 1 1) ${run("")})`,
      "import detml.read_input has the wrong signature"],
    ["unbounded memory", `(module (memory (export "memory") 1) ${run("")})`, "the memory has no maximum (memory must be bounded"],
    ["growable memory", `(module (memory (export "memory") 1 4) ${run("")})`, "the memory maximum (4 pages) differs from its initial size (1 pages)"],
    ["shared memory", `(module (memory (export "memory") 1 1 shared) ${run("")})`, "the memory is shared"],
    ["no memory", `(module ${run("")})`, "the module defines 0 memories"],
    ["memory not exported", `(module (memory 1 1) ${run("")})`, "the memory is not exported as 'memory'"],
    ["mutable global", module(`(global $g (mut i32) (i32.const 0)) ` + run("(global.set $g (i32.const 1))")), "global 0 is mutable (mutable globals are outside"],
    ["start function", module(`(func $s) (start $s) ` + run("")), "the module has a start function"],
    ["multi-value result", module(`(func (export "g") (result i32 i32) (i32.const 1) (i32.const 2))` + run("")), "returns several values (multi-value"],
    ["passive data", module(`(data "abc") ` + run("")), "data segment 0 is passive (bulk memory"],
    ["no segments", module(`(func (export "main"))`), "the module exports neither the segment functions (load_inputs, op_k, store_outputs) nor run"],
    ["op without load_inputs", module(`(func (export "op_0")) (func (export "store_outputs"))`), "the module exports op segments but no load_inputs"],
    ["gap in op numbers", module(`(func (export "load_inputs")) (func (export "op_0")) (func (export "op_2")) (func (export "store_outputs"))`), "segment exports skip op_1 (found op_2)"],
    ["segment with parameters", module(`(func (export "load_inputs") (param i32)) (func (export "store_outputs"))`), "segment function 'load_inputs' must have type () -> ()"],
  ];
  for (const [name, text, message] of cases) {
    test(name, () => expect(refusal(text)).toContain(message));
  }

  test("the lint keeps reading a function after a refused instruction", () => {
    const messages = lintModule(wat(segments("(drop (i32.trunc_f32_s (f32.add (f32.const 1) (f32.const 2))))"))).map((e) => e.message);
    expect(messages).toContain("function 'op_3' uses f32.add (floating point is outside the provable subset)");
    expect(messages).toContain("function 'op_3' uses i32.trunc_f32_s (floating point is outside the provable subset)");
  });

  test("call_indirect and atomics are refused where they are used", () => {
    const indirect = lintModule(wat(module(`(type $t (func)) (table 1 funcref) ` + run("(call_indirect (type $t) (i32.const 0))")))).map((e) => e.message);
    expect(indirect).toContain("function 'run' uses call_indirect (indirect calls and tables are outside the provable subset)");
    const atomic = lintModule(wat(`(module (memory (export "memory") 1 1 shared) ${run("(drop (i32.atomic.load (i32.const 0)))")})`)).map((e) => e.message);
    expect(atomic).toContainEqual(expect.stringContaining("function 'run' uses a atomic instruction 0xfe"));
  });

  test("SubsetError names the function and instruction", () => {
    try {
      decodeModule(wat(segments("(drop (i32.trunc_f32_s (f32.add (f32.const 1) (f32.const 2))))")));
      expect.unreachable();
    } catch (err) {
      const e = err as SubsetError;
      expect(e.where.funcName).toBe("op_3");
      expect(e.where.funcIndex).toBe(6);
      expect(e.where.instruction).toBe("f32.const");
      expect(e.message).toBe("function 'op_3' uses f32.const (floating point is outside the provable subset)");
      expect(e.where.offset).toBeGreaterThan(0);
    }
  });

  test("lintModule lists every violation; a provable module lints clean", () => {
    const bad = wat(`(module (import "env" "x" (func)) (memory (export "memory") 1) (global $g (mut i32) (i32.const 0))
      (func (export "run") (drop (f64.const 1)) (drop (memory.grow (i32.const 1)))))`);
    const messages = lintModule(bad).map((e) => e.message);
    expect(messages).toEqual([
      expect.stringContaining("imports env.x"),
      expect.stringContaining("the memory has no maximum"),
      expect.stringContaining("global 0 is mutable"),
      expect.stringContaining("uses f64.const"),
      expect.stringContaining("uses memory.grow"),
    ]);
    expect(lintModule(wat(module(run("(i32.store (i32.const 0) (i32.const 1))"))))).toEqual([]);
  });

  test("malformed and invalid modules are plain errors", () => {
    expect(() => decodeModule(new Uint8Array([1, 2, 3, 4]))).toThrow(/invalid wasm module/);
    const valid = wat(module(run("")));
    expect(() => decodeModule(valid.slice(0, valid.length - 3))).toThrow(/invalid wasm module/);
    expect(lintModule(new Uint8Array([0, 0x61, 0x73, 0x6d, 2, 0, 0, 0]))[0].message).toMatch(/invalid wasm module/);
  });
});

describe("flattening", () => {
  const listing = (bytes: Uint8Array): string[] => {
    const m = decodeModule(bytes);
    return Array.from({ length: m.program.length }, (_, pc) => formatInstruction(instructionAt(m.program, pc), (op) => opcodeInfo(op)?.name));
  };

  test("segments get a CALL/HALT stub each, in run order", () => {
    const m = decodeModule(wat(module(`(func (export "store_outputs")) (func (export "op_1")) (func (export "op_0")) (func (export "load_inputs")) (func (export "run"))`)));
    expect(m.segments.map((s) => s.export)).toEqual(["load_inputs", "op_0", "op_1", "store_outputs"]);
    expect(m.segments.map((s) => s.entryPc)).toEqual([0, 2, 4, 6]);
    for (const s of m.segments) {
      expect(m.program.op[s.entryPc]).toBe(Op.CALL);
      expect(m.program.a[s.entryPc]).toBe(m.functions[s.funcIndex].entryPc);
      expect(m.program.op[s.entryPc + 1]).toBe(Op.HALT);
    }
  });

  test("a branch that leaves values under its result drops them; dead code is not emitted", () => {
    const text = module(run(`(local i32)
      (local.set 0 (block $b (result i32)
        (drop (i32.add (i32.const 7) (br_if $b (i32.const 2) (local.get 0))))
        (br $b (i32.const 3))
        (i32.const 99) (drop) (unreachable)))`));
    const code = listing(wat(text));
    expect(code).toContain("br_if @10 drop 1 keep 1");
    expect(code.some((c) => c.includes("99"))).toBe(false);
    expect(code.filter((c) => c === "unreachable")).toEqual([]);
  });

  test("br_table becomes a table of branches after it; global.get and memory.size become constants", () => {
    const text = module(`(global $k i64 (i64.const -5)) ` + run(`(block $a (block $b (block $c (br_table $a $b $c (i32.const 1))))) (drop (global.get $k)) (drop (memory.size))`));
    const code = listing(wat(text));
    const at = code.indexOf("br_table [3 entries]");
    expect(at).toBeGreaterThan(0);
    expect(code.slice(at + 1, at + 4).every((c) => c.startsWith("jump @"))).toBe(true);
    expect(code).toContain("i64.const -5");
    expect(code).toContain("i32.const 1");
  });
});
