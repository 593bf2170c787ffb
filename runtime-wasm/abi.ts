/**
 * The detml module ABI (docs/abi.md) as data: the chunk size of the I/O host calls, the names of
 * the imports and exports, the manifest carried in the `detml` custom section, and the packing
 * of tensors into the input/output byte streams. The compiler writes exactly this and the
 * runtime reads exactly this; the VM needs none of it except the host-call rules.
 */
import { Tensor } from "../lib/tensor/tensor.js";
import { moduleIdOfBytes, toHex } from "../vm/index.js";

export const ABI_VERSION = 2;
/** Bytes moved by one read_input / write_output host call. */
export const CHUNK_BYTES = 32;
export const HOST_MODULE = "detml";
export const READ_INPUT = "read_input";
export const WRITE_OUTPUT = "write_output";
export const CUSTOM_SECTION = "detml";
export const LOAD_INPUTS = "load_inputs";
export const STORE_OUTPUTS = "store_outputs";
export const RUN = "run";
/** Export name of the function of op segment k (segment k + 1 of the program). */
export const opExport = (k: number): string => `op_${k}`;

/** Where one model input or output lives in linear memory and in the I/O byte stream. */
export interface TensorSlot {
  name: string;
  shape: number[];
  frac: number;
  /** Byte address in linear memory (inside the input or output region). */
  offset: number;
  bytes: number;
}

export interface OpSegment {
  segment: number;
  export: string;
  /** IR node names this segment covers (fused ops, and views that need no code). */
  nodes: string[];
  kinds: string[];
}

export interface MemoryLayout {
  pages: number;
  /** Start byte of each region. */
  input: number;
  output: number;
  weights: number;
  arena: number;
  /** Compiler-generated constant tables (bias terms, window tables), after the arena. */
  tables: number;
  /** Bytes of the arena actually used at once by the activation plan. */
  peak: number;
  /** Total bytes in use (end of the tables region). */
  end: number;
}

export interface Manifest {
  abi: number;
  /**
   * The module's one identity, the VM's module hash (vm/identity.ts), for the canonical build;
   * null for the fast build, which the VM does not run.
   */
  model_id: string | null;
  /** Content hash of the .detml the module was compiled from. */
  source_hash: string;
  /** Steps a segment may execute in the VM (also in the module, as its detml_step_budget global). */
  step_budget: number;
  /** "canonical": the provable scalar build the VM runs; "fast": the SIMD build for the JS engine. */
  build: "canonical" | "fast";
  frac: number;
  inputs: TensorSlot[];
  outputs: TensorSlot[];
  ops: OpSegment[];
  memory: MemoryLayout;
}

export class AbiError extends Error {
  override name = "AbiError";
}

export function encodeManifest(m: Manifest): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(m));
}

/** Parse and sanity-check a manifest; `source` prefixes errors. */
export function decodeManifest(bytes: Uint8Array, source: string): Manifest {
  let m: Manifest;
  try {
    m = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch (e) {
    throw new AbiError(`${source}: the detml custom section is not valid JSON (${(e as Error).message})`);
  }
  const slotOk = (s: TensorSlot) => typeof s?.name === "string" && Array.isArray(s.shape) &&
    Number.isInteger(s.frac) && Number.isInteger(s.offset) && Number.isInteger(s.bytes);
  const ok = m !== null && typeof m === "object" && Array.isArray(m.inputs) && m.inputs.every(slotOk) &&
    Array.isArray(m.outputs) && m.outputs.every(slotOk) && Array.isArray(m.ops) && typeof m.memory === "object";
  if (!ok) throw new AbiError(`${source}: the detml custom section is missing fields`);
  if (m.abi !== ABI_VERSION) throw new AbiError(`${source}: detml ABI version ${m.abi} is not supported (this runtime reads version ${ABI_VERSION}; compile the .detml again)`);
  return m;
}

/**
 * Check that a canonical module's manifest names the module's own id, computed from its contents:
 * a module altered after compiling (one weight byte is enough) is refused. Returns the id.
 */
export function checkModelId(wasm: Uint8Array, manifest: Manifest, source: string): string | null {
  if (manifest.build !== "canonical") return null;
  const id = toHex(moduleIdOfBytes(wasm));
  if (manifest.model_id !== id) {
    throw new AbiError(`${source}: the module's contents hash to model id ${id}, but its manifest names ${manifest.model_id}: the module was altered after compiling`);
  }
  return id;
}

/** The module bytes with the manifest appended as the `detml` custom section (outside the module's id). */
export function withManifest(wasm: Uint8Array, manifest: Manifest): Uint8Array {
  const name = new TextEncoder().encode(CUSTOM_SECTION);
  const payload = [...leb128(name.length), ...name, ...encodeManifest(manifest)];
  const section = Uint8Array.from([0, ...leb128(payload.length), ...payload]);
  const out = new Uint8Array(wasm.length + section.length);
  out.set(wasm);
  out.set(section, wasm.length);
  return out;
}

function leb128(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    out.push(b);
  } while (n > 0);
  return out;
}

/** Round a byte count up to whole chunks. */
export function chunkAlign(bytes: number): number {
  return Math.ceil(bytes / CHUNK_BYTES) * CHUNK_BYTES;
}

/** The I/O byte stream of tensors laid out by `slots`: i32 little-endian, zero-padded to whole chunks. */
export function packTensors(slots: readonly TensorSlot[], tensors: readonly Tensor[]): Uint8Array {
  const base = slots.length > 0 ? slots[0].offset : 0;
  const end = slots.reduce((e, s) => Math.max(e, s.offset + s.bytes), base);
  const bytes = new Uint8Array(chunkAlign(end - base));
  const view = new DataView(bytes.buffer);
  slots.forEach((s, k) => {
    const data = tensors[k].data;
    for (let i = 0; i < data.length; i++) view.setInt32(s.offset - base + 4 * i, data[i], true);
  });
  return bytes;
}

/** Tensors from an I/O byte stream laid out by `slots` (the inverse of packTensors). */
export function unpackTensors(slots: readonly TensorSlot[], bytes: Uint8Array): Tensor[] {
  const base = slots.length > 0 ? slots[0].offset : 0;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return slots.map((s) => {
    const data = new Int32Array(s.bytes / 4);
    for (let i = 0; i < data.length; i++) data[i] = view.getInt32(s.offset - base + 4 * i, true);
    return new Tensor(s.shape, data, s.frac);
  });
}
