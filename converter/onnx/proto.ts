/**
 * Reading ONNX protobuf: the ModelProto (with a clear error for files that are not ONNX), the
 * default-domain opset, initializer and Constant tensors into ConstValues, and node attributes.
 * Tensors come from raw_data (little-endian, read through a DataView at the view's own byte
 * offset, since protobufjs hands out views into the file buffer), from the typed fields
 * (float_data, int32_data, int64_data, double_data, uint64_data) or from external data files
 * (data_location EXTERNAL: location/offset/length relative to the model's directory, read
 * through the confinement and size checks of common/model-files.ts).
 */
import pkg from "onnx-proto";
import type { onnx } from "onnx-proto";
import { I32_MAX, I32_MIN } from "../../lib/tensor/fixed.js";
import { sizeOf } from "../../lib/tensor/shape.js";
import { ModelFileError, readModelFile } from "../common/model-files.js";
import { constValue, type ConstValue, type ValueClass } from "../common/values.js";

const proto = pkg.onnx;
const DataType = proto.TensorProto.DataType;
const AttrType = proto.AttributeProto.AttributeType;
/** ONNX 1.16's 4-bit types, newer than onnx-proto's enum. */
const [UINT4, INT4] = [21, 22];

export type ModelProto = onnx.ModelProto;
export type NodeProto = onnx.INodeProto;
export type TensorProto = onnx.ITensorProto;
export type ValueInfoProto = onnx.IValueInfoProto;

/** protobufjs gives int64 fields as Long objects (or numbers): plain numbers here. */
export function num(v: number | { toNumber(): number } | null | undefined): number {
  return v === null || v === undefined ? 0 : typeof v === "number" ? v : v.toNumber();
}

/** Decode a model; a file that is not ONNX protobuf gets an error naming it and the reason. */
export function readModel(bytes: Uint8Array, source: string): ModelProto {
  let model: ModelProto;
  try {
    model = proto.ModelProto.decode(bytes);
  } catch (e) {
    throw new Error(`${source}: not an ONNX model: ${(e as Error).message}`);
  }
  if (!model.graph) throw new Error(`${source}: not an ONNX model: it has no graph`);
  if (!model.graph.output?.length) throw new Error(`${source}: not an ONNX model: the graph has no outputs`);
  return model;
}

/** The opset version of the default ("" or "ai.onnx") domain. */
export function defaultOpset(model: ModelProto, source: string): number {
  const entry = (model.opsetImport ?? []).find((o) => !o.domain || o.domain === "ai.onnx");
  if (!entry) throw new Error(`${source}: the model imports no opset of the default ONNX domain`);
  return num(entry.version);
}

/** Element class of an ONNX elem_type, or undefined for types detml cannot hold (string, complex). */
export function valueClassOf(dataType: number): ValueClass | undefined {
  switch (dataType) {
    case DataType.FLOAT: case DataType.DOUBLE: case DataType.FLOAT16: case DataType.BFLOAT16:
      return "float";
    case DataType.INT8: case DataType.UINT8: case DataType.INT16: case DataType.UINT16:
    case DataType.INT32: case DataType.UINT32: case DataType.INT64: case DataType.UINT64:
      return "int";
    case DataType.BOOL:
      return "bool";
    default:
      return undefined;
  }
}

/**
 * The range of an ONNX integer type (TensorProto.DataType) as far as detml's i32 integers hold
 * it: the 32- and 64-bit types are cut to i32 (unsigned ones from 0). Undefined for other types.
 */
export function integerTypeRange(dataType: number): [number, number] | undefined {
  const ranges: Record<number, [number, number]> = {
    [DataType.UINT8]: [0, 255], [DataType.INT8]: [-128, 127], [DataType.UINT16]: [0, 65535], [DataType.INT16]: [-32768, 32767],
    [DataType.INT32]: [I32_MIN, I32_MAX], [DataType.INT64]: [I32_MIN, I32_MAX], [DataType.UINT32]: [0, I32_MAX], [DataType.UINT64]: [0, I32_MAX],
    [UINT4]: [0, 15], [INT4]: [-8, 7],
  };
  return ranges[dataType];
}

export function dataTypeName(dataType: number): string {
  return DataType[dataType] ?? `type ${dataType}`;
}

function halfToFloat(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exp = (bits >> 10) & 0x1f;
  const frac = bits & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** Bytes per element and a little-endian reader for raw_data of each supported type. */
const RAW_READERS: Record<number, [number, (v: DataView, at: number) => number]> = {
  [DataType.FLOAT]: [4, (v, at) => v.getFloat32(at, true)],
  [DataType.DOUBLE]: [8, (v, at) => v.getFloat64(at, true)],
  [DataType.FLOAT16]: [2, (v, at) => halfToFloat(v.getUint16(at, true))],
  [DataType.BFLOAT16]: [2, (v, at) => new Float32Array(new Uint32Array([v.getUint16(at, true) << 16]).buffer)[0]],
  [DataType.INT8]: [1, (v, at) => v.getInt8(at)],
  [DataType.UINT8]: [1, (v, at) => v.getUint8(at)],
  [DataType.INT16]: [2, (v, at) => v.getInt16(at, true)],
  [DataType.UINT16]: [2, (v, at) => v.getUint16(at, true)],
  [DataType.INT32]: [4, (v, at) => v.getInt32(at, true)],
  [DataType.UINT32]: [4, (v, at) => v.getUint32(at, true)],
  [DataType.INT64]: [8, (v, at) => Number(v.getBigInt64(at, true))],
  [DataType.UINT64]: [8, (v, at) => Number(v.getBigUint64(at, true))],
  [DataType.BOOL]: [1, (v, at) => (v.getUint8(at) ? 1 : 0)],
};

function decodeRaw(raw: Uint8Array, dataType: number, count: number, what: string): Float64Array {
  const [width, read] = RAW_READERS[dataType];
  if (raw.byteLength !== width * count) {
    throw new Error(`${what}: raw data has ${raw.byteLength} bytes, ${count} values of ${dataTypeName(dataType)} need ${width * count}`);
  }
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const out = new Float64Array(count);
  for (let i = 0; i < count; i++) out[i] = read(view, i * width);
  return out;
}

/** Values from the typed repeated fields (the ONNX rules say which field holds which type). */
function decodeTyped(t: TensorProto, dataType: number): number[] {
  switch (dataType) {
    case DataType.FLOAT: return t.floatData ?? [];
    case DataType.DOUBLE: return t.doubleData ?? [];
    case DataType.INT64: return (t.int64Data ?? []).map(num);
    case DataType.UINT32: case DataType.UINT64: return (t.uint64Data ?? []).map(num);
    case DataType.FLOAT16: return (t.int32Data ?? []).map(halfToFloat);
    case DataType.BFLOAT16: return (t.int32Data ?? []).map((b) => new Float32Array(new Uint32Array([b << 16]).buffer)[0]);
    default: return t.int32Data ?? [];
  }
}

/** A decimal byte count of external_data (offset, length), or undefined when absent. */
function byteCount(entries: Map<string, string>, key: string, where: string): number | undefined {
  const v = entries.get(key);
  if (v === undefined) return undefined;
  if (!/^\d{1,15}$/.test(v.trim())) throw new ModelFileError(`${where}: external_data ${key} '${v}' is not a byte count`);
  return Number(v.trim());
}

/**
 * Reads tensors stored outside the model file (data_location EXTERNAL), each from its own byte
 * range, through readModelFile: confined to the model's folder, regular files only, and the range
 * must hold exactly the tensor's bytes (checked before reading).
 */
export class ExternalData {
  constructor(private readonly baseDir: string | undefined, private readonly source = "model.onnx") {}

  /** The raw bytes of `t`, which needs `expectedBytes`; `what` names the tensor in errors. */
  read(t: TensorProto, expectedBytes: number, what: string): Uint8Array {
    const entries = new Map((t.externalData ?? []).map((e) => [e.key ?? "", e.value ?? ""]));
    const location = entries.get("location");
    const where = `${this.source}: ${what}`;
    if (!location) throw new ModelFileError(`${where}: external data without a 'location'`);
    if (this.baseDir === undefined) throw new ModelFileError(`${where}: stored in external file '${location}', but no model directory is known to find it (pass baseDir)`);
    const offset = byteCount(entries, "offset", where);
    const length = byteCount(entries, "length", where);
    return readModelFile(this.baseDir, location, { offset, length, expectedBytes }, `${where}: external_data location '${location}'`);
  }
}

/** An ONNX tensor as a ConstValue; `what` names it in errors. */
export function tensorValue(t: TensorProto, external: ExternalData, what: string): ConstValue {
  const dataType = t.dataType ?? 0;
  const dtype = valueClassOf(dataType);
  if (!dtype) throw new Error(`${what}: tensors of type ${dataTypeName(dataType)} are not supported`);
  if (t.segment) throw new Error(`${what}: segmented tensors are not supported`);
  const shape = (t.dims ?? []).map(num);
  if (!shape.every((d) => Number.isSafeInteger(d) && d >= 0)) throw new Error(`${what}: dims [${shape.join(",")}] must be integers >= 0`);
  const count = sizeOf(shape);
  let data: ArrayLike<number>;
  if (t.dataLocation === proto.TensorProto.DataLocation.EXTERNAL) data = decodeRaw(external.read(t, RAW_READERS[dataType][0] * count, what), dataType, count, what);
  else if (t.rawData && t.rawData.byteLength > 0) data = decodeRaw(t.rawData, dataType, count, what);
  else data = decodeTyped(t, dataType);
  if (data.length !== count) throw new Error(`${what}: has ${data.length} values, its dims [${shape.join(",")}] need ${count}`);
  return constValue(dtype, shape, data);
}

export type OnnxAttr = number | number[] | string | string[] | TensorProto | TensorProto[] | undefined;

const textDecoder = new TextDecoder();

/** A node attribute's value by its declared type (or, in old files without one, by the field set). */
export function attrValue(a: onnx.IAttributeProto): OnnxAttr {
  let type = a.type ?? AttrType.UNDEFINED;
  if (type === AttrType.UNDEFINED) {
    type = a.floats?.length ? AttrType.FLOATS : a.ints?.length ? AttrType.INTS : a.strings?.length ? AttrType.STRINGS
      : a.t ? AttrType.TENSOR : a.s?.length ? AttrType.STRING : Object.hasOwn(a, "f") ? AttrType.FLOAT : AttrType.INT;
  }
  switch (type) {
    case AttrType.FLOAT: return a.f ?? 0;
    case AttrType.INT: return num(a.i);
    case AttrType.STRING: return textDecoder.decode(a.s ?? new Uint8Array());
    case AttrType.TENSOR: return a.t ?? undefined;
    case AttrType.FLOATS: return [...(a.floats ?? [])];
    case AttrType.INTS: return (a.ints ?? []).map(num);
    case AttrType.STRINGS: return (a.strings ?? []).map((s) => textDecoder.decode(s));
    case AttrType.TENSORS: return a.tensors ?? [];
    default: return undefined;
  }
}
