/**
 * The detml module ABI (docs/abi.md) above the VM's I/O contract (vm/spec/io.ts: chunk size, host
 * calls): the export names of the segments, the manifest carried in the `detml` custom section
 * (encode, decode, append to a module, check the model id it names) and `loadWasm`, the checks
 * every loader of a compiled module runs before using it. The compiler writes exactly this; the
 * runtimes, the cache and the CLI read exactly this. Imports the VM only.
 */
import { HOST_MODULE, READ_INPUT, WRITE_OUTPUT } from "../vm/spec/io.js";
import { toHex } from "../vm/spec/hash.js";
import { moduleIdOfBytes } from "../vm/identity.js";
import type { DecodedModule } from "../vm/decode.js";

export const ABI_VERSION = 2;
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
  /** Element width in the I/O bytes (docs/abi.md): absent means "i32"; "i16"/"i8" are the narrow formats. */
  dtype?: SlotDtype;
}

/** Element types of the I/O byte streams. This runtime packs and unpacks i32 only. */
export type SlotDtype = "i32" | "i16" | "i8";

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
  for (const slot of [...m.inputs, ...m.outputs]) {
    if (slot.dtype !== undefined && slot.dtype !== "i32") {
      throw new AbiError(`${source}: tensor '${slot.name}' has element type ${JSON.stringify(slot.dtype)}; this runtime packs i32 tensors only (narrow i16/i8 I/O is specified in docs/abi.md but not implemented yet)`);
    }
  }
  return m;
}

/**
 * Check that a canonical module's manifest names the module's own id, computed from its contents:
 * a module altered after compiling (one weight byte is enough) is refused. Returns the id. `mod`:
 * the module already decoded by the caller, if it has it.
 */
export function checkModelId(wasm: Uint8Array, manifest: Manifest, source: string, mod?: DecodedModule): string | null {
  if (manifest.build !== "canonical") return null;
  const id = toHex(moduleIdOfBytes(wasm, {}, mod));
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

/** The op segment k of a program (segment 0 is load_inputs) as the trap messages name it. */
export function describeSegment(manifest: Manifest, segment: number): string {
  const op = manifest.ops[segment - 1];
  if (op) return `op ${op.export} (${op.nodes.map((n, j) => `${n}: ${op.kinds[j]}`).join(", ")})`;
  return segment === 0 ? LOAD_INPUTS : STORE_OUTPUTS;
}

/** A compiled module with its manifest, checked against the ABI. */
export interface WasmModel {
  module: WebAssembly.Module;
  manifest: Manifest;
  bytes: Uint8Array;
}

/** Compile bytes for the JS engine; bytes that are not WebAssembly are a malformed module, named. */
export function compileWasm(bytes: Uint8Array, source: string): WebAssembly.Module {
  try {
    return new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>);
  } catch (e) {
    throw new AbiError(`${source}: malformed WebAssembly module (${(e as Error).message})`);
  }
}

/**
 * Compile (for the JS engine) and check a detml module: well-formed WebAssembly, one manifest,
 * the model id it names, the ABI exports, no import but the two host calls. `source` (a file
 * name) prefixes errors.
 */
export function loadWasm(bytes: Uint8Array, source = "module"): WasmModel {
  const module = compileWasm(bytes, source);
  const sections = WebAssembly.Module.customSections(module, CUSTOM_SECTION);
  if (sections.length !== 1) throw new AbiError(`${source}: not a detml module (no '${CUSTOM_SECTION}' custom section; compile a .detml with 'detml compile')`);
  const manifest = decodeManifest(new Uint8Array(sections[0]), source);
  checkModelId(bytes, manifest, source);
  const exports = new Set(WebAssembly.Module.exports(module).map((e) => e.name));
  const needed = ["memory", LOAD_INPUTS, STORE_OUTPUTS, ...manifest.ops.map((o) => o.export)];
  const missing = needed.filter((n) => !exports.has(n));
  if (missing.length > 0) throw new AbiError(`${source}: the module lacks the ABI exports ${missing.join(", ")}`);
  for (const imp of WebAssembly.Module.imports(module)) {
    if (imp.module !== HOST_MODULE || (imp.name !== READ_INPUT && imp.name !== WRITE_OUTPUT)) {
      throw new AbiError(`${source}: the module imports ${imp.module}.${imp.name}, which is not a detml host call`);
    }
  }
  return { module, manifest, bytes };
}
