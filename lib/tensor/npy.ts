/**
 * The .npy codec (numpy's array file format, versions 1.0, 2.0 and 3.0): the magic "\x93NUMPY",
 * a version, a little-endian header length, a header that is a Python dict literal
 * {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), } and the raw C-order data. We read
 * little-endian float32/float64/int32/int64/uint8/bool arrays (int64 values must fit in int32,
 * detml's storage type), turn them into Tensors (floats quantized at a chosen frac, integers at
 * frac 0) and write float32/float64/int32 arrays in format 1.0 with the data aligned to 64 bytes,
 * as numpy does. Every malformed file is an NpyError naming the file and the problem.
 */
import { sizeOf } from "./shape.js";
import { Tensor } from "./tensor.js";

export class NpyError extends Error {
  override name = "NpyError";
}

export type NpyDtype = "float32" | "float64" | "int32" | "int64" | "uint8" | "bool";

export interface NpyArray {
  shape: number[];
  dtype: NpyDtype;
  /** Row-major values; int64 arrives as Int32Array (range-checked), bool as 0/1 in a Uint8Array. */
  data: Float32Array | Float64Array | Int32Array | Uint8Array;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // "\x93NUMPY"
const ALIGN = 64;

/** Type code + item size of a descr (byte order removed) -> dtype. */
const DTYPES: Record<string, NpyDtype> = { f4: "float32", f8: "float64", i4: "int32", i8: "int64", u1: "uint8", b1: "bool" };
const SUPPORTED = "use float32, float64, int32, int64, uint8 or bool";

/** A Python literal as found in .npy headers. */
type PyValue = string | number | boolean | null | PyValue[] | Map<PyValue, PyValue>;

/**
 * Parser for the Python literal subset numpy writes in headers: dicts, tuples, lists, quoted
 * strings, integers (an old "L" suffix allowed), True, False and None.
 */
class HeaderParser {
  private pos = 0;
  /** Nesting depth, bounded so that a hostile header cannot overflow the stack. */
  private depth = 0;
  constructor(private readonly text: string, private readonly fail: (msg: string) => never) {}

  parse(): PyValue {
    const v = this.value();
    this.skipSpace();
    if (this.pos < this.text.length) this.fail(`unexpected text after the header dict at column ${this.pos}`);
    return v;
  }

  private skipSpace(): void {
    while (this.pos < this.text.length && /\s/.test(this.text[this.pos])) this.pos++;
  }

  private value(): PyValue {
    this.skipSpace();
    const ch = this.text[this.pos];
    if (ch === "{" || ch === "(" || ch === "[") {
      if (++this.depth > 16) this.fail("the header dict is nested too deeply");
      const v = ch === "{" ? this.dict() : this.sequence(ch === "(" ? ")" : "]");
      this.depth--;
      return v;
    }
    if (ch === "'" || ch === '"') return this.string(ch);
    const word = /^(-?\d+)L?|^(True|False|None)\b/.exec(this.text.slice(this.pos));
    if (!word) this.fail(ch === undefined ? "the header dict is cut short" : `unexpected '${ch}' at column ${this.pos}`);
    this.pos += word[0].length;
    if (word[1] !== undefined) return Number(word[1]);
    return word[2] === "None" ? null : word[2] === "True";
  }

  private expect(ch: string): void {
    this.skipSpace();
    if (this.text[this.pos] !== ch) this.fail(`expected '${ch}' at column ${this.pos}`);
    this.pos++;
  }

  /** Items up to `close`, separated by commas, a trailing comma allowed. */
  private items(close: string, item: () => void): void {
    for (;;) {
      this.skipSpace();
      if (this.text[this.pos] === close) break;
      item();
      this.skipSpace();
      if (this.text[this.pos] !== ",") break;
      this.pos++;
    }
    this.expect(close);
  }

  private dict(): Map<PyValue, PyValue> {
    this.pos++;
    const out = new Map<PyValue, PyValue>();
    this.items("}", () => {
      const key = this.value();
      this.expect(":");
      out.set(key, this.value());
    });
    return out;
  }

  private sequence(close: string): PyValue[] {
    this.pos++;
    const out: PyValue[] = [];
    this.items(close, () => out.push(this.value()));
    return out;
  }

  private string(quote: string): string {
    const end = this.text.indexOf(quote, this.pos + 1);
    if (end < 0) this.fail("a string in the header dict is not closed");
    const s = this.text.slice(this.pos + 1, end);
    if (s.includes("\\")) this.fail(`escape sequences in header strings are not supported: ${s}`);
    this.pos = end + 1;
    return s;
  }
}

/** The header dict's fields, validated. */
function readHeader(text: string, fail: (msg: string) => never): { dtype: NpyDtype; itemSize: number; shape: number[] } {
  const header = new HeaderParser(text, (msg) => fail(`malformed header: ${msg}`)).parse();
  if (!(header instanceof Map)) fail("malformed header: it is not a dict");
  const keys = [...header.keys()].map(String).sort().join(", ");
  if (keys !== "descr, fortran_order, shape") fail(`malformed header: keys are {${keys}}, expected {descr, fortran_order, shape}`);
  const descr = header.get("descr");
  if (typeof descr !== "string") fail(`dtype ${JSON.stringify(descr)} (a structured dtype) is not supported; ${SUPPORTED}`);
  const parts = /^([<>|=]?)([a-z]\d+)$/.exec(descr);
  const dtype = parts ? DTYPES[parts[2]] : undefined;
  if (!parts || !dtype) fail(`dtype ${descr} is not supported; ${SUPPORTED}`);
  const multiByte = !["uint8", "bool"].includes(dtype);
  if (multiByte && parts[1] === ">") fail(`dtype ${descr} is big-endian; save it little-endian (numpy: a.astype('<${parts[2]}'))`);
  if (multiByte && parts[1] !== "<") fail(`dtype ${descr} has no explicit little-endian byte order ('<'); ${SUPPORTED}`);
  const fortran = header.get("fortran_order");
  if (typeof fortran !== "boolean") fail(`malformed header: fortran_order is ${JSON.stringify(fortran)}, not True or False`);
  if (fortran) fail("fortran_order True (column-major data) is not supported; save a C-order array (numpy.ascontiguousarray)");
  const shape = header.get("shape");
  if (!Array.isArray(shape) || !shape.every((d) => typeof d === "number" && Number.isSafeInteger(d) && d >= 0)) {
    fail(`malformed header: shape ${JSON.stringify(shape)} is not a tuple of non-negative integers`);
  }
  return { dtype, itemSize: Number(parts[2].slice(1)), shape: shape as number[] };
}

/** Parse a .npy file. `source` (e.g. the path) prefixes every error message. */
export function readNpy(bytes: Uint8Array, source = ".npy"): NpyArray {
  const fail = (msg: string): never => {
    throw new NpyError(`${source}: ${msg}`);
  };
  if (bytes.length < 10 || !MAGIC.every((b, i) => bytes[i] === b)) fail("not a .npy file (bad magic; expected \\x93NUMPY)");
  const [major, minor] = [bytes[6], bytes[7]];
  if (![1, 2, 3].includes(major) || minor !== 0) fail(`unsupported .npy format version ${major}.${minor} (supported: 1.0, 2.0, 3.0)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (major > 1 && bytes.length < 12) fail("truncated header length");
  const headerStart = major === 1 ? 10 : 12;
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const dataStart = headerStart + headerLength;
  if (dataStart > bytes.length) fail(`truncated header: it declares ${headerLength} bytes, the file has ${bytes.length - headerStart} after the length`);
  const headerBytes = bytes.subarray(headerStart, dataStart);
  let text: string;
  if (major === 3) {
    try {
      text = new TextDecoder("utf-8", { fatal: true }).decode(headerBytes);
    } catch {
      return fail("malformed header: it is not valid UTF-8");
    }
  } else {
    text = Array.from(headerBytes, (b) => String.fromCharCode(b)).join(""); // latin-1
  }
  const { dtype, itemSize, shape } = readHeader(text, fail);
  // Element counts must stay exact. Beyond 2^53 they round, and past the double range they
  // become Infinity, which a zero dimension turns into NaN (a count every size check passes).
  if (shape.reduce((n, d) => (d > 0 ? n * d : n), 1) > Number.MAX_SAFE_INTEGER) {
    fail(`shape [${shape.join(",")}] is too large: its dimensions multiply past 2^53`);
  }
  const count = sizeOf(shape);
  const need = count * itemSize;
  const have = bytes.length - dataStart;
  if (have < need) fail(`truncated data: shape [${shape.join(",")}] of ${dtype} needs ${need} bytes, the file has ${have}`);
  if (have > need) fail(`${have - need} unexpected bytes after the data (shape [${shape.join(",")}] of ${dtype} needs ${need})`);
  return { shape, dtype, data: decodeData(view, dataStart, count, dtype, fail) };
}

function decodeData(view: DataView, start: number, count: number, dtype: NpyDtype, fail: (msg: string) => never): NpyArray["data"] {
  switch (dtype) {
    case "float32": {
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getFloat32(start + 4 * i, true);
      return out;
    }
    case "float64": {
      const out = new Float64Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getFloat64(start + 8 * i, true);
      return out;
    }
    case "int32": {
      const out = new Int32Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getInt32(start + 4 * i, true);
      return out;
    }
    case "int64": {
      const out = new Int32Array(count);
      for (let i = 0; i < count; i++) {
        const v = view.getBigInt64(start + 8 * i, true);
        if (v !== BigInt.asIntN(32, v)) fail(`int64 value ${v} at index ${i} does not fit in int32 (detml tensors are 32-bit)`);
        out[i] = Number(v);
      }
      return out;
    }
    case "uint8":
    case "bool": {
      const out = new Uint8Array(count);
      for (let i = 0; i < count; i++) {
        const b = view.getUint8(start + i);
        out[i] = dtype === "bool" && b !== 0 ? 1 : b;
      }
      return out;
    }
  }
}

/** A Tensor from a parsed array: float dtypes quantized at `frac`, integer and bool dtypes at frac 0. */
export function npyToTensor(npy: NpyArray, frac: number): Tensor {
  const isFloat = npy.dtype === "float32" || npy.dtype === "float64";
  return isFloat ? Tensor.fromFloat(npy.data, npy.shape, frac) : Tensor.fromInts(npy.data, npy.shape);
}

/** Encode a C-order array as a version 1.0 .npy file (descr <f4, <f8 or <i4 from the array type). */
export function writeNpy(shape: readonly number[], data: Float32Array | Float64Array | Int32Array): Uint8Array {
  if (data.length !== sizeOf(shape)) throw new NpyError(`writeNpy: shape [${shape.join(",")}] needs ${sizeOf(shape)} values, got ${data.length}`);
  const [descr, itemSize] = data instanceof Float32Array ? ["<f4", 4] : data instanceof Float64Array ? ["<f8", 8] : ["<i4", 4];
  const tuple = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(", ")})`;
  const dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${tuple}, }`;
  const headerLength = Math.ceil((10 + dict.length + 1) / ALIGN) * ALIGN - 10;
  const header = dict.padEnd(headerLength - 1, " ") + "\n";
  const out = new Uint8Array(10 + headerLength + data.length * itemSize);
  out.set(MAGIC);
  out[6] = 1;
  const view = new DataView(out.buffer);
  view.setUint16(8, headerLength, true);
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  const dataStart = 10 + headerLength;
  const put = data instanceof Float32Array ? (at: number, v: number) => view.setFloat32(at, v, true)
    : data instanceof Float64Array ? (at: number, v: number) => view.setFloat64(at, v, true)
    : (at: number, v: number) => view.setInt32(at, v, true);
  for (let i = 0; i < data.length; i++) put(dataStart + itemSize * i, data[i]);
  return out;
}
