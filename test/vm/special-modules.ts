/**
 * Hand-written modules at the edges of the VM's rules, for the limit and soundness tests: a call
 * chain of n functions with many locals each, an infinite loop, a module of thousands of trivial
 * op segments, one that reads no input, one that traps at the end of memory, and two counting loops.
 */
import { module } from "./helpers.js";

/**
 * `run` calls f1, f1 calls f2, ... (n functions with `run`); each has `locals` i32 locals and
 * adds its index into memory word 64 on the way back, so the result depends on every frame.
 */
export function callChain(n: number, locals: number): string {
  const decl = `(local ${Array(locals).fill("i32").join(" ")})`;
  const funcs: string[] = [];
  for (let i = n - 1; i >= 0; i--) {
    const name = i === 0 ? `(export "run")` : `$f${i}`;
    const next = i + 1 < n ? `(call $f${i + 1})` : "";
    funcs.push(`(func ${name} ${decl} (local.set ${locals - 1} (i32.const ${i})) ${next}
      (i32.store (i32.const 64) (i32.add (i32.load (i32.const 64)) (local.get ${locals - 1}))))`);
  }
  return module(funcs.join("\n"));
}

export function infiniteLoop(): string {
  return module(`(func (export "run") (local i32) (loop $l (local.set 0 (i32.add (local.get 0) (i32.const 1))) (br $l)))`);
}

/**
 * load_inputs (reads input chunk 0 to address 0 when `reads`), op_0 .. op_{n-1} each adding k + 1
 * to word 64, store_outputs writing the 32 bytes at 64.
 */
export function manySegments(ops: number, reads = true): string {
  const fs = [
    `(func (export "load_inputs") ${reads ? "(call $read_input (i32.const 0) (i32.const 0))" : ""})`,
    ...Array.from({ length: ops }, (_, k) => `(func (export "op_${k}") (i32.store (i32.const 64) (i32.add (i32.load (i32.const 64)) (i32.add (i32.load (i32.const 0)) (i32.const ${k + 1})))))`),
    `(func (export "store_outputs") (call $write_output (i32.const 64)))`,
  ];
  return module(fs.join("\n"));
}

/** Three ops, the second of which stores past the end of memory when input word 0 is nonzero. */
export function trapsAtEnd(): string {
  return module(`
    (func (export "load_inputs") (call $read_input (i32.const 0) (i32.const 0)))
    (func (export "op_0") (i32.store (i32.const 64) (i32.const 7)))
    (func (export "op_1") (local i32) (local.set 0 (i32.const 0))
      (loop $l (local.set 0 (i32.add (local.get 0) (i32.const 1))) (br_if $l (i32.lt_u (local.get 0) (i32.const 50))))
      (if (i32.load (i32.const 0)) (then (i32.store (i32.const 65534) (i32.const 1)))))
    (func (export "op_2") (i32.store (i32.const 96) (i32.load (i32.const 64))))
    (func (export "store_outputs") (call $write_output (i32.const 64)))`);
}

/** load_inputs reads chunk 0; op_0 and op_1 each loop `iterations` times over input word 0; store_outputs writes word 64. */
export function countingOps(iterations: number): string {
  const op = (k: number, at: number) => `(func (export "op_${k}") (local i32 i32)
    (loop $l
      (local.set 1 (i32.add (local.get 1) (i32.mul (local.get 0) (i32.load (i32.const 0)))))
      (local.set 0 (i32.add (local.get 0) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get 0) (i32.const ${iterations}))))
    (i32.store (i32.const ${at}) (local.get 1)))`;
  return module(`
    (func (export "load_inputs") (call $read_input (i32.const 0) (i32.const 0)))
    ${op(0, 64)}
    ${op(1, 68)}
    (func (export "store_outputs") (call $write_output (i32.const 64)))`);
}
