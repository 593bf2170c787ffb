/**
 * TF.js weights: the `weightsManifest` of a model.json (groups of shard files, each group listing
 * the tensors stored back to back in its shards) decoded by TF.js's own rules into float64
 * ConstValues. As in TF.js, the shards of all groups are read in order and the tensors are cut
 * from them in manifest order; float32, int32 and bool are stored raw (little endian); a
 * `quantization` entry stores each float32/int32 value as uint8/uint16 `q` meaning q*scale + min
 * (float32: rounded to float32; int32: Math.round), or float32 values as IEEE float16. A shard that
 * cannot be read, or shards holding other than the bytes the manifest's tensors need, are an error
 * naming the shard (loadShards: sizes are checked before a shard file is read).
 * String and complex tensors are measured (to find the tensors after them) but not decoded: they
 * are an error only if the graph uses them.
 */
import { sizeOf } from "../../lib/tensor/shape.js";
import { ModelFileError } from "../common/model-files.js";
import { constValue, type ConstValue } from "../common/values.js";

export interface WeightQuantization {
  dtype: "uint8" | "uint16" | "float16";
  min?: number;
  scale?: number;
}

export interface WeightEntry {
  name: string;
  shape: number[];
  dtype: string;
  quantization?: WeightQuantization;
}

export interface WeightGroup {
  paths: string[];
  weights: WeightEntry[];
}

/**
 * What readWeights tells a loader about a shard: `maxBytes`, the most the manifest's remaining
 * weights can need (a larger file is an error, found by a file loader with stat before reading),
 * and `where`, the opening of an error about it (model file, weights, quoted path).
 */
export interface ShardRequest {
  maxBytes: number;
  where: string;
}

/**
 * Reads one shard by its manifest path (relative to model.json); throws when it cannot. A loader
 * of files should use readModelFile (common/model-files.ts) with the request, as shardsBeside does.
 */
export type ShardLoader = (path: string, request: ShardRequest) => Uint8Array;

/** A decoded weight, or why it could not be decoded (used only if the graph reads it). */
export type Weight = { value: ConstValue } | { unsupported: string };

const RAW_BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1, complex64: 8 };
const QUANT_BYTES: Record<string, number> = { uint8: 1, uint16: 2, float16: 2 };

/** Check the manifest's structure; errors say what is wrong where. */
export function checkManifest(manifest: unknown, source: string): WeightGroup[] {
  if (manifest === undefined) return [];
  if (!Array.isArray(manifest)) throw new Error(`${source}: weightsManifest must be a list of weight groups`);
  manifest.forEach((group: Partial<WeightGroup>, g) => {
    const where = `${source}: weightsManifest[${g}]`;
    if (!group || !Array.isArray(group.paths) || !group.paths.every((p) => typeof p === "string")) throw new Error(`${where} has no list of shard paths`);
    if (!Array.isArray(group.weights)) throw new Error(`${where} has no list of weights`);
    for (const w of group.weights) {
      if (!w || typeof w.name !== "string" || !Array.isArray(w.shape) || !w.shape.every((d) => Number.isInteger(d) && d >= 0) || typeof w.dtype !== "string") {
        throw new Error(`${where}: weight ${JSON.stringify(w).slice(0, 120)} needs a name, a shape of non-negative ints and a dtype`);
      }
      const q = w.quantization;
      if (q && !(q.dtype in QUANT_BYTES)) throw new Error(`${where}: weight '${w.name}' has quantization dtype '${q.dtype}' (TF.js knows uint8, uint16, float16)`);
      if (q && q.dtype !== "float16" && !(typeof q.min === "number" && typeof q.scale === "number")) throw new Error(`${where}: weight '${w.name}' is ${q.dtype}-quantized but lacks min and scale`);
      if (q && q.dtype === "float16" && w.dtype !== "float32") throw new Error(`${where}: weight '${w.name}' is float16-quantized but has dtype ${w.dtype} (only float32 can be)`);
      if (!q && !(w.dtype in RAW_BYTES) && w.dtype !== "string") throw new Error(`${where}: weight '${w.name}' has dtype '${w.dtype}', which TF.js does not store`);
    }
  });
  return manifest as WeightGroup[];
}

/** IEEE 754 half precision bits to a number (exact). */
export function float16ToNumber(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const mantissa = bits & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 0x1f) return mantissa ? NaN : sign * Infinity;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}

/** Bytes a weight takes in its shard when that follows from the manifest (all but strings). */
function fixedByteLength(w: WeightEntry): number | undefined {
  if (w.dtype === "string" && !w.quantization) return undefined;
  return sizeOf(w.shape) * (w.quantization ? QUANT_BYTES[w.quantization.dtype] : RAW_BYTES[w.dtype]);
}

/** Bytes a weight takes in its shard; strings are measured in place (4-byte length prefixes). */
function byteLength(w: WeightEntry, bytes: Uint8Array, offset: number): number {
  const fixed = fixedByteLength(w);
  if (fixed !== undefined) return fixed;
  const size = sizeOf(w.shape);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let length = 0;
  for (let i = 0; i < size; i++) {
    if (offset + length + 4 > bytes.byteLength) return Infinity;
    length += 4 + view.getUint32(offset + length, true);
  }
  return length;
}

function decode(w: WeightEntry, bytes: Uint8Array, offset: number): Weight {
  const size = sizeOf(w.shape);
  const view = new DataView(bytes.buffer, bytes.byteOffset + offset, bytes.byteLength - offset);
  const values = new Float64Array(size);
  const q = w.quantization;
  if (q) {
    const read = q.dtype === "uint8" ? (i: number) => view.getUint8(i) : (i: number) => view.getUint16(2 * i, true);
    if (q.dtype === "float16") for (let i = 0; i < size; i++) values[i] = float16ToNumber(read(i));
    else if (w.dtype === "float32") for (let i = 0; i < size; i++) values[i] = Math.fround(read(i) * q.scale! + q.min!);
    else if (w.dtype === "int32") for (let i = 0; i < size; i++) values[i] = Math.round(read(i) * q.scale! + q.min!);
    else return { unsupported: `it has dtype ${w.dtype} with ${q.dtype} quantization, which TF.js cannot decode` };
    return { value: constValue(w.dtype === "int32" ? "int" : "float", w.shape, values) };
  }
  switch (w.dtype) {
    case "float32":
      for (let i = 0; i < size; i++) values[i] = view.getFloat32(4 * i, true);
      return { value: constValue("float", w.shape, values) };
    case "int32":
      for (let i = 0; i < size; i++) values[i] = view.getInt32(4 * i, true);
      return { value: constValue("int", w.shape, values) };
    case "bool":
      for (let i = 0; i < size; i++) values[i] = view.getUint8(i) ? 1 : 0;
      return { value: constValue("bool", w.shape, values) };
    default:
      return { unsupported: `it is a ${w.dtype} tensor, which detml does not support` };
  }
}

const listNames = (weights: WeightEntry[]): string => {
  const names = weights.slice(0, 2).map((w) => `'${w.name}'`).join(", ");
  return weights.length > 2 ? `${names} and ${weights.length - 2} more` : names || "none";
};

/**
 * Load every shard of every group, in order. The bytes the manifest's weights need are known up
 * front (unless a string tensor is measured in place), so each shard may be at most what is still
 * needed, which a file loader checks before reading: a shard that would take the total past the
 * need is an error naming the model file, the group's weights and the shard (readWeights finds
 * the shortfalls, naming the weight cut off). Used by readWeights and by the TF.js oracle, which
 * read the same bytes.
 */
export function loadShards(groups: WeightGroup[], load: ShardLoader, source: string): Uint8Array[][] {
  const sizes = groups.flatMap((g) => g.weights.map(fixedByteLength));
  const need = sizes.includes(undefined) ? Infinity : sizes.reduce((s: number, b) => s + b!, 0);
  let loaded = 0;
  const out = groups.map((group, g) => group.paths.map((path, k) => {
    const where = `${source}: weight shard '${path}' (group ${g + 1}, shard ${k + 1} of ${group.paths.length}, weights ${listNames(group.weights)})`;
    const request = { maxBytes: need - loaded, where };
    let bytes: Uint8Array;
    try {
      bytes = load(path, request);
    } catch (e) {
      if (e instanceof ModelFileError) throw e;
      throw new ModelFileError(`${where} cannot be read: ${(e as Error).message}`);
    }
    // Loaders that do not stat (in memory) are held to the same bound here.
    if (bytes.byteLength > request.maxBytes) throw new ModelFileError(`${where} has ${bytes.byteLength} bytes, more than the ${request.maxBytes} the manifest's remaining weights need`);
    loaded += bytes.byteLength;
    return bytes;
  }));
  return out;
}

/**
 * Read every shard and decode every weight. Shards are concatenated per group; a group whose
 * shards hold fewer bytes than its weights need is an error naming the group, its shards and the
 * first weight cut off, and bytes left after the last weight are an error too.
 */
export function readWeights(groups: WeightGroup[], load: ShardLoader, source: string): Map<string, Weight> {
  const out = new Map<string, Weight>();
  const loaded = loadShards(groups, load, source);
  let carry = new Uint8Array(0);
  groups.forEach((group, g) => {
    const shards = loaded[g];
    // TF.js concatenates all shards of all groups; bytes left over by one group belong to the next.
    const total = carry.byteLength + shards.reduce((s, b) => s + b.byteLength, 0);
    const bytes = new Uint8Array(total);
    bytes.set(carry, 0);
    let at = carry.byteLength;
    for (const b of shards) {
      bytes.set(b, at);
      at += b.byteLength;
    }
    let offset = 0;
    for (const w of group.weights) {
      const length = byteLength(w, bytes, offset);
      if (offset + length > bytes.byteLength) {
        const have = shards.map((b, k) => `'${group.paths[k]}' ${b.byteLength} bytes`).join(", ");
        throw new Error(`${source}: weight shards of group ${g + 1} are short: weight '${w.name}' (${w.dtype}${w.quantization ? ` as ${w.quantization.dtype}` : ""} [${w.shape.join(",")}]) needs bytes ${offset}..${offset + length} but the group holds ${bytes.byteLength} (${have || "no shards"}): a shard is missing or truncated`);
      }
      if (out.has(w.name)) throw new Error(`${source}: weight '${w.name}' appears twice in weightsManifest`);
      out.set(w.name, decode(w, bytes, offset));
      offset += length;
    }
    carry = bytes.slice(offset);
  });
  // Only reachable with string weights, whose size the manifest does not give.
  if (carry.byteLength > 0) throw new ModelFileError(`${source}: the weight shards hold ${carry.byteLength} bytes after the last weight: a shard does not belong to this manifest`);
  return out;
}
