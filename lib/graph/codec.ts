/**
 * The .detml file: one self-checking binary holding a whole graph.
 *
 *   bytes 0..7    magic "DETML\0\r\n" (the CR/LF pair catches text-mode mangling)
 *   bytes 8..11   format version (u32 LE): 4 (1, 2 and 3, read only, are older: see below)
 *   bytes 12..15  header length H (u32 LE)
 *   16..16+H      header: canonical JSON (graph frac, inputs, outputs, nodes with a node's own frac
 *                 when it has one, constants' shape/frac/offset
 *                 and a narrow constant's storage {bits, axis, shifts})
 *   ...           zero padding to a multiple of 64, then the weights: every constant's i32 data,
 *                 little-endian, each starting at a multiple of 64 bytes from the weights start; a
 *                 narrow constant holds its q (value >> shift of its channel) at 1 or 2 bytes each
 *   last 32       SHA-256 of everything before it (integrity)
 *
 * Versions 1 (no narrow constants) and 2 have the same layout with a keccak256 trailer; both still
 * decode. Version 4 added a node's own frac (lib/graph/ir.ts `Node.frac`, from calibration): a
 * version 3 reader would ignore it and compute at the graph's frac, so the version changed with
 * it; version 3 files (no node fracs) still decode. Version 3 moved to SHA-256 because hashing is most of the cost of reading and writing a
 * large model, and node's SHA-256 is native (about 1.5 GB/s here) while keccak256 runs in JS (about
 * 25 MB/s: 25 s for GPT-2 small's 619 MiB file): the trailer is an integrity check and the source
 * hash a label, neither is checked on chain. Narrow q are expanded to q << shift on decoding, and
 * a q whose shifted value leaves the i32 range is refused (lib/tensor/narrow.ts).
 *
 * Canonical: constants are sorted by name, attributes by key and fully resolved, JSON has fixed
 * key order and no whitespace, padding is zero, so the same graph always gives the same bytes.
 */
import { createHash } from "node:crypto";
import { keccak_256 } from "@noble/hashes/sha3.js";
import { resolveAttrs, opDef, type Attrs } from "../ops/index.js";
import { expandNarrow, type NarrowStorage, narrowValues, storageProblem } from "../tensor/narrow.js";
import { Tensor } from "../tensor/tensor.js";
import { sizeOf } from "../tensor/shape.js";
import type { Graph, Node, ValueInfo } from "./ir.js";
import { inferTypes } from "./validate.js";

const MAGIC = new Uint8Array([0x44, 0x45, 0x54, 0x4d, 0x4c, 0x00, 0x0d, 0x0a]);
export const FORMAT_VERSION = 4;
/** Older versions still read: 1 (no narrow constants) and 2, both with a keccak256 trailer. */
const KECCAK_VERSIONS = [1, 2];
/** Older versions with a SHA-256 trailer, still read: 3 (no node fracs). */
const SHA_VERSIONS = [3, FORMAT_VERSION];
const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest();
const ALIGN = 64;
const DIGEST = 32;

export class FormatError extends Error {
  override name = "FormatError";
}

interface ConstantEntry {
  name: string;
  shape: number[];
  frac: number;
  offset: number;
  storage?: NarrowStorage;
}

interface Header {
  frac: number;
  inputs: ValueInfo[];
  outputs: string[];
  nodes: Node[];
  constants: ConstantEntry[];
  metadata: Record<string, string>;
}

const align = (n: number) => Math.ceil(n / ALIGN) * ALIGN;

/** Bytes per stored element of a constant: 4, or its narrow width. */
const elementBytes = (c: ConstantEntry) => (c.storage ? c.storage.bits / 8 : 4);

function sortedAttrs(attrs: Attrs): Attrs {
  return Object.fromEntries(Object.keys(attrs).sort().map((k) => [k, attrs[k]]));
}

function sortedRecord(r: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.keys(r).sort().map((k) => [k, r[k]]));
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
type IntArray = typeof Int8Array | typeof Int16Array | typeof Int32Array;
const ARRAY_OF: Record<number, IntArray> = { 1: Int8Array, 2: Int16Array, 4: Int32Array };

/**
 * Write signed integers of `width` bytes (1, 2 or 4), little-endian, at `at`: through a typed
 * array view when the host is little-endian and `at` is aligned (a memcpy-speed copy; per-element
 * DataView calls took 6 s for GPT-2 small), else element by element.
 */
function writeElements(bytes: Uint8Array, at: number, width: number, values: ArrayLike<number>): void {
  if (LITTLE_ENDIAN && (bytes.byteOffset + at) % width === 0) {
    new ARRAY_OF[width](bytes.buffer as ArrayBuffer, bytes.byteOffset + at, values.length).set(values);
    return;
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const set = width === 1 ? view.setInt8.bind(view) : width === 2 ? view.setInt16.bind(view) : view.setInt32.bind(view);
  for (let i = 0; i < values.length; i++) set(at + width * i, values[i], true);
}

/** Read `n` signed little-endian integers of `width` bytes from `at` into an Int32Array (writeElements' inverse). */
function readElements(bytes: Uint8Array, at: number, width: number, n: number): Int32Array {
  const out = new Int32Array(n);
  if (LITTLE_ENDIAN && (bytes.byteOffset + at) % width === 0) {
    out.set(new ARRAY_OF[width](bytes.buffer as ArrayBuffer, bytes.byteOffset + at, n));
    return out;
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const get = width === 1 ? view.getInt8.bind(view) : width === 2 ? view.getInt16.bind(view) : view.getInt32.bind(view);
  for (let i = 0; i < n; i++) out[i] = get(at + width * i, true);
  return out;
}

/** Serialize a graph (validated first) to canonical .detml bytes. */
export function encodeGraph(graph: Graph): Uint8Array {
  inferTypes(graph);
  const names = [...graph.constants.keys()].sort();
  let offset = 0;
  const constants: ConstantEntry[] = names.map((name) => {
    const t = graph.constants.get(name)!;
    const entry: ConstantEntry = { name, shape: [...t.shape], frac: t.frac, offset };
    if (t.storage) entry.storage = { bits: t.storage.bits, axis: t.storage.axis, shifts: [...t.storage.shifts] };
    offset = align(offset + t.size * elementBytes(entry));
    return entry;
  });
  const header: Header = {
    frac: graph.frac,
    inputs: graph.inputs.map((v) => ({ name: v.name, shape: [...v.shape], frac: v.frac })),
    outputs: [...graph.outputs],
    nodes: graph.nodes.map((n) => ({
      name: n.name,
      op: n.op,
      inputs: [...n.inputs],
      outputs: [...n.outputs],
      attrs: sortedAttrs(resolveAttrs(opDef(n.op), n.attrs)),
      ...(n.frac !== undefined && { frac: n.frac }),
    })),
    constants,
    metadata: sortedRecord(graph.metadata),
  };
  const json = new TextEncoder().encode(JSON.stringify(header));
  const weightsStart = align(16 + json.length);
  const total = weightsStart + offset + DIGEST;
  const bytes = new Uint8Array(total);
  const view = new DataView(bytes.buffer);
  bytes.set(MAGIC, 0);
  view.setUint32(8, FORMAT_VERSION, true);
  view.setUint32(12, json.length, true);
  bytes.set(json, 16);
  for (const c of constants) {
    const t = graph.constants.get(c.name)!;
    const data = c.storage ? narrowValues(t.shape, t.data, c.storage) : t.data;
    writeElements(bytes, weightsStart + c.offset, elementBytes(c), data);
  }
  bytes.set(sha256(bytes.subarray(0, total - DIGEST)), total - DIGEST);
  return bytes;
}

/** Parse and validate .detml bytes; `source` (a file name) prefixes every error. */
export function decodeGraph(bytes: Uint8Array, source = "model"): Graph {
  const fail = (msg: string): never => {
    throw new FormatError(`${source}: ${msg}`);
  };
  if (bytes.length < 16 + DIGEST || !MAGIC.every((b, i) => bytes[i] === b)) {
    fail("not a .detml file (bad magic or too short)");
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint32(8, true);
  if (!SHA_VERSIONS.includes(version) && !KECCAK_VERSIONS.includes(version)) {
    fail(`.detml format version ${version} is not supported (this detml reads versions ${[...KECCAK_VERSIONS, ...SHA_VERSIONS].join(", ")})`);
  }
  const body = bytes.subarray(0, bytes.length - DIGEST);
  const digest = SHA_VERSIONS.includes(version) ? sha256(body) : keccak_256(body);
  if (!digest.every((b, i) => bytes[bytes.length - DIGEST + i] === b)) {
    fail("corrupt .detml file (checksum mismatch: the file was truncated or modified)");
  }
  const headerLength = view.getUint32(12, true);
  if (16 + headerLength > bytes.length - DIGEST) fail("corrupt .detml file (header runs past the end)");
  let header: Header;
  try {
    header = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(16, 16 + headerLength)));
  } catch (e) {
    return fail(`corrupt .detml header: ${(e as Error).message}`);
  }
  checkHeaderShape(header, fail);
  if (version === 1 && header.constants.some((c) => c.storage)) fail("corrupt .detml header (narrow storage in a version 1 file)");
  if (version < 4 && header.nodes.some((n) => n.frac !== undefined)) fail(`corrupt .detml header (a node frac in a version ${version} file)`);
  const weightsStart = align(16 + headerLength);
  const weightsEnd = bytes.length - DIGEST;
  const constants = new Map<string, Tensor>();
  for (const c of header.constants) {
    const n = sizeOf(c.shape);
    const start = weightsStart + c.offset;
    if (c.storage) c.storage = { bits: c.storage.bits, axis: c.storage.axis, shifts: c.storage.shifts };
    const problem = c.storage && storageProblem(c.shape, c.storage);
    if (problem) fail(`constant '${c.name}': ${problem}`);
    const width = elementBytes(c);
    if (c.offset % ALIGN !== 0 || start + width * n > weightsEnd) fail(`constant '${c.name}' lies outside the weights section`);
    let data = readElements(bytes, start, width, n);
    if (c.storage) {
      const expanded = expandNarrow(c.shape, data, c.storage);
      if (typeof expanded === "string") return fail(`constant '${c.name}': stored values do not match its narrow storage: ${expanded}`);
      data = expanded;
    }
    try {
      constants.set(c.name, new Tensor(c.shape, data, c.frac, c.storage));
    } catch (e) {
      fail(`constant '${c.name}': ${(e as Error).message}`);
    }
  }
  const graph: Graph = {
    frac: header.frac,
    inputs: header.inputs,
    outputs: header.outputs,
    constants,
    nodes: header.nodes,
    metadata: header.metadata,
  };
  try {
    inferTypes(graph);
  } catch (e) {
    fail((e as Error).message);
  }
  return graph;
}

/** Structural checks on the parsed JSON so later code can trust field types. */
function checkHeaderShape(h: Header, fail: (msg: string) => never): void {
  const isInt = (x: unknown) => typeof x === "number" && Number.isInteger(x);
  const isStr = (x: unknown) => typeof x === "string";
  const isShape = (x: unknown) => Array.isArray(x) && x.every((d) => isInt(d) && d >= 0);
  const isList = (x: unknown, item: (y: unknown) => boolean) => Array.isArray(x) && x.every(item);
  const ok =
    h !== null && typeof h === "object" && isInt(h.frac) &&
    isList(h.inputs, (v: any) => isStr(v?.name) && isShape(v.shape) && isInt(v.frac)) &&
    isList(h.outputs, isStr) &&
    isList(h.constants, (c: any) => isStr(c?.name) && isShape(c.shape) && isInt(c.frac) && isInt(c.offset) && c.offset >= 0 &&
      (c.storage === undefined || (c.storage !== null && isInt(c.storage.bits) && isInt(c.storage.axis) && isList(c.storage.shifts, isInt)))) &&
    isList(h.nodes, (n: any) => isStr(n?.name) && isStr(n.op) && isList(n.inputs, isStr) && isList(n.outputs, isStr) &&
      n.attrs !== null && typeof n.attrs === "object" && !Array.isArray(n.attrs) && (n.frac === undefined || isInt(n.frac))) &&
    h.metadata !== null && typeof h.metadata === "object" && Object.values(h.metadata).every(isStr);
  if (!ok) fail("corrupt .detml header (missing or mistyped fields)");
}

/**
 * The source hash: SHA-256 of the whole .detml file, 0x-prefixed hex (`sha256sum model.detml`). A
 * label of where a module came from; the model id of a compiled module is the VM's hash of the
 * module itself (vm/identity.ts).
 */
export function sourceHash(bytes: Uint8Array): string {
  return "0x" + sha256(bytes).toString("hex");
}
