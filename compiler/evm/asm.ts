/**
 * A small EVM assembler for the EVM target: the code generators append opcodes by name, pushes
 * of constants (the narrowest PUSHn, PUSH0 for zero) and label references, and `assemble()`
 * resolves every label to its JUMPDEST offset (labels are always pushed as PUSH2, so offsets are
 * known before resolution). `patchSlot` reserves a PUSH32 whose immediate the deployer overwrites
 * (the data-contract addresses, see artifact.ts). Nothing here knows about models.
 */

/** The opcodes the EVM target emits (Osaka; JUMPDEST comes with `label`, PUSHn with `push`). */
const OPCODES = {
  ADD: 0x01, MUL: 0x02, SUB: 0x03, DIV: 0x04, MOD: 0x06, SIGNEXTEND: 0x0b, LT: 0x10, SLT: 0x12,
  SGT: 0x13, EQ: 0x14, ISZERO: 0x15, AND: 0x16, XOR: 0x18, SHL: 0x1b, SHR: 0x1c, SAR: 0x1d,
  CALLDATALOAD: 0x35, CALLDATACOPY: 0x37, EXTCODECOPY: 0x3c, POP: 0x50, MLOAD: 0x51, MSTORE: 0x52,
  JUMP: 0x56, JUMPI: 0x57, MCOPY: 0x5e, PUSH0: 0x5f, RETURN: 0xf3, REVERT: 0xfd,
} as const;

/** JUMPDEST, placed by `label`. */
const JUMPDEST = 0x5b;

export type OpName = keyof typeof OPCODES;

/** DUP1..DUP16 and SWAP1..SWAP16 by depth. */
export const dup = (n: number): number => checkDepth(n, 0x7f);
export const swap = (n: number): number => checkDepth(n, 0x8f);

function checkDepth(n: number, base: number): number {
  if (!Number.isInteger(n) || n < 1 || n > 16) throw new Error(`stack depth ${n} is outside 1..16`);
  return base + n;
}

type Part = { kind: "bytes"; bytes: number[] } | { kind: "label-ref"; label: string } | { kind: "label"; label: string }
  | { kind: "deferred"; value: () => bigint };

/** Width of a deferred push: memory addresses, which stay far below 2^24 (memory cost). */
const DEFERRED_BYTES = 3;

/** The big-endian bytes of a non-negative integer below 2^256 (empty for 0). */
export function beBytes(value: bigint): number[] {
  if (value < 0n || value >= 1n << 256n) throw new Error(`push value ${value} is outside 0..2^256-1`);
  const out: number[] = [];
  for (let v = value; v > 0n; v >>= 8n) out.unshift(Number(v & 0xffn));
  return out;
}

export class Assembler {
  private parts: Part[] = [];
  private labelCount = 0;
  private size = 0;
  /** Byte offsets of the PUSH32 immediates reserved by `patchSlot`, in call order. */
  readonly patchOffsets: number[] = [];

  /** A fresh label name (labels are placed with `label`). */
  newLabel(hint: string): string {
    return `${hint}#${this.labelCount++}`;
  }

  op(...names: (OpName | number)[]): this {
    return this.raw(names.map((n) => (typeof n === "number" ? n : OPCODES[n])));
  }

  /** Push a constant; negative values are pushed as their two's complement in 256 bits. */
  push(value: bigint | number): this {
    let v = BigInt(value);
    if (v < 0n) v += 1n << 256n;
    const bytes = beBytes(v);
    return bytes.length === 0 ? this.op("PUSH0") : this.raw([0x5f + bytes.length, ...bytes]);
  }

  /** Push the offset of a label (PUSH2). */
  pushLabel(label: string): this {
    this.parts.push({ kind: "label-ref", label });
    this.size += 3;
    return this;
  }

  /** Push a value known only at assembly time (a memory address), as a PUSH3. */
  pushDeferred(value: () => bigint): this {
    this.parts.push({ kind: "deferred", value });
    this.size += 1 + DEFERRED_BYTES;
    return this;
  }

  /** Place a label here (a JUMPDEST). */
  label(label: string): this {
    this.parts.push({ kind: "label", label });
    this.size += 1;
    return this;
  }

  jump(label: string): this {
    return this.pushLabel(label).op("JUMP");
  }

  jumpi(label: string): this {
    return this.pushLabel(label).op("JUMPI");
  }

  /** A PUSH32 of zeros that the deployer overwrites (its offset lands in `patchOffsets`). */
  patchSlot(): this {
    this.patchOffsets.push(this.size + 1);
    return this.raw([0x7f, ...new Array<number>(32).fill(0)]);
  }

  /** Current code size in bytes. */
  get length(): number {
    return this.size;
  }

  private raw(bytes: number[]): this {
    this.parts.push({ kind: "bytes", bytes });
    this.size += bytes.length;
    return this;
  }

  assemble(): Uint8Array {
    const offsets = new Map<string, number>();
    let at = 0;
    for (const p of this.parts) {
      if (p.kind === "label") offsets.set(p.label, at);
      at += p.kind === "bytes" ? p.bytes.length : p.kind === "label" ? 1 : p.kind === "deferred" ? 1 + DEFERRED_BYTES : 3;
    }
    if (at > 0xffff) throw new Error(`code of ${at} bytes is beyond the 2-byte jump range`);
    const out = new Uint8Array(at);
    let i = 0;
    for (const p of this.parts) {
      if (p.kind === "bytes") {
        out.set(p.bytes, i);
        i += p.bytes.length;
      } else if (p.kind === "label") {
        out[i++] = JUMPDEST;
      } else if (p.kind === "deferred") {
        const v = p.value();
        if (v < 0n || v >= 1n << BigInt(8 * DEFERRED_BYTES)) throw new Error(`address ${v} does not fit ${DEFERRED_BYTES} bytes`);
        out[i++] = 0x5f + DEFERRED_BYTES;
        for (let k = DEFERRED_BYTES - 1; k >= 0; k--) out[i++] = Number((v >> BigInt(8 * k)) & 0xffn);
      } else {
        const target = offsets.get(p.label);
        if (target === undefined) throw new Error(`label ${p.label} is never placed`);
        out.set([0x61, target >> 8, target & 0xff], i);
        i += 3;
      }
    }
    return out;
  }
}
