/**
 * A reader for the WebAssembly binary format, limited to what the provable subset needs: it
 * splits a module into its sections (type, import, function, memory, global, export, code,
 * data, custom) and hands back raw structures; function bodies stay as byte ranges that the
 * decoder walks instruction by instruction. Sections outside the subset (table, start,
 * element, tag) are recorded so the subset rules can refuse them by name. Malformed input
 * raises a plain Error naming the byte offset.
 */

export interface FuncType {
  params: number[];
  results: number[];
}
export interface Import {
  module: string;
  name: string;
  kind: number; // 0 func, 1 table, 2 memory, 3 global, 4 tag
  typeIndex: number; // for functions
}
export interface MemoryLimits {
  flags: number;
  min: number;
  max?: number;
}
export interface ConstExpr {
  op: number; // 0x41 i32.const, 0x42 i64.const, 0x23 global.get, or another (refused) opcode
  value: bigint; // the constant, or the global index
}
export interface Global {
  type: number;
  mutable: boolean;
  init: ConstExpr;
}
export interface Export {
  name: string;
  kind: number; // 0 func, 1 table, 2 memory, 3 global
  index: number;
}
export interface Body {
  locals: { count: number; type: number }[];
  start: number; // offset of the first instruction in the module bytes
  end: number; // offset just past the final `end`
}
export interface DataSegment {
  flags: number;
  offset?: ConstExpr;
  bytes: Uint8Array;
}
export interface RawModule {
  types: FuncType[];
  imports: Import[];
  funcTypes: number[]; // type index per defined function
  memories: MemoryLimits[];
  globals: Global[];
  exports: Export[];
  bodies: Body[];
  data: DataSegment[];
  customs: { name: string; bytes: Uint8Array }[];
  /** Section ids present that the subset refuses outright (4 table, 8 start, 9 element, 13 tag). */
  refusedSections: number[];
  /** Function names from the `name` custom section, by function index. */
  names: Map<number, string>;
}

export class Reader {
  pos: number;
  constructor(readonly bytes: Uint8Array, start = 0, readonly end = bytes.length) {
    this.pos = start;
  }
  fail(what: string): never {
    throw new Error(`malformed wasm at byte 0x${this.pos.toString(16)}: ${what}`);
  }
  atEnd(): boolean {
    return this.pos >= this.end;
  }
  byte(): number {
    if (this.pos >= this.end) this.fail("unexpected end");
    return this.bytes[this.pos++];
  }
  u32(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      const b = this.byte();
      result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) break;
      shift += 7;
      if (shift > 28) this.fail("LEB128 u32 longer than 5 bytes");
    }
    if (result > 0xffffffff) this.fail("u32 out of range");
    return result;
  }
  /** Signed LEB128 of up to `bits` bits, as a bigint. */
  sleb(bits: number): bigint {
    let result = 0n;
    let shift = 0n;
    let b: number;
    do {
      b = this.byte();
      result |= BigInt(b & 0x7f) << shift;
      shift += 7n;
      if (shift > BigInt(bits + 7)) this.fail("signed LEB128 too long");
    } while (b & 0x80);
    if (b & 0x40) result -= 1n << shift;
    return BigInt.asIntN(bits, result);
  }
  i32(): number {
    return Number(this.sleb(32));
  }
  skip(n: number): void {
    if (this.pos + n > this.end) this.fail("unexpected end");
    this.pos += n;
  }
  name(): string {
    const n = this.u32();
    const start = this.pos;
    this.skip(n);
    return new TextDecoder("utf-8", { fatal: true }).decode(this.bytes.subarray(start, start + n));
  }
}

/** The instructions a constant expression of the subset may use: i32.const, i64.const, global.get. */
export const CONST_OPS = [0x41, 0x42, 0x23];

function readConstExpr(r: Reader): ConstExpr {
  const op = r.byte();
  let value = 0n;
  if (op === 0x41) value = r.sleb(32);
  else if (op === 0x42) value = r.sleb(64);
  else if (op === 0x23) value = BigInt(r.u32());
  else return { op, value }; // refused by the caller; the rest is not read
  if (r.byte() !== 0x0b) r.fail("constant expression longer than one instruction");
  return { op, value };
}

function readLimits(r: Reader): MemoryLimits {
  const flags = r.byte();
  if (flags > 0x07) r.fail(`unknown limits flags 0x${flags.toString(16)}`);
  const min = r.u32();
  const max = flags & 1 ? r.u32() : undefined;
  return { flags, min, max };
}

function readNames(r: Reader, names: Map<number, string>): void {
  while (!r.atEnd()) {
    const id = r.byte();
    const size = r.u32();
    const end = r.pos + size;
    if (id === 1) {
      const count = r.u32();
      for (let i = 0; i < count; i++) {
        const index = r.u32();
        names.set(index, r.name());
      }
    }
    r.pos = end;
  }
}

/** Split a module into its sections. */
export function readModule(bytes: Uint8Array): RawModule {
  const r = new Reader(bytes);
  const magic = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
  for (const b of magic) if (r.byte() !== b) r.fail("not a wasm module (bad magic or version)");
  const m: RawModule = {
    types: [], imports: [], funcTypes: [], memories: [], globals: [], exports: [], bodies: [], data: [],
    customs: [], refusedSections: [], names: new Map(),
  };
  while (!r.atEnd()) {
    const id = r.byte();
    const size = r.u32();
    const end = r.pos + size;
    if (end > bytes.length) r.fail(`section ${id} runs past the end`);
    const s = new Reader(bytes, r.pos, end);
    switch (id) {
      case 0: {
        const name = s.name();
        const body = bytes.subarray(s.pos, end);
        m.customs.push({ name, bytes: body });
        if (name === "name") {
          try {
            readNames(s, m.names);
          } catch {
            m.names.clear(); // a broken name section only costs us nicer messages
          }
        }
        break;
      }
      case 1:
        for (let n = s.u32(); n > 0; n--) {
          const form = s.byte();
          if (form !== 0x60) s.fail(`type form 0x${form.toString(16)} (only function types are supported)`);
          const params = Array.from({ length: s.u32() }, () => s.byte());
          const results = Array.from({ length: s.u32() }, () => s.byte());
          m.types.push({ params, results });
        }
        break;
      case 2:
        for (let n = s.u32(); n > 0; n--) {
          const module = s.name();
          const name = s.name();
          const kind = s.byte();
          let typeIndex = -1;
          if (kind === 0) typeIndex = s.u32();
          else if (kind === 1) { s.byte(); readLimits(s); }
          else if (kind === 2) readLimits(s);
          else if (kind === 3) { s.byte(); s.byte(); }
          else if (kind === 4) { s.byte(); s.u32(); }
          else s.fail(`unknown import kind ${kind}`);
          m.imports.push({ module, name, kind, typeIndex });
        }
        break;
      case 3:
        for (let n = s.u32(); n > 0; n--) m.funcTypes.push(s.u32());
        break;
      case 5:
        for (let n = s.u32(); n > 0; n--) m.memories.push(readLimits(s));
        break;
      case 6:
        for (let n = s.u32(); n > 0; n--) {
          const type = s.byte();
          const mutable = s.byte() === 1;
          const init = readConstExpr(s);
          m.globals.push({ type, mutable, init });
          if (!CONST_OPS.includes(init.op)) break; // a refused initializer: the rest cannot be read
        }
        break;
      case 7:
        for (let n = s.u32(); n > 0; n--) m.exports.push({ name: s.name(), kind: s.byte(), index: s.u32() });
        break;
      case 10:
        for (let n = s.u32(); n > 0; n--) {
          const bodySize = s.u32();
          const bodyEnd = s.pos + bodySize;
          const b = new Reader(bytes, s.pos, bodyEnd);
          const locals: { count: number; type: number }[] = [];
          for (let g = b.u32(); g > 0; g--) locals.push({ count: b.u32(), type: b.byte() });
          m.bodies.push({ locals, start: b.pos, end: bodyEnd });
          s.pos = bodyEnd;
        }
        break;
      case 11:
        for (let n = s.u32(); n > 0; n--) {
          const flags = s.u32();
          let offset: ConstExpr | undefined;
          if (flags === 0) offset = readConstExpr(s);
          else if (flags === 2) { s.u32(); offset = readConstExpr(s); }
          else if (flags !== 1) s.fail(`unknown data segment flags ${flags}`);
          const len = s.u32();
          const start = s.pos;
          s.skip(len);
          m.data.push({ flags, offset, bytes: bytes.subarray(start, start + len) });
        }
        break;
      case 12: // data count: only meaningful for bulk memory, harmless
        break;
      case 4: case 8: case 9: case 13:
        m.refusedSections.push(id);
        break;
      default:
        r.fail(`unknown section id ${id}`);
    }
    r.pos = end;
  }
  if (m.funcTypes.length !== m.bodies.length) throw new Error(`malformed wasm: ${m.funcTypes.length} functions declared but ${m.bodies.length} bodies`);
  return m;
}
