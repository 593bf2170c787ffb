/**
 * The .detml file: one self-checking binary holding a whole graph.
 *
 *   bytes 0..7    magic "DETML\0\r\n" (the CR/LF pair catches text-mode mangling)
 *   bytes 8..11   format version (u32 LE), currently 1
 *   bytes 12..15  header length H (u32 LE)
 *   16..16+H      header: canonical JSON (graph frac, inputs, outputs, nodes, constants' shape/frac/offset)
 *   ...           zero padding to a multiple of 64, then the weights: every constant's i32 data,
 *                 little-endian, each starting at a multiple of 64 bytes from the weights start
 *   last 32       keccak256 of everything before it (integrity; the model id hashes the whole file)
 *
 * Canonical: constants are sorted by name, attributes by key and fully resolved, JSON has fixed
 * key order and no whitespace, padding is zero, so the same graph always gives the same bytes.
 */
import { keccak_256 } from "@noble/hashes/sha3.js";
import { resolveAttrs, opDef, type Attrs } from "../ops/index.js";
import { Tensor } from "../tensor/tensor.js";
import { sizeOf } from "../tensor/shape.js";
import type { Graph, Node, ValueInfo } from "./ir.js";
import { inferTypes } from "./validate.js";

const MAGIC = new Uint8Array([0x44, 0x45, 0x54, 0x4d, 0x4c, 0x00, 0x0d, 0x0a]);
export const FORMAT_VERSION = 1;
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

function sortedAttrs(attrs: Attrs): Attrs {
  return Object.fromEntries(Object.keys(attrs).sort().map((k) => [k, attrs[k]]));
}

function sortedRecord(r: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.keys(r).sort().map((k) => [k, r[k]]));
}

/** Serialize a graph (validated first) to canonical .detml bytes. */
export function encodeGraph(graph: Graph): Uint8Array {
  inferTypes(graph);
  const names = [...graph.constants.keys()].sort();
  let offset = 0;
  const constants: ConstantEntry[] = names.map((name) => {
    const t = graph.constants.get(name)!;
    const entry = { name, shape: [...t.shape], frac: t.frac, offset };
    offset = align(offset + t.size * 4);
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
    const data = graph.constants.get(c.name)!.data;
    let p = weightsStart + c.offset;
    for (let i = 0; i < data.length; i++, p += 4) view.setInt32(p, data[i], true);
  }
  bytes.set(keccak_256(bytes.subarray(0, total - DIGEST)), total - DIGEST);
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
  if (version !== FORMAT_VERSION) fail(`.detml format version ${version} is not supported (this detml reads version ${FORMAT_VERSION})`);
  const digest = keccak_256(bytes.subarray(0, bytes.length - DIGEST));
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
  const weightsStart = align(16 + headerLength);
  const weightsEnd = bytes.length - DIGEST;
  const constants = new Map<string, Tensor>();
  for (const c of header.constants) {
    const n = sizeOf(c.shape);
    const start = weightsStart + c.offset;
    if (c.offset % ALIGN !== 0 || start + 4 * n > weightsEnd) fail(`constant '${c.name}' lies outside the weights section`);
    const data = new Int32Array(n);
    for (let i = 0; i < n; i++) data[i] = view.getInt32(start + 4 * i, true);
    try {
      constants.set(c.name, new Tensor(c.shape, data, c.frac));
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
    isList(h.constants, (c: any) => isStr(c?.name) && isShape(c.shape) && isInt(c.frac) && isInt(c.offset) && c.offset >= 0) &&
    isList(h.nodes, (n: any) => isStr(n?.name) && isStr(n.op) && isList(n.inputs, isStr) && isList(n.outputs, isStr) &&
      n.attrs !== null && typeof n.attrs === "object" && !Array.isArray(n.attrs)) &&
    h.metadata !== null && typeof h.metadata === "object" && Object.values(h.metadata).every(isStr);
  if (!ok) fail("corrupt .detml header (missing or mistyped fields)");
}

/**
 * The source hash: keccak256 of the whole .detml file, 0x-prefixed hex. A label of where a module
 * came from; the model id of a compiled module is the VM's hash of the module itself (vm/identity.ts).
 */
export function sourceHash(bytes: Uint8Array): string {
  return "0x" + Buffer.from(keccak_256(bytes)).toString("hex");
}
