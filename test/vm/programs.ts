/**
 * WAT programs for the VM tests: generated per-opcode programs (every numeric instruction of the
 * subset over edge-case operands, every load and store at aligned, unaligned and leaf-straddling
 * addresses), a few hand-written nontrivial programs (loops, recursion, br_table, I/O) and
 * programs with large frames (many locals, deep operand stacks) for the JIT.
 */
import { module } from "./helpers.js";

export const I32_VALUES = ["0", "1", "-1", "2", "7", "31", "32", "33", "-2147483648", "2147483647", "0x12345678", "-0x7654321", "255", "65535", "0x80", "-33"];
export const I64_VALUES = ["0", "1", "-1", "2", "63", "64", "65", "-9223372036854775808", "9223372036854775807", "0x123456789abcdef0",
  "-0x76543210fedcba9", "0xffffffff", "0x100000000", "-4294967296", "0x7fffffff", "-65"];

export const I32_BINARY = ["eq", "ne", "lt_s", "lt_u", "gt_s", "gt_u", "le_s", "le_u", "ge_s", "ge_u", "add", "sub", "mul", "div_s", "div_u", "rem_s", "rem_u",
  "and", "or", "xor", "shl", "shr_s", "shr_u", "rotl", "rotr"];
export const I32_UNARY = ["i32.eqz", "i32.clz", "i32.ctz", "i32.popcnt", "i32.extend8_s", "i32.extend16_s", "i64.extend_i32_s", "i64.extend_i32_u"];
export const I64_UNARY = ["i64.eqz", "i64.clz", "i64.ctz", "i64.popcnt", "i64.extend8_s", "i64.extend16_s", "i64.extend32_s", "i32.wrap_i64"];

const resultType = (op: string): "i32" | "i64" => (op.startsWith("i64.") && !op.endsWith("eqz") ? "i64" : op === "i64.extend_i32_s" || op === "i64.extend_i32_u" ? "i64" : "i32");
const isCompare = (op: string) => /^(eq|ne|lt_|gt_|le_|ge_)/.test(op);
const big = (s: string): bigint => (s.startsWith("-") ? -BigInt(s.slice(1)) : BigInt(s));
const traps = (t: "i32" | "i64", op: string, a: string, b: string): boolean => {
  if (!/^(div|rem)_/.test(op)) return false;
  if (big(b) === 0n) return true;
  const min = t === "i32" ? -(2n ** 31n) : -(2n ** 63n);
  return op === "div_s" && big(a) === min && big(b) === -1n;
};

/**
 * `run` stores op(a, b) for every binary op of `t` and every operand pair (except the pairs that
 * trap), then every unary op over every value, each result in its own 8-byte cell.
 */
export function numericProgram(t: "i32" | "i64", values: readonly string[]): string {
  const lines: string[] = [];
  let cell = 64;
  const store = (type: "i32" | "i64", expr: string): void => {
    lines.push(`(${type}.store (i32.const ${cell}) ${expr})`);
    cell += 8;
  };
  for (const op of I32_BINARY) {
    for (const a of values) {
      for (const b of values) {
        if (traps(t, op, a, b)) continue;
        store(isCompare(op) ? "i32" : t, `(${t}.${op} (${t}.const ${a}) (${t}.const ${b}))`);
      }
    }
  }
  for (const op of t === "i32" ? I32_UNARY : I64_UNARY) {
    for (const a of values) store(resultType(op), `(${op} (${t}.const ${a}))`);
  }
  return module(`(func (export "run") ${lines.join("\n")})`, Math.ceil((cell + 64) / 65536));
}

/** Every load and store at addresses that are aligned, unaligned and straddle 32-byte leaves. */
export function memoryProgram(): string {
  const loads = ["i32.load", "i64.load", "i32.load8_s", "i32.load8_u", "i32.load16_s", "i32.load16_u", "i64.load8_s", "i64.load8_u",
    "i64.load16_s", "i64.load16_u", "i64.load32_s", "i64.load32_u"];
  const stores = ["i32.store", "i64.store", "i32.store8", "i32.store16", "i64.store8", "i64.store16", "i64.store32"];
  const addresses = [0, 1, 3, 29, 30, 31, 32, 61, 63, 100];
  const lines: string[] = [];
  let out = 4096;
  for (const op of loads) {
    for (const addr of addresses) {
      const t = op.slice(0, 3);
      lines.push(`(${t}.store (i32.const ${out}) (${op} offset=5 (i32.const ${addr})))`);
      out += 8;
    }
  }
  let target = 8192;
  for (const op of stores) {
    for (const addr of addresses) {
      const t = op.slice(0, 3);
      lines.push(`(${op} offset=2 (i32.const ${target + addr}) (${t}.const ${t === "i32" ? "0x89abcdef" : "-0x123456789abcdf"}))`);
    }
    target += 256;
  }
  // Data with high bits set so sign extension shows.
  const data = Array.from({ length: 160 }, (_, i) => `\\${((i * 73 + 0x81) & 0xff).toString(16).padStart(2, "0")}`).join("");
  return module(`(data (i32.const 0) "${data}") (func (export "run") ${lines.join("\n")})`);
}

/**
 * A nontrivial program over four segments: load_inputs reads every input chunk; op_0 sorts the
 * input words with a recursive quicksort (calls, locals, loops, memory traffic); op_1 computes a
 * checksum with a br_table dispatch, select and i64 arithmetic, stored across two memory
 * leaves; store_outputs writes the sorted words and the checksum.
 */
export function sortProgram(words: number): string {
  const chunks = Math.ceil((words * 4) / 32);
  return module(`
    (func (export "load_inputs") (local $i i32)
      (block $done (loop $next
        (br_if $done (i32.ge_u (local.get $i) (i32.const ${chunks})))
        (call $read_input (local.get $i) (i32.add (i32.const 1024) (i32.shl (local.get $i) (i32.const 5))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next))))
    (func $swap (param $a i32) (param $b i32) (local $t i32)
      (local.set $t (i32.load (local.get $a)))
      (i32.store (local.get $a) (i32.load (local.get $b)))
      (i32.store (local.get $b) (local.get $t)))
    (func $sort (param $lo i32) (param $hi i32) (local $p i32) (local $i i32) (local $j i32)
      (if (i32.ge_s (local.get $lo) (local.get $hi)) (then (return)))
      (local.set $p (i32.load (local.get $hi)))
      (local.set $i (local.get $lo))
      (local.set $j (local.get $lo))
      (block $done (loop $scan
        (br_if $done (i32.ge_s (local.get $j) (local.get $hi)))
        (if (i32.lt_s (i32.load (local.get $j)) (local.get $p)) (then
          (call $swap (local.get $i) (local.get $j))
          (local.set $i (i32.add (local.get $i) (i32.const 4)))))
        (local.set $j (i32.add (local.get $j) (i32.const 4)))
        (br $scan)))
      (call $swap (local.get $i) (local.get $hi))
      (call $sort (local.get $lo) (i32.sub (local.get $i) (i32.const 4)))
      (call $sort (i32.add (local.get $i) (i32.const 4)) (local.get $hi)))
    (func (export "op_0") (call $sort (i32.const 1024) (i32.const ${1024 + 4 * (words - 1)})))
    (func $mix (param $k i32) (param $x i64) (result i64)
      (block $d (block $c (block $b (block $a
        (br_table $a $b $c $d (i32.and (local.get $k) (i32.const 3))))
        (return (i64.mul (local.get $x) (i64.const 0x100000001b3))))
        (return (i64.rotl (local.get $x) (i64.const 13))))
        (return (select (i64.xor (local.get $x) (i64.const -1)) (i64.shr_u (local.get $x) (i64.const 7)) (i32.and (local.get $k) (i32.const 4)))))
      (i64.add (local.get $x) (i64.extend_i32_s (local.get $k))))
    (func (export "op_1") (local $i i32) (local $h i64)
      (local.set $h (i64.const 0xcbf29ce484222325))
      (loop $next
        (local.set $h (call $mix (i32.load (i32.add (i32.const 1024) (i32.shl (local.get $i) (i32.const 2)))) (local.get $h)))
        (br_if $next (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (i32.const ${words}))))
      (i64.store offset=3 (i32.const 2073) (local.get $h)))
    (func (export "store_outputs") (local $i i32)
      (loop $next
        (call $write_output (i32.add (i32.const 1024) (i32.shl (local.get $i) (i32.const 5))))
        (br_if $next (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (i32.const ${chunks}))))
      (call $write_output (i32.const 2048))
      (call $write_output (i32.const 2080)))`);
}

/** Input bytes for sortProgram: `words` little-endian i32 values from a seed. */
export function sortInput(words: number, seed: number): Uint8Array {
  const b = new Uint8Array(words * 4);
  const v = new DataView(b.buffer);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < words; i++) {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    v.setInt32(i * 4, (s % 2001) - 1000, true);
  }
  return b;
}

/**
 * Functions with large frames for the JIT: `$big` has `locals` locals (two parameters, then i32
 * locals, then i64 ones) and an operand stack about `stack` slots deep (a nested expression of
 * local reads with a call at its bottom); op_0 calls it in a loop (a call into it), it calls the
 * small `$leaf` (a call out of it), and `$c0` starts a chain of `depth` functions with the same
 * frame, each calling the next from the bottom of its deep expression (past the JIT's JS call
 * depth when depth > 32; recursion is outside the subset). i32.wrap_i64 over i64 values leaves i32 slots
 * where i64 ones were, so a JIT that keeps such slots in the machine's arrays must clear their
 * high halves before it hands over. load_inputs reads input chunk 0 (the seeds: an i32 and an
 * i64 at bytes 0 and 8); store_outputs writes both results.
 */
export function frameProgram(locals: number, stack: number, depth: number): string {
  const n32 = Math.max(1, Math.floor((locals - 2) / 2));
  const n64 = Math.max(1, locals - 2 - n32);
  const i32 = (k: number) => 2 + (k % n32); // i32 local k (wrapping around)
  const i64 = (k: number) => 2 + n32 + (k % n64);
  const lastI32 = i32(n32 - 1), lastI64 = i64(n64 - 1);
  const decl = `(param i32) (param i64) (result i64) (local ${"i32 ".repeat(n32)}) (local ${"i64 ".repeat(n64)})`;
  /** A nested sum `levels` deep of spread-out locals around `inner` (an i64 expression). */
  const nest = (levels: number, inner: string, t: "i32" | "i64"): string => {
    let e = t === "i64" ? inner : `(i32.wrap_i64 ${inner})`;
    for (let j = 1; j < levels; j++) {
      const read = t === "i64" ? `(local.get ${i64(j * 7919)})` : `(i32.wrap_i64 (local.get ${i64(j * 104729)}))`;
      e = `(${t}.add ${read} ${e})`;
    }
    return e;
  };
  const leaf = (k: string, x: string) => `(call $leaf ${k} ${x})`;
  return module(`
    (func $leaf (param $k i32) (param $x i64) (result i64)
      (i64.add (i64.mul (local.get $x) (i64.const 0x100000001b3)) (i64.extend_i32_s (local.get $k))))
    (func $big ${decl}
      (loop $next
        (local.set ${lastI32} (i32.add (local.get ${lastI32}) (local.get 0)))
        (local.set ${lastI64} (i64.add (local.get ${lastI64}) ${leaf(`(local.get ${lastI32})`, "(local.get 1)")}))
        (local.set ${i64(locals >> 2)} (i64.xor (local.get ${lastI64}) (i64.const -0x123456789)))
        (local.set ${i32(locals >> 1)} (i32.xor (local.get ${i32(locals >> 1)}) (i32.wrap_i64 (local.get ${lastI64}))))
        (local.set ${i64(locals >> 1)} ${nest(stack, leaf(`(local.get ${i32(locals >> 1)})`, `(local.get ${lastI64})`), "i64")})
        (local.set ${i32(locals >> 3)} ${nest(stack, leaf(`(local.get 0)`, `(local.get ${i64(locals >> 1)})`), "i32")})
        (br_if $next (local.tee 0 (i32.sub (local.get 0) (i32.const 1)))))
      (i64.add (local.get ${i64(locals >> 1)})
        (i64.extend_i32_u (i32.add (local.get ${i32(locals >> 3)}) (local.get ${lastI32})))))
    ${Array.from({ length: depth }, (_, k) => `(func $c${k} ${decl}
      (local.set ${lastI64} (i64.add (local.get 1) (i64.extend_i32_u (local.get 0))))
      ${k + 1 < depth ? nest(stack, `(call $c${k + 1} (i32.add (local.get 0) (i32.const 1)) (local.get ${lastI64}))`, "i64") : `(local.get ${lastI64})`})`).join("\n")}
    (func (export "load_inputs") (call $read_input (i32.const 0) (i32.const 0)))
    (func (export "op_0")
      (i64.store (i32.const 64) (call $big (i32.add (i32.const 60) (i32.and (i32.load (i32.const 0)) (i32.const 15))) (i64.load (i32.const 8))))
      (i64.store (i32.const 72) (call $c0 (i32.const 1) (i64.load (i32.const 8)))))
    (func (export "store_outputs") (call $write_output (i32.const 64)))`);
}

/**
 * The bytes of a module whose `run` pushes `height` i64 constants, adds them up and stores the
 * sum at address 0: an operand stack `height` slots deep in straight-line code. Written as
 * bytes because Binaryen's text parser recurses once per nesting level (it fails near 3,000).
 */
export function deepStackModule(height: number): Uint8Array<ArrayBuffer> {
  const leb = (n: number): number[] => (n < 128 ? [n] : [(n & 127) | 128, ...leb(n >>> 7)]);
  const section = (id: number, bytes: number[]) => [id, ...leb(bytes.length), ...bytes];
  const name = (s: string) => [...leb(s.length), ...new TextEncoder().encode(s)];
  const body = [0, 0x41, 0]; // no locals; i32.const 0 (the address)
  for (let k = 0; k < height; k++) body.push(0x42, ...leb(k % 64)); // i64.const k % 64
  for (let k = 1; k < height; k++) body.push(0x7c); // i64.add
  body.push(0x37, 3, 0, 0x0b); // i64.store align=8 offset=0; end
  return new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0,
    ...section(1, [1, 0x60, 0, 0]), // type 0: () -> ()
    ...section(3, [1, 0]), // function 0 has type 0
    ...section(5, [1, 1, 1, 1]), // memory: 1 page, max 1
    ...section(7, [2, ...name("memory"), 2, 0, ...name("run"), 0, 0]),
    ...section(10, [1, ...leb(body.length), ...body])]);
}
