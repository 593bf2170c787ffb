/**
 * The provable subset of WebAssembly: the single definition that both the VM decoder
 * (vm/decode.ts) and the compiler's lint use (`lintModule` / `decodeModule` in vm/decode.ts
 * apply these rules to a module). It holds the opcode table (every WASM opcode the VM knows by
 * name, its immediates, its operand-stack effect, and for refused opcodes the reason), the rules on
 * value types, imports, memory, globals and exports, the fixed machine limits, and SubsetError.
 * Summary: i32/i64 integer instructions, locals, immutable globals, loads/stores, memory.size,
 * structured control flow, direct calls, and the two host calls of docs/abi.md; no floats, SIMD,
 * atomics, tables or indirect calls, reference types, bulk memory, memory.grow, exceptions, tail
 * calls or multi-value; one memory, exported as `memory`, whose maximum equals its initial size.
 */
import { MAX_MEMORY_PAGES } from "./spec/limits.js";
import { READ_INPUT_IMPORT, WRITE_OUTPUT_IMPORT } from "./spec/io.js";
import type { RawModule } from "./wasm-binary.js";

/** How the immediates of an opcode are encoded (so refused opcodes can be skipped by the lint). */
export type Immediate =
  | "none" | "blocktype" | "label" | "labels" | "func" | "call_indirect" | "local" | "global"
  | "table" | "memarg" | "memidx" | "i32" | "i64" | "f32" | "f64" | "select_t" | "heaptype"
  | "opaque"; // cannot be skipped: the lint stops reading the function after reporting it

export interface OpcodeInfo {
  code: number;
  name: string;
  imm: Immediate;
  /** Operand values popped and pushed (allowed non-control opcodes only). */
  pops: number;
  pushes: number;
  /** Why the opcode is outside the provable subset; undefined when it is allowed. */
  refused?: string;
}

export const REASON = {
  float: "floating point is outside the provable subset",
  simd: "SIMD is outside the provable subset",
  atomics: "atomics and threads are outside the provable subset",
  indirect: "indirect calls and tables are outside the provable subset",
  reference: "reference types are outside the provable subset",
  bulk: "bulk memory operations are outside the provable subset",
  grow: "memory is fixed-size in the provable subset, so memory.grow is refused",
  exceptions: "exception handling is outside the provable subset",
  tail: "tail calls are outside the provable subset",
  gc: "garbage-collected types are outside the provable subset",
  mutableGlobal: "mutable globals are outside the provable subset (the state between segments is memory only)",
  multiValue: "multi-value blocks and functions are outside the provable subset",
} as const;

const table = new Map<number, OpcodeInfo>();

function def(code: number, name: string, imm: Immediate, pops: number, pushes: number, refused?: string): void {
  table.set(code, { code, name, imm, pops, pushes, refused });
}
function refuse(code: number, name: string, imm: Immediate, reason: string): void {
  def(code, name, imm, 0, 0, reason);
}

// Control (stack effects of control opcodes are handled by the decoder itself).
def(0x00, "unreachable", "none", 0, 0);
def(0x01, "nop", "none", 0, 0);
def(0x02, "block", "blocktype", 0, 0);
def(0x03, "loop", "blocktype", 0, 0);
def(0x04, "if", "blocktype", 1, 0);
def(0x05, "else", "none", 0, 0);
refuse(0x06, "try", "blocktype", REASON.exceptions);
refuse(0x07, "catch", "opaque", REASON.exceptions);
refuse(0x08, "throw", "opaque", REASON.exceptions);
refuse(0x09, "rethrow", "opaque", REASON.exceptions);
refuse(0x0a, "throw_ref", "opaque", REASON.exceptions);
def(0x0b, "end", "none", 0, 0);
def(0x0c, "br", "label", 0, 0);
def(0x0d, "br_if", "label", 1, 0);
def(0x0e, "br_table", "labels", 1, 0);
def(0x0f, "return", "none", 0, 0);
def(0x10, "call", "func", 0, 0);
refuse(0x11, "call_indirect", "call_indirect", REASON.indirect);
refuse(0x12, "return_call", "func", REASON.tail);
refuse(0x13, "return_call_indirect", "call_indirect", REASON.tail);
refuse(0x14, "call_ref", "opaque", REASON.reference);
refuse(0x15, "return_call_ref", "opaque", REASON.tail);
refuse(0x18, "delegate", "opaque", REASON.exceptions);
refuse(0x19, "catch_all", "opaque", REASON.exceptions);
def(0x1a, "drop", "none", 1, 0);
def(0x1b, "select", "none", 3, 1);
def(0x1c, "select", "select_t", 3, 1); // typed select: allowed when its type is i32 or i64
refuse(0x1f, "try_table", "opaque", REASON.exceptions);

// Variables.
def(0x20, "local.get", "local", 0, 1);
def(0x21, "local.set", "local", 1, 0);
def(0x22, "local.tee", "local", 1, 1);
def(0x23, "global.get", "global", 0, 1);
def(0x24, "global.set", "global", 1, 0, REASON.mutableGlobal);
refuse(0x25, "table.get", "table", REASON.indirect);
refuse(0x26, "table.set", "table", REASON.indirect);

// Memory.
const loads = ["i32.load", "i64.load", "f32.load", "f64.load", "i32.load8_s", "i32.load8_u", "i32.load16_s", "i32.load16_u",
  "i64.load8_s", "i64.load8_u", "i64.load16_s", "i64.load16_u", "i64.load32_s", "i64.load32_u"];
loads.forEach((name, i) => def(0x28 + i, name, "memarg", 1, 1, name.startsWith("f") ? REASON.float : undefined));
const stores = ["i32.store", "i64.store", "f32.store", "f64.store", "i32.store8", "i32.store16", "i64.store8", "i64.store16", "i64.store32"];
stores.forEach((name, i) => def(0x36 + i, name, "memarg", 2, 0, name.startsWith("f") ? REASON.float : undefined));
def(0x3f, "memory.size", "memidx", 0, 1);
refuse(0x40, "memory.grow", "memidx", REASON.grow);

// Constants.
def(0x41, "i32.const", "i32", 0, 1);
def(0x42, "i64.const", "i64", 0, 1);
refuse(0x43, "f32.const", "f32", REASON.float);
refuse(0x44, "f64.const", "f64", REASON.float);

// Integer comparisons and arithmetic (i32 at 0x45.., i64 at 0x50..).
const cmps = ["eq", "ne", "lt_s", "lt_u", "gt_s", "gt_u", "le_s", "le_u", "ge_s", "ge_u"];
for (const [base, t] of [[0x45, "i32"], [0x50, "i64"]] as const) {
  def(base, `${t}.eqz`, "none", 1, 1);
  cmps.forEach((c, i) => def(base + 1 + i, `${t}.${c}`, "none", 2, 1));
}
const fcmps = ["eq", "ne", "lt", "gt", "le", "ge"];
fcmps.forEach((c, i) => refuse(0x5b + i, `f32.${c}`, "none", REASON.float));
fcmps.forEach((c, i) => refuse(0x61 + i, `f64.${c}`, "none", REASON.float));
const iunary = ["clz", "ctz", "popcnt"];
const ibinary = ["add", "sub", "mul", "div_s", "div_u", "rem_s", "rem_u", "and", "or", "xor", "shl", "shr_s", "shr_u", "rotl", "rotr"];
for (const [base, t] of [[0x67, "i32"], [0x79, "i64"]] as const) {
  iunary.forEach((op, i) => def(base + i, `${t}.${op}`, "none", 1, 1));
  ibinary.forEach((op, i) => def(base + 3 + i, `${t}.${op}`, "none", 2, 1));
}
const fops = ["abs", "neg", "ceil", "floor", "trunc", "nearest", "sqrt", "add", "sub", "mul", "div", "min", "max", "copysign"];
fops.forEach((op, i) => refuse(0x8b + i, `f32.${op}`, "none", REASON.float));
fops.forEach((op, i) => refuse(0x99 + i, `f64.${op}`, "none", REASON.float));

// Conversions.
def(0xa7, "i32.wrap_i64", "none", 1, 1);
["i32.trunc_f32_s", "i32.trunc_f32_u", "i32.trunc_f64_s", "i32.trunc_f64_u"].forEach((n, i) => refuse(0xa8 + i, n, "none", REASON.float));
def(0xac, "i64.extend_i32_s", "none", 1, 1);
def(0xad, "i64.extend_i32_u", "none", 1, 1);
["i64.trunc_f32_s", "i64.trunc_f32_u", "i64.trunc_f64_s", "i64.trunc_f64_u", "f32.convert_i32_s", "f32.convert_i32_u",
  "f32.convert_i64_s", "f32.convert_i64_u", "f32.demote_f64", "f64.convert_i32_s", "f64.convert_i32_u", "f64.convert_i64_s",
  "f64.convert_i64_u", "f64.promote_f32", "i32.reinterpret_f32", "i64.reinterpret_f64", "f32.reinterpret_i32",
  "f64.reinterpret_i64"].forEach((n, i) => refuse(0xae + i, n, "none", REASON.float));
["i32.extend8_s", "i32.extend16_s", "i64.extend8_s", "i64.extend16_s", "i64.extend32_s"].forEach((n, i) => def(0xc0 + i, n, "none", 1, 1));

// Reference types.
refuse(0xd0, "ref.null", "heaptype", REASON.reference);
refuse(0xd1, "ref.is_null", "none", REASON.reference);
refuse(0xd2, "ref.func", "func", REASON.reference);
for (let c = 0xd3; c <= 0xd6; c++) refuse(c, `ref.0x${c.toString(16)}`, "opaque", REASON.reference);

/** Prefixed opcode families, all refused. */
export const PREFIX_REASON: ReadonlyMap<number, [string, string]> = new Map([
  [0xfb, ["gc", REASON.gc]],
  [0xfd, ["simd", REASON.simd]],
  [0xfe, ["atomic", REASON.atomics]],
]);

/** The 0xFC family: saturating float truncations, bulk memory and table instructions; all refused. */
export function miscOpcode(sub: number): { name: string; reason: string; imm: Immediate } {
  const truncs = ["i32.trunc_sat_f32_s", "i32.trunc_sat_f32_u", "i32.trunc_sat_f64_s", "i32.trunc_sat_f64_u",
    "i64.trunc_sat_f32_s", "i64.trunc_sat_f32_u", "i64.trunc_sat_f64_s", "i64.trunc_sat_f64_u"];
  if (sub < 8) return { name: truncs[sub], reason: REASON.float, imm: "none" };
  const bulk = ["memory.init", "data.drop", "memory.copy", "memory.fill"];
  if (sub < 12) return { name: bulk[sub - 8], reason: REASON.bulk, imm: "opaque" };
  const tables = ["table.init", "elem.drop", "table.copy", "table.grow", "table.size", "table.fill"];
  if (sub < 18) return { name: tables[sub - 12], reason: REASON.indirect, imm: "opaque" };
  return { name: `0xfc ${sub}`, reason: "unknown instruction", imm: "opaque" };
}

export function opcodeInfo(code: number): OpcodeInfo | undefined {
  return table.get(code);
}

/** Every allowed single-byte opcode (for documentation and exhaustive tests). */
export function allowedOpcodes(): OpcodeInfo[] {
  return [...table.values()].filter((o) => !o.refused && !(o.code === 0x1c));
}

// ---- value types -------------------------------------------------------------------------

export const I32 = 0x7f;
export const I64 = 0x7e;
const TYPE_NAMES = new Map([[0x7f, "i32"], [0x7e, "i64"], [0x7d, "f32"], [0x7c, "f64"], [0x7b, "v128"], [0x70, "funcref"], [0x6f, "externref"]]);

export function valueTypeName(t: number): string {
  return TYPE_NAMES.get(t) ?? `type 0x${t.toString(16)}`;
}

/** Why a value type is refused, or undefined for i32/i64. */
export function valueTypeRefusal(t: number): string | undefined {
  if (t === I32 || t === I64) return undefined;
  if (t === 0x7d || t === 0x7c) return REASON.float;
  if (t === 0x7b) return REASON.simd;
  return REASON.reference;
}

// ---- imports, exports, memory, limits ---------------------------------------------------

/** The only imports: the host calls of docs/abi.md, with their parameter types (no results). */
export const HOST_CALLS: ReadonlyMap<string, readonly number[]> = new Map([
  [READ_INPUT_IMPORT, [I32, I32]],
  [WRITE_OUTPUT_IMPORT, [I32]],
]);
export const SEGMENT_IN = "load_inputs";
export const SEGMENT_OUT = "store_outputs";
export const SEGMENT_OP = /^op_(0|[1-9][0-9]*)$/;

/**
 * The segment exports in run order: `load_inputs, op_0 .. op_{n-1}, store_outputs` when the
 * module has them (op numbers contiguous), otherwise `run` alone. Throws when neither is there.
 */
export function segmentExports(funcExports: readonly string[]): string[] {
  const names = new Set(funcExports);
  const ops = funcExports.filter((n) => SEGMENT_OP.test(n)).map((n) => Number(n.slice(3))).sort((a, b) => a - b);
  if (names.has(SEGMENT_IN) || names.has(SEGMENT_OUT) || ops.length > 0) {
    if (!names.has(SEGMENT_IN)) throw new SubsetError(`the module exports op segments but no ${SEGMENT_IN}`);
    if (!names.has(SEGMENT_OUT)) throw new SubsetError(`the module exports op segments but no ${SEGMENT_OUT}`);
    ops.forEach((k, i) => {
      if (k !== i) throw new SubsetError(`segment exports skip op_${i} (found op_${k})`);
    });
    return [SEGMENT_IN, ...ops.map((k) => `op_${k}`), SEGMENT_OUT];
  }
  if (names.has("run")) return ["run"];
  throw new SubsetError("the module exports neither the segment functions (load_inputs, op_k, store_outputs) nor run");
}

/**
 * The module-level rules: sections, imports, memory, globals. Reports each violation through
 * `add`; returns the memory size in pages and the (constant) value of every global.
 */
export function checkModuleRules(raw: RawModule, add: (message: string) => void): { pages: number; globals: { type: number; value: bigint }[] } {
  const v = { add };
  const sectionNames: Record<number, string> = { 4: "a table section", 8: "a start function", 9: "an element section", 13: "a tag section" };
  const sectionReasons: Record<number, string> = { 4: REASON.indirect, 8: "start functions are outside the provable subset", 9: REASON.indirect, 13: REASON.exceptions };
  for (const id of raw.refusedSections) v.add(`the module has ${sectionNames[id]} (${sectionReasons[id]})`);
  for (const imp of raw.imports) {
    const key = `${imp.module}.${imp.name}`;
    const expected = HOST_CALLS.get(key);
    if (imp.kind !== 0 || !expected) {
      v.add(`the module imports ${key} (only ${[...HOST_CALLS.keys()].join(" and ")} may be imported)`);
      continue;
    }
    const t = raw.types[imp.typeIndex];
    if (!t || t.results.length !== 0 || t.params.length !== expected.length || t.params.some((p, i) => p !== expected[i])) {
      v.add(`import ${key} has the wrong signature (expected (${expected.map(valueTypeName).join(", ")}) -> ())`);
    }
  }
  let pages = 0;
  if (raw.memories.length !== 1) v.add(`the module defines ${raw.memories.length} memories (exactly one is required)`);
  else {
    const m = raw.memories[0];
    if (m.flags & 2) v.add("the memory is shared (" + REASON.atomics + ")");
    if (m.flags & 4) v.add("the memory is 64-bit (only 32-bit memory is in the provable subset)");
    if (m.max === undefined) v.add(`the memory has no maximum (memory must be bounded: maximum = initial = ${m.min} pages)`);
    else if (m.max !== m.min) v.add(`the memory maximum (${m.max} pages) differs from its initial size (${m.min} pages); they must be equal`);
    if (m.min > MAX_MEMORY_PAGES) v.add(`the memory has ${m.min} pages (at most ${MAX_MEMORY_PAGES} are supported)`);
    if (m.min === 0) v.add("the memory has 0 pages");
    pages = m.min;
  }
  if (!raw.exports.some((e) => e.kind === 2 && e.name === "memory")) v.add("the memory is not exported as 'memory'");
  const globals = raw.globals.map((g, i) => {
    const typeReason = valueTypeRefusal(g.type);
    if (typeReason) v.add(`global ${i} has type ${valueTypeName(g.type)} (${typeReason})`);
    if (g.mutable) v.add(`global ${i} is mutable (${REASON.mutableGlobal})`);
    let value = 0n;
    if (g.init.op === 0x41 || g.init.op === 0x42) value = g.init.value;
    else v.add(`global ${i} has a non-constant initializer`);
    return { type: g.type, value };
  });
  return { pages, globals };
}


/** Where a violation is: function index and name, instruction name, byte offset in the module. */
export interface SubsetLocation {
  funcIndex?: number;
  funcName?: string;
  instruction?: string;
  offset?: number;
}

/** A violation of the provable subset, naming the function and instruction when there is one. */
export class SubsetError extends Error {
  constructor(
    message: string,
    readonly where: SubsetLocation = {},
  ) {
    super(message);
    this.name = "SubsetError";
  }
}
