/**
 * The VM's flat instruction set. The decoder turns structured WASM into a flat list of these:
 * numeric, memory, local, const, drop, select, call, return and unreachable instructions keep
 * their WASM opcode numbers; block/loop/if/else/br/br_if/br_table become the jumps below, with
 * stack adjustments resolved at decode time; the host calls and the segment stubs get their own
 * opcodes. Every instruction has the same five fields (op, a, b, c, imm) and a fixed 32-byte
 * encoding, the leaf of the code Merkle tree (see docs/vm-state.md).
 */

export const Op = {
  UNREACHABLE: 0x00,
  RETURN: 0x0f, // a = number of results (0 or 1)
  CALL: 0x10, // a = callee entry pc, b = parameter count, c = local count (params included), imm = callee max operand height
  DROP: 0x1a,
  SELECT: 0x1b,
  LOCAL_GET: 0x20, // a = local index, b = depth of the function's locals tree
  LOCAL_SET: 0x21,
  LOCAL_TEE: 0x22,
  I32_CONST: 0x41, // imm = value (zero-extended to 64 bits)
  I64_CONST: 0x42, // imm = value
  JUMP: 0x100, // a = target pc
  JUMP_IF: 0x101, // pop c; jump to a if c != 0
  JUMP_UNLESS: 0x102, // pop c; jump to a if c == 0
  BR: 0x103, // keep the top c values, drop the b values below them, jump to a
  BR_IF: 0x104, // pop cond; if nonzero, BR a b c
  BR_TABLE: 0x105, // pop i; jump to pc + 1 + min(i, a) (a table of a + 1 branch instructions follows)
  HALT: 0x106, // end of a segment: status becomes halted
  READ_INPUT: 0x107, // pop dst, chunk: memory[dst, dst+32) = input chunk
  WRITE_OUTPUT: 0x108, // pop src: absorb memory[src, src+32) into the output accumulator
} as const;

/** Memory access instructions (WASM opcodes 0x28..0x3e): a = static offset. */
export const FIRST_LOAD = 0x28;
export const LAST_LOAD = 0x35;
export const FIRST_STORE = 0x36;
export const LAST_STORE = 0x3e;

/** Bytes accessed by each memory instruction, by opcode. */
export const ACCESS_BYTES: Readonly<Record<number, number>> = {
  0x28: 4, 0x29: 8, 0x2c: 1, 0x2d: 1, 0x2e: 2, 0x2f: 2, 0x30: 1, 0x31: 1, 0x32: 2, 0x33: 2, 0x34: 4, 0x35: 4,
  0x36: 4, 0x37: 8, 0x3a: 1, 0x3b: 2, 0x3c: 1, 0x3d: 2, 0x3e: 4,
};

const VM_NAMES: Record<number, string> = {
  [Op.JUMP]: "jump", [Op.JUMP_IF]: "jump_if", [Op.JUMP_UNLESS]: "jump_unless", [Op.BR]: "br", [Op.BR_IF]: "br_if",
  [Op.BR_TABLE]: "br_table", [Op.HALT]: "halt", [Op.READ_INPUT]: "read_input", [Op.WRITE_OUTPUT]: "write_output",
};

/** A decoded flat program: one entry per instruction in each typed array. */
export interface Program {
  length: number;
  op: Uint16Array;
  a: Int32Array;
  b: Int32Array;
  c: Int32Array;
  immLo: Int32Array;
  immHi: Int32Array;
}

/** One instruction as plain numbers (a, b, c unsigned; imm as an unsigned 64-bit bigint). */
export interface Instruction {
  op: number;
  a: number;
  b: number;
  c: number;
  imm: bigint;
}

export function instructionAt(p: Program, pc: number): Instruction {
  return {
    op: p.op[pc], a: p.a[pc] >>> 0, b: p.b[pc] >>> 0, c: p.c[pc] >>> 0,
    imm: (BigInt(p.immHi[pc] >>> 0) << 32n) | BigInt(p.immLo[pc] >>> 0),
  };
}

export const INSTRUCTION_BYTES = 32;

/**
 * The 32-byte encoding: op u16 | a u32 | b u32 | c u32 | imm u64 | 10 zero bytes, big-endian
 * (so a Solidity verifier reads op as `uint16(w >> 240)`, a as `uint32(w >> 208)`, ...).
 */
export function encodeInstruction(ins: Instruction, out = new Uint8Array(INSTRUCTION_BYTES), at = 0): Uint8Array {
  const v = new DataView(out.buffer, out.byteOffset + at, INSTRUCTION_BYTES);
  v.setUint16(0, ins.op);
  v.setUint32(2, ins.a);
  v.setUint32(6, ins.b);
  v.setUint32(10, ins.c);
  v.setBigUint64(14, ins.imm);
  for (let i = 22; i < 32; i++) v.setUint8(i, 0);
  return out;
}

export function decodeInstruction(bytes: Uint8Array): Instruction {
  const v = new DataView(bytes.buffer, bytes.byteOffset, INSTRUCTION_BYTES);
  return { op: v.getUint16(0), a: v.getUint32(2), b: v.getUint32(6), c: v.getUint32(10), imm: v.getBigUint64(14) };
}

/** Human-readable form of an instruction, for traces and proof.json. */
export function formatInstruction(ins: Instruction, wasmName: (op: number) => string | undefined): string {
  const name = VM_NAMES[ins.op] ?? wasmName(ins.op) ?? `op 0x${ins.op.toString(16)}`;
  switch (ins.op) {
    case Op.I32_CONST: return `${name} ${BigInt.asIntN(32, ins.imm)}`;
    case Op.I64_CONST: return `${name} ${BigInt.asIntN(64, ins.imm)}`;
    case Op.LOCAL_GET: case Op.LOCAL_SET: case Op.LOCAL_TEE: return `${name} ${ins.a}`;
    case Op.CALL: return `call @${ins.a} (${ins.b} params, ${ins.c} locals)`;
    case Op.RETURN: return `${name} ${ins.a}`;
    case Op.JUMP: case Op.JUMP_IF: case Op.JUMP_UNLESS: return `${name} @${ins.a}`;
    case Op.BR: case Op.BR_IF: return `${name} @${ins.a} drop ${ins.b} keep ${ins.c}`;
    case Op.BR_TABLE: return `${name} [${ins.a + 1} entries]`;
    default:
      return ins.op >= FIRST_LOAD && ins.op <= LAST_STORE ? `${name} offset=${ins.a}` : name;
  }
}

/** Depth of the Merkle tree over n leaves: ceil(log2(max(n, 1))). */
export function treeDepth(n: number): number {
  let d = 0;
  while (2 ** d < n) d++;
  return d;
}

/** Machine status: running, halted (the segment returned), or trapped with a reason. */
export const Status = {
  RUNNING: 0,
  HALTED: 1,
  UNREACHABLE: 2,
  DIV_ZERO: 3,
  INT_OVERFLOW: 4,
  OUT_OF_BOUNDS: 5,
  CALL_DEPTH: 6,
  STACK_OVERFLOW: 7,
  BAD_HOST_CALL: 8,
  /** The segment used up the module's step budget (docs/vm-state.md section 2). */
  STEP_LIMIT: 9,
} as const;

/** Whether a status is a trap (every status after HALTED names the trap's reason). */
export function isTrap(status: number): boolean {
  return Number.isInteger(status) && status > Status.HALTED && status <= Status.STEP_LIMIT;
}

const STATUS_TEXT: Record<number, string> = {
  0: "running",
  1: "halted",
  2: "trapped: unreachable executed",
  3: "trapped: integer divide by zero",
  4: "trapped: integer overflow",
  5: "trapped: out of bounds memory access",
  6: "trapped: call stack exhausted",
  7: "trapped: value stack overflow",
  8: "trapped: bad host call arguments",
  9: "trapped: step budget exhausted",
};

export function statusText(status: number): string {
  return STATUS_TEXT[status] ?? `unknown status ${status}`;
}
