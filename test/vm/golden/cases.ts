/**
 * The WAT cases behind the golden one-step vectors. A case is the body of one segment function
 * (`op_k` of a generated module) and names the VM instruction whose step is proven (`target`,
 * its `nth` execution in the segment). Non-trapping cases of a group share one module, one
 * segment each; a case that traps gets a module of its own (a trap ends the run). The cases cover
 * every numeric instruction of the subset with its edge operands, every load and store width at
 * inner, straddling and out-of-bounds addresses, locals, select, every branch form the decoder
 * emits, calls and returns, and the two host calls with their refusals.
 */
import { Op } from "../../../vm/index.js";

export interface StepCase {
  /** "<wasm instruction>: <what the case shows>"; the golden test checks every allowed opcode has one. */
  name: string;
  /** Body of the segment function (may use the helpers of HELPER_FUNCS). */
  body: string;
  /** Declared locals of the segment function, e.g. "(local i32 i64)". */
  locals?: string;
  /** VM opcode of the proven step and which of its executions in the segment (default the first). */
  target: number;
  nth?: number;
  /** The step traps, so the case needs a module of its own. */
  traps?: boolean;
}

/** Callees shared by every generated module (unused ones cost only code leaves). */
export const HELPER_FUNCS = `
  (func $add3 (param i32 i64 i32) (result i64) (local i64 i32)
    (i64.add (i64.extend_i32_u (i32.add (local.get 0) (local.get 2))) (local.get 1)))
  (func $noop)
  (func $touch (param i32) (i32.store (i32.const 256) (local.get 0)))`;

/** 160 bytes at address 0 with high bits set, so sign extension and byte order show in loads. */
export const DATA = Array.from({ length: 160 }, (_, i) => `\\${((i * 73 + 0x81) & 0xff).toString(16).padStart(2, "0")}`).join("");

/** The input every module reads: 3 chunks (tree depth 2), distinct bytes. */
export const INPUT = Uint8Array.from({ length: 96 }, (_, i) => (i * 29 + 7) & 0xff);

const I32_MIN = "-2147483648", I64_MIN = "-9223372036854775808";

/** Operand pairs per binary op, with a label; the pairs marked trap leave DIV_ZERO / INT_OVERFLOW. */
type Pair = [x: string, y: string, label: string, trap?: true];
const BINARY_PAIRS = (t: "i32" | "i64"): Record<string, Pair[]> => {
  const min = t === "i32" ? I32_MIN : I64_MIN;
  const max = t === "i32" ? "0x7fffffff" : "0x7fffffffffffffff";
  const w = t === "i32" ? 32 : 64;
  const cmp = (): Pair[] => [["-1", "1", "negative vs positive"], ["7", "7", "equal"], ["1", "-1", "positive vs negative"]];
  return {
    eq: [["5", "5", "equal"], ["5", "-5", "different"]],
    ne: [["5", "5", "equal"], ["5", "-5", "different"]],
    lt_s: cmp(), lt_u: cmp(), gt_s: cmp(), gt_u: cmp(), le_s: cmp(), le_u: cmp(), ge_s: cmp(), ge_u: cmp(),
    add: [["1234", "5678", "ordinary"], [max, "1", "wraps past MAX"], ["-1", "-1", "both negative"]],
    sub: [["5", "7", "negative result"], [min, "1", "wraps below MIN"]],
    mul: [["-6", "7", "signed"], [t === "i32" ? "0x10000" : "0x100000000", t === "i32" ? "0x10001" : "0x100000001", "overflow keeps the low bits"]],
    div_s: [["-7", "2", "rounds toward zero"], ["7", "-2", "negative divisor"], [min, "-1", "MIN / -1 traps INT_OVERFLOW", true], ["1", "0", "by zero traps DIV_ZERO", true]],
    div_u: [["-7", "2", "dividend read unsigned"], ["7", "-1", "divisor read unsigned"], ["1", "0", "by zero traps DIV_ZERO", true]],
    rem_s: [["-7", "2", "sign of the dividend"], [min, "-1", "MIN rem -1 is 0"], ["1", "0", "by zero traps DIV_ZERO", true]],
    rem_u: [["-7", "3", "dividend read unsigned"], ["1", "0", "by zero traps DIV_ZERO", true]],
    and: [["0xf0f0", "0xff00", "ordinary"], ["-1", min, "high bit"]],
    or: [["0xf0f0", "0xff00", "ordinary"], ["0", min, "high bit"]],
    xor: [["0xf0f0", "0xff00", "ordinary"], ["-1", "0x5555", "with all ones"]],
    shl: [["3", "5", "ordinary"], ["1", `${w - 1}`, "into the sign bit"], ["3", `${w + 1}`, "count >= width is taken modulo width"]],
    shr_s: [["-256", "4", "sign fills"], ["-256", `${w + 4}`, "count >= width"], [max, "1", "positive"]],
    shr_u: [["-256", "4", "zero fills"], ["-256", `${w}`, "count = width is 0 (no shift)"]],
    rotl: [[min, "1", "high bit wraps to bit 0"], ["0x12345", `${w + 8}`, "count >= width"]],
    rotr: [["1", "1", "bit 0 wraps to the high bit"], ["0x12345", `${2 * w - 4}`, "count >= width"]],
  };
};

/** Unary ops with their operand type and operands. */
const UNARY: [op: string, t: "i32" | "i64", operands: [string, string][]][] = [
  ["i32.eqz", "i32", [["0", "zero"], ["0x100", "nonzero"]]],
  ["i32.clz", "i32", [["0", "of 0 is 32"], ["0x00f00000", "ordinary"], ["-1", "of -1 is 0"]]],
  ["i32.ctz", "i32", [["0", "of 0 is 32"], ["0x00f00000", "ordinary"], [I32_MIN, "of MIN is 31"]]],
  ["i32.popcnt", "i32", [["0", "of 0"], ["-1", "of -1 is 32"], ["0x12345678", "ordinary"]]],
  ["i64.eqz", "i64", [["0", "zero"], ["0x100000000", "nonzero above bit 32"]]],
  ["i64.clz", "i64", [["0", "of 0 is 64"], ["0x00f0000000", "ordinary"], ["-1", "of -1 is 0"]]],
  ["i64.ctz", "i64", [["0", "of 0 is 64"], ["0x100000000", "ordinary"], [I64_MIN, "of MIN is 63"]]],
  ["i64.popcnt", "i64", [["0", "of 0"], ["-1", "of -1 is 64"], ["0x123456789abcdef0", "ordinary"]]],
  ["i32.wrap_i64", "i64", [["0x123456789abcdef0", "keeps the low 32 bits"], ["-1", "of -1"]]],
  ["i64.extend_i32_s", "i32", [["-2", "negative"], ["0x7fffffff", "positive"]]],
  ["i64.extend_i32_u", "i32", [["-2", "negative is zero-extended"], ["0x7fffffff", "positive"]]],
  ["i32.extend8_s", "i32", [["0x80", "0x80 is -128"], ["0x7f", "0x7f stays"], ["0x1ff", "upper bits ignored"]]],
  ["i32.extend16_s", "i32", [["0x8000", "0x8000 is -32768"], ["0x17fff", "upper bits ignored"]]],
  ["i64.extend8_s", "i64", [["0x80", "0x80 is -128"], ["0x17f", "upper bits ignored"]]],
  ["i64.extend16_s", "i64", [["0x8000", "0x8000 is -32768"], ["0x7fff", "0x7fff stays"]]],
  ["i64.extend32_s", "i64", [["0x80000000", "bit 31 extends"], ["0x17fffffff", "upper bits ignored"]]],
];

/** The WASM opcode number of a numeric instruction name (as vm/subset.ts names them). */
export type OpcodeOf = (name: string) => number;

export function numericCases(opcodeOf: OpcodeOf): StepCase[] {
  const cases: StepCase[] = [];
  for (const t of ["i32", "i64"] as const) {
    for (const [op, pairs] of Object.entries(BINARY_PAIRS(t))) {
      for (const [x, y, label, trap] of pairs) {
        cases.push({ name: `${t}.${op}: ${label} (${x}, ${y})`, body: `(drop (${t}.${op} (${t}.const ${x}) (${t}.const ${y})))`, target: opcodeOf(`${t}.${op}`), traps: trap });
      }
    }
  }
  for (const [op, t, operands] of UNARY) {
    for (const [x, label] of operands) cases.push({ name: `${op}: ${label} (${x})`, body: `(drop (${op} (${t}.const ${x})))`, target: opcodeOf(op) });
  }
  return cases;
}

/** Loads and stores with the bytes they access. */
const LOADS: [string, number][] = [["i32.load", 4], ["i64.load", 8], ["i32.load8_s", 1], ["i32.load8_u", 1], ["i32.load16_s", 2], ["i32.load16_u", 2],
  ["i64.load8_s", 1], ["i64.load8_u", 1], ["i64.load16_s", 2], ["i64.load16_u", 2], ["i64.load32_s", 4], ["i64.load32_u", 4]];
const STORES: [string, number][] = [["i32.store", 4], ["i64.store", 8], ["i32.store8", 1], ["i32.store16", 2], ["i64.store8", 1], ["i64.store16", 2], ["i64.store32", 4]];

/** Every load and store: inside a leaf (with a static offset), across two leaves, at the end of memory, and out of bounds. */
export function memoryCases(opcodeOf: OpcodeOf): StepCase[] {
  const cases: StepCase[] = [];
  for (const [op, size] of LOADS) {
    const t = op.slice(0, 3);
    const load = (addr: string, offset: number) => `(drop (${op} offset=${offset} (i32.const ${addr})))`;
    cases.push({ name: `${op}: inside one leaf, static offset (ea 37)`, body: load("33", 4), target: opcodeOf(op) });
    if (size > 1) cases.push({ name: `${op}: straddles two leaves (ea ${64 - size / 2})`, body: load(`${64 - size / 2 - 2}`, 2), target: opcodeOf(op) });
    else cases.push({ name: `${op}: last byte of a leaf (ea 63)`, body: load("63", 0), target: opcodeOf(op) });
    cases.push({ name: `${op}: last bytes of memory (ea ${65536 - size})`, body: load(`${65536 - size}`, 0), target: opcodeOf(op) });
    cases.push({ name: `${op}: one byte past the end traps OUT_OF_BOUNDS`, body: load(`${65536 - size}`, 1), target: opcodeOf(op), traps: true });
    if (t === "i32" && size === 4) {
      cases.push({ name: `${op}: address read unsigned (-4) traps OUT_OF_BOUNDS`, body: load("-4", 0), target: opcodeOf(op), traps: true });
      cases.push({ name: `${op}: address + offset beyond 2^32 traps OUT_OF_BOUNDS`, body: load("-1", 0xfffffff0), target: opcodeOf(op), traps: true });
    }
  }
  for (const [op, size] of STORES) {
    const t = op.slice(0, 3);
    const value = t === "i32" ? "0x89abcdef" : "-0x123456789abcdf";
    const store = (addr: string, offset: number) => `(${op} offset=${offset} (i32.const ${addr}) (${t}.const ${value}))`;
    cases.push({ name: `${op}: inside one leaf, static offset (ea 101)`, body: store("100", 1), target: opcodeOf(op) });
    if (size > 1) cases.push({ name: `${op}: straddles two leaves (ea ${96 - size / 2})`, body: store(`${96 - size / 2 - 3}`, 3), target: opcodeOf(op) });
    else cases.push({ name: `${op}: last byte of a leaf (ea 127)`, body: store("127", 0), target: opcodeOf(op) });
    cases.push({ name: `${op}: last bytes of memory (ea ${65536 - size})`, body: store(`${65536 - size}`, 0), target: opcodeOf(op) });
    cases.push({ name: `${op}: crosses the end of memory traps OUT_OF_BOUNDS`, body: store(`${65536 - size + 1}`, 0), target: opcodeOf(op), traps: true });
  }
  return cases;
}

/** Locals, constants, drop, select, calls and returns, every branch form, halt, unreachable. */
export function controlCases(): StepCase[] {
  const five = "(local i32 i64 i32 i32 i64)"; // 5 locals: a locals tree of depth 3
  return [
    { name: "local.get: declared local (zero), depth-3 tree", locals: five, body: "(drop (local.get 4))", target: Op.LOCAL_GET },
    { name: "local.get: parameter of a callee", body: "(drop (call $add3 (i32.const 3) (i64.const -5) (i32.const 9)))", target: Op.LOCAL_GET, nth: 1 },
    { name: "local.get: the one local of a depth-0 tree", locals: "(local i64)", body: "(local.set 0 (i64.const 77)) (drop (local.get 0))", target: Op.LOCAL_GET },
    { name: "local.set: i64 into a depth-3 tree", locals: five, body: "(local.set 1 (i64.const -2))", target: Op.LOCAL_SET },
    { name: "local.set: overwrite a set local", locals: five, body: "(local.set 3 (i32.const 5)) (local.set 3 (i32.const 6))", target: Op.LOCAL_SET, nth: 1 },
    { name: "local.tee: keeps the value on the stack", locals: five, body: "(drop (local.tee 2 (i32.const 0x7eadbeef)))", target: Op.LOCAL_TEE },
    { name: "i32.const: negative immediate (zero-extended)", body: "(drop (i32.const -1))", target: Op.I32_CONST },
    { name: "i64.const: negative immediate", body: "(drop (i64.const -0x123456789))", target: Op.I64_CONST },
    { name: "global.get: an immutable global becomes i32.const", body: "(drop (global.get $g32))", target: Op.I32_CONST },
    { name: "global.get: an immutable i64 global becomes i64.const", body: "(drop (global.get $g64))", target: Op.I64_CONST },
    { name: "memory.size: becomes i32.const (pages)", body: "(drop (memory.size))", target: Op.I32_CONST },
    { name: "drop: an i64 value", body: "(drop (i64.const 9))", target: Op.DROP },
    { name: "select: condition nonzero picks the first", body: "(drop (select (i32.const 11) (i32.const 22) (i32.const 2)))", target: Op.SELECT },
    { name: "select: condition zero picks the second", body: "(drop (select (i64.const 11) (i64.const 22) (i32.const 0)))", target: Op.SELECT },
    { name: "call: three parameters (i32, i64, i32), five locals, a result", body: "(drop (call $add3 (i32.const 3) (i64.const -5) (i32.const 9)))", target: Op.CALL, nth: 1 },
    { name: "call: no parameters, no result", body: "(call $noop)", target: Op.CALL, nth: 1 },
    { name: "call: the segment entry (pc 2k)", body: "(nop)", target: Op.CALL },
    { name: "return: with a result", body: "(drop (call $add3 (i32.const 3) (i64.const -5) (i32.const 9)))", target: Op.RETURN },
    { name: "return: no result, from a nested call", body: "(call $touch (i32.const 5))", target: Op.RETURN },
    { name: "return: the segment function back to its stub", body: "(nop)", target: Op.RETURN },
    { name: "return: explicit, leaves extra values", body: "(drop (i32.add (i32.const 1) (return)))", target: Op.RETURN },
    { name: "br: to the function label becomes return", body: "(block (br 1)) (unreachable)", target: Op.RETURN },
    { name: "halt: end of a segment", body: "(nop)", target: Op.HALT },
    { name: "br: forward, nothing to drop (jump)", body: "(block $b (br $b) (unreachable))", target: Op.JUMP },
    { name: "loop: back edge is a jump", locals: "(local i32)", body: "(loop $l (br_if $l (i32.lt_u (local.tee 0 (i32.add (local.get 0) (i32.const 1))) (i32.const 2))))", target: Op.JUMP_IF },
    { name: "else: end of the then branch (jump)", body: "(if (i32.const 1) (then (drop (i32.const 1))) (else (drop (i32.const 2))))", target: Op.JUMP },
    { name: "br_if: taken, nothing to drop (jump_if)", body: "(block $b (br_if $b (i32.const 7)) (unreachable))", target: Op.JUMP_IF },
    { name: "br_if: not taken (jump_if)", body: "(block $b (br_if $b (i32.const 0)))", target: Op.JUMP_IF },
    { name: "if: condition zero jumps (jump_unless taken)", body: "(if (i32.const 0) (then (unreachable)))", target: Op.JUMP_UNLESS },
    { name: "if: condition nonzero falls through (jump_unless not taken)", body: "(if (i32.const -1) (then (drop (i32.const 3))))", target: Op.JUMP_UNLESS },
    { name: "br: keeps 1, drops 2", body: "(drop (block $b (result i32) (i32.add (i32.const 1) (i32.add (i32.const 2) (br $b (i32.const 3))))))", target: Op.BR },
    { name: "br: keeps 0, drops 1", body: "(block $b (drop (i32.add (i32.const 1) (br $b))))", target: Op.BR },
    { name: "br_if: taken, keeps 1, drops 1", body: "(drop (block $b (result i64) (i64.add (i64.const 1) (br_if $b (i64.const 4) (i32.const 1)))))", target: Op.BR_IF },
    { name: "br_if: not taken, with a drop count", body: "(drop (block $b (result i64) (i64.add (i64.const 1) (br_if $b (i64.const 4) (i32.const 0)))))", target: Op.BR_IF },
    { name: "br_table: index in range", body: "(block $a (block $b (block $c (br_table $a $b $c (i32.const 1)))))", target: Op.BR_TABLE },
    { name: "br_table: index = n takes the default", body: "(block $a (block $b (block $c (br_table $a $b $c (i32.const 2)))))", target: Op.BR_TABLE },
    { name: "br_table: index beyond n is clamped", body: "(block $a (block $b (block $c (br_table $a $b $c (i32.const -1)))))", target: Op.BR_TABLE },
  ];
}

/** The traps that are not numeric or memory traps, and the host calls. */
export function hostAndTrapCases(): StepCase[] {
  const read = (chunk: string, dst: string) => `(call $read_input (i32.const ${chunk}) (i32.const ${dst}))`;
  const write = (src: string) => `(call $write_output (i32.const ${src}))`;
  return [
    { name: "unreachable: traps UNREACHABLE", body: "(unreachable)", target: Op.UNREACHABLE, traps: true },
    { name: "read_input: chunk 2 (the last) into leaf 3", body: read("2", "96"), target: Op.READ_INPUT },
    { name: "read_input: into the last leaf of memory", body: read("0", `${65536 - 32}`), target: Op.READ_INPUT },
    { name: "read_input: misaligned destination traps BAD_HOST_CALL", body: read("0", "65"), target: Op.READ_INPUT, traps: true },
    { name: "read_input: destination past memory traps BAD_HOST_CALL", body: read("0", "65536"), target: Op.READ_INPUT, traps: true },
    { name: "read_input: chunk = inputChunks traps BAD_HOST_CALL", body: read("3", "0"), target: Op.READ_INPUT, traps: true },
    { name: "read_input: chunk read unsigned (-1) traps BAD_HOST_CALL", body: read("-1", "0"), target: Op.READ_INPUT, traps: true },
    { name: "write_output: leaf 2 (data)", body: write("64"), target: Op.WRITE_OUTPUT },
    { name: "write_output: second output, accumulator chained", body: `${write("0")} ${write("32")}`, target: Op.WRITE_OUTPUT, nth: 1 },
    { name: "write_output: misaligned source traps BAD_HOST_CALL", body: write("33"), target: Op.WRITE_OUTPUT, traps: true },
    { name: "write_output: source past memory traps BAD_HOST_CALL", body: write("65536"), target: Op.WRITE_OUTPUT, traps: true },
  ];
}
