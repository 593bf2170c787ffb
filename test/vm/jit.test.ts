/**
 * The JIT (vm/jit.ts) against the interpreter: both run the same modules segment by segment,
 * stopped at random step limits, and every stop must show the same machine state. Covers every
 * instruction, traps, calls past the JIT's JS call depth, frames too large for JS variables
 * (many locals, deep operand stacks), functions left to the interpreter, and the CLI on such a
 * module.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { writeNpy } from "../../lib/tensor/npy.js";
import { ABI_VERSION, withManifest, type Manifest } from "../../abi/manifest.js";
import { DEFAULT_STEP_BUDGET, decodeModule, Machine, moduleId, toHex, type DecodedModule, type MachineSnapshot } from "../../vm/index.js";
import { compileModule, type JitOptions } from "../../vm/jit.js";
import { Rng } from "../helpers/random.js";
import { expectSameRun, module, UNBOUNDED, wat } from "./helpers.js";
import { deepStackModule, frameProgram, I32_VALUES, I64_VALUES, memoryProgram, numericProgram, sortInput, sortProgram } from "./programs.js";

/** Everything observable about a machine, for comparing the JIT with the interpreter. */
function view(s: MachineSnapshot) {
  return { ...s, lo: Array.from(s.lo), hi: Array.from(s.hi), fRet: Array.from(s.fRet), fFp: Array.from(s.fFp), fLocals: Array.from(s.fLocals),
    memory: Buffer.from(s.memory).toString("base64"), output: Array.from(s.output) };
}

/** Run both engines segment by segment with random step limits; compare every stop. `limits`: the JIT's, for this module. */
function compare(bytes: Uint8Array, input: Uint8Array, seed: number, maxChunk: number, limits?: JitOptions): number {
  const mod = decodeModule(bytes, UNBOUNDED);
  if (limits) compileModule(mod, limits); // cached for the module, so the machines below use this compilation
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
  /** JIT limits that put every frame in the machine's arrays (the JIT's mode for large frames). */
  const arrays: JitOptions = { maxVarLocals: 0, maxVarStack: 0 };

  test("every instruction with the frames in the machine's arrays (the JIT's mode for large frames)", () => {
    const some = (v: readonly string[]) => v.filter((_, i) => i % 3 === 0);
    compare(wat(numericProgram("i32", some(I32_VALUES))), new Uint8Array(0), 11, 3000, arrays);
    compare(wat(numericProgram("i64", some(I64_VALUES))), new Uint8Array(0), 12, 3000, arrays);
    compare(wat(memoryProgram()), new Uint8Array(0), 13, 700, arrays);
    for (const seed of [14, 15]) expect(compare(wat(sortProgram(60)), sortInput(60, seed), seed, 1500, arrays)).toBeGreaterThan(10);
    // Locals alone, and the stack alone, in the arrays.
    expect(compare(wat(sortProgram(40)), sortInput(40, 16), 16, 800, { maxVarLocals: 0 })).toBeGreaterThan(10);
    expect(compare(wat(sortProgram(40)), sortInput(40, 17), 17, 800, { maxVarStack: 0 })).toBeGreaterThan(10);
  });

  test("a block that loops on itself stops for the budget mid-loop exactly where the interpreter does", () => {
    const text = module(`(func $f (result i64) (local i64 i32)
      (loop $l (local.set 0 (i64.add (local.get 0) (i64.mul (i64.extend_i32_s (local.get 1)) (i64.const 2654435761))))
        (local.set 1 (i32.add (local.get 1) (i32.const 1))) (br_if $l (i32.lt_s (local.get 1) (i32.const 20000))))
      (local.get 0))
      (func (export "run") (i64.store (i32.const 0) (call $f)))`);
    const mod = decodeModule(wat(text), UNBOUNDED);
    // The loop body is one block branching to itself: JIT code with its own JS loop.
    expect(compileModule(mod).byIndex.some((fn) => fn && /continue B\d+;/.test(fn.toString()))).toBe(true);
    for (const [seed, limits] of [[21, undefined], [22, arrays]] as const) expect(compare(wat(text), new Uint8Array(0), seed, 3000, limits)).toBeGreaterThan(100);
  });

  test("i64.mul of sign-extended i32 loads: exact on both sides of 2^53, as BigInt says", () => {
    const values = [0, 1, -1, 3, -7, 65535, -65536, 94906265, 94906266, -94906267, 2 ** 26 + 1, 2 ** 30, 2 ** 31 - 1, -(2 ** 31), 123456789, -987654321];
    // 4196911 * 2146992945 is just above 2^53 and 2^32 k - 1: in doubles it rounds up to 2^32 k,
    // so a high half taken from the double would be one too large.
    const pairs = [...values.flatMap((a) => values.map((b) => [a, b])), [4196911, 2146992945], [-4196911, 2146992945]];
    const bytes = new Uint8Array(new Int32Array(pairs.flat()).buffer);
    const data = Array.from(bytes, (v) => `\\${v.toString(16).padStart(2, "0")}`).join("");
    const out = bytes.length; // products after the pairs, 8 bytes each
    // A loop over the pairs (the products of load32_s, load16_s and extend_i32_s operands), long enough for the JIT.
    const text = module(`(data (i32.const 0) "${data}") (func (export "run") (local i32)
      (loop $l
        (i64.store (i32.add (i32.const ${out}) (i32.mul (local.get 0) (i32.const 3)))
          (i64.mul (i64.load32_s (local.get 0)) (i64.load32_s offset=4 (local.get 0))))
        (i64.store offset=8 (i32.add (i32.const ${out}) (i32.mul (local.get 0) (i32.const 3)))
          (i64.mul (i64.load16_s (local.get 0)) (i64.extend_i32_s (i32.load offset=4 (local.get 0)))))
        (i64.store offset=16 (i32.add (i32.const ${out}) (i32.mul (local.get 0) (i32.const 3)))
          (i64.mul (i64.load32_s (local.get 0)) (i64.const 0x100000001)))
        (local.set 0 (i32.add (local.get 0) (i32.const 8)))
        (br_if $l (i32.lt_u (local.get 0) (i32.const ${pairs.length * 8})))))`);
    const m = new Machine(decodeModule(wat(text), UNBOUNDED), new Uint8Array(0));
    expect(m.runAll().status).toBe(1);
    const got = new DataView(m.memory.buffer, m.memory.byteOffset);
    const wrap = (v: bigint) => BigInt.asIntN(64, v);
    pairs.forEach(([a, b], k) => {
      const at = out + k * 24;
      expect([got.getBigInt64(at, true), got.getBigInt64(at + 8, true), got.getBigInt64(at + 16, true)])
        .toEqual([wrap(BigInt(a) * BigInt(b)), wrap(BigInt((a << 16) >> 16) * BigInt(b)), wrap(BigInt(a) * 0x100000001n)]);
    });
    for (const [seed, limits] of [[23, undefined], [24, arrays]] as const) compare(wat(text), new Uint8Array(0), seed, 2000, limits);
  });

  test("a block whose entry finds a load out of bounds traps where the interpreter does, after the block's earlier store and loads", () => {
    // Each pass stores, then loads at local 0 + 4 and + 200 (the entry checks both at once); the
    // pass that reaches past the memory traps at its second load, the first one done.
    for (const start of [64000, 65332, 65333]) {
      const text = module(`(func (export "run") (local i32 i64) (local.set 0 (i32.const ${start}))
        (loop $l
          (i32.store (i32.const 0) (local.get 0))
          (local.set 1 (i64.add (local.get 1) (i64.load32_s offset=4 (local.get 0))))
          (local.set 1 (i64.add (local.get 1) (i64.load16_s offset=200 (local.get 0))))
          (i64.store (i32.const 8) (local.get 1))
          (local.set 0 (i32.add (local.get 0) (i32.const 2)))
          (br_if $l (i32.const 1))))`);
      const run = new Machine(decodeModule(wat(text), UNBOUNDED), new Uint8Array(0)).runAll();
      expect(run.status).toBe(5); // OUT_OF_BOUNDS
      for (const [seed, limits] of [[25, undefined], [26, arrays]] as const) compare(wat(text), new Uint8Array(0), seed, 600, limits);
    }
  });

  test("traps inside JIT code leave the same state (frames in JS variables and in the arrays)", () => {
    const body = (x: string) => module(`(func $f (param i32) (result i32) (local i64)
      (local.set 1 (i64.extend_i32_s (local.get 0)))
      (loop $l (local.set 1 (i64.add (local.get 1) (i64.const 3))) (br_if $l (i64.lt_s (local.get 1) (i64.const 2000))))
      ${x})
      (func (export "run") (drop (i32.add (i32.const 5) (call $f (i32.const 7)))))`);
    for (const x of ["(i32.div_s (i32.const 1) (i32.wrap_i64 (i64.sub (local.get 1) (local.get 1))))", "(i32.load (i32.const 65534))",
      "(unreachable)", "(call $f (local.get 0))", "(i32.const 1)"]) {
      for (const limits of [undefined, arrays]) compare(wat(body(x)), new Uint8Array(0), 7, 100000, limits);
    }
  });
});

describe("functions with large frames run in the JIT too", () => {
  /** The seeds frameProgram reads: an i32 at byte 0, an i64 at byte 8. */
  const seeds = new Uint8Array(32);
  new DataView(seeds.buffer).setInt32(0, 11, true);
  new DataView(seeds.buffer).setBigInt64(8, -0x1234567890abn, true);
  /** A call chain as long as the slot limit allows (at most 40, more than the JIT's 32 JS frames). */
  const program = (locals: number, stack: number) => wat(frameProgram(locals, stack, Math.min(40, Math.floor(60000 / (locals + stack + 8)))));
  const totalSteps = (mod: DecodedModule) => new Machine(mod, seeds).runAll().totalSteps;

  // Locals above the JIT's JS-variable limit (512), and operand stacks above its limit (256),
  // live in the machine's arrays; 512 locals with a 256-deep stack is the largest frame kept in
  // JS variables, here down a call chain longer than the JIT's JS call depth.
  test.each([[513, 8], [600, 8], [2000, 8], [20, 257], [20, 1000], [512, 256]])("%i locals, operand stack ~%i", (locals, stack) => {
    const bytes = program(locals, stack);
    const mod = decodeModule(bytes);
    expect(mod.functions[3].locals).toBe(locals); // $big (after the two imports and $leaf)
    const steps = totalSteps(mod);
    for (const seed of [1, 2]) expect(compare(bytes, seeds, seed * locals + stack, Math.max(600, steps / 25))).toBeGreaterThan(10);
    expectSameRun(bytes, seeds); // the JIT's output and memory equal the engine's
  });

  test("a 30,000-slot operand stack: planned and compiled in time linear in the code", () => {
    const bytes = deepStackModule(30000);
    const started = performance.now();
    expect(compare(bytes, seeds, 3, 4000)).toBeGreaterThan(10);
    expect(performance.now() - started).toBeLessThan(20000); // per-instruction type arrays took minutes and ran out of memory
    const sum = Array.from({ length: 30000 }, (_, k) => BigInt(k % 64)).reduce((a, b) => a + b);
    expect(new DataView(expectSameRun(bytes).vm.memory.buffer).getBigInt64(0, true)).toBe(sum);
  });

  test("a function the JIT leaves to the interpreter (over its size limit) is still callable from JIT code", () => {
    const bytes = program(40, 30);
    const mod = decodeModule(bytes);
    const big = mod.functions.filter((f) => f.entryPc >= 0).sort((f, g) => (g.endPc - g.entryPc) - (f.endPc - f.entryPc))[0];
    const limits = { maxInstructions: big.endPc - big.entryPc - 1 };
    const jit = compileModule(mod, limits);
    expect(jit.byIndex[big.index]).toBeUndefined();
    expect(jit.byIndex.filter((f) => f !== undefined).length).toBeGreaterThan(2);
    expect(compare(bytes, seeds, 9, 3000, limits)).toBeGreaterThan(10);
  });

  test("detml trace runs a module with 600 locals (the CLI, built in dist/)", () => {
    const dir = mkdtempSync(join(tmpdir(), "detml-jit-"));
    const wasm = wat(frameProgram(600, 8, 20));
    const slot = (name: string, offset: number) => ({ name, shape: [1, 4], frac: 16, offset, bytes: 16 });
    const manifest: Manifest = {
      abi: ABI_VERSION, model_id: toHex(moduleId(decodeModule(wasm))), source_hash: `0x${"00".repeat(32)}`, step_budget: DEFAULT_STEP_BUDGET,
      build: "canonical", frac: 16, inputs: [slot("x", 0)], outputs: [slot("y", 64)], ops: [{ segment: 1, export: "op_0", nodes: ["big"], kinds: ["Custom"] }],
      memory: { pages: 1, input: 0, output: 64, weights: 96, arena: 96, tables: 96, peak: 0, end: 96 },
    };
    const model = join(dir, "m.wasm"), x = join(dir, "x.npy");
    writeFileSync(model, withManifest(wasm, manifest));
    writeFileSync(x, writeNpy([1, 4], new Float32Array([0.5, -1, 2, 0.25])));
    const r = spawnSync(process.execPath, ["dist/bin/detml.js", "trace", model, "--input", x, "--json"], { encoding: "utf8" });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.status).toBe("halted");
    // The interpreter alone, on the same input quantized by hand (Q16), gives the same run.
    const interp = new Machine(decodeModule(wasm), new Uint8Array(new Int32Array([32768, -65536, 131072, 16384]).buffer));
    interp.jit = false;
    expect(out.steps).toBe(interp.runAll().totalSteps);
    expect(out.output_bytes).toBe(`0x${Buffer.from(interp.outputBytes()).toString("hex")}`);
  });
});
