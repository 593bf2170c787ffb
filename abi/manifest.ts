/**
 * The detml module ABI (docs/abi.md) above the VM's I/O contract (vm/spec/io.ts: chunk size, host
 * calls): the export names of the segments, the manifest carried in the `detml` custom section
 * (encode, decode, append to a module, check the model id it names) and `loadWasm`, the checks
 * every loader of a compiled module runs before using it. The compiler writes exactly this; the
 * runtimes, the cache and the CLI read exactly this. Imports the VM only. A module whose manifest
 * names a weights image is loaded with it: `loadWeightsImage` finds the file beside the module
 * (a file name, confined to the module's folder), checks its length and root, and gives it to
 * the VM's decoder and the JS engine; the root is hashed at most once per machine for the same
 * bytes (`verifiedImageTree`, docs/abi.md). A module with state tensors lists them (`state`): buffers
 * in its memory that carry an output of one run to an input of the next, outside the I/O streams.
 */
import { createHash } from "node:crypto";
import { closeSync, fstatSync, lstatSync, mkdirSync, openSync, readFileSync, readSync, realpathSync, renameSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join, relative, isAbsolute } from "node:path";
import { HOST_MODULE, READ_INPUT, WRITE_OUTPUT } from "../vm/spec/io.js";
import { equalHash, fromHex, toHex } from "../vm/spec/hash.js";
import { moduleIdOfBytes } from "../vm/identity.js";
import type { DecodedModule, WeightsImage } from "../vm/decode.js";
import { imageDepth, type ImageTree } from "../vm/merkle.js";
import { weightsImageTree } from "./image-tree.js";
import { PAGE_BYTES } from "../vm/spec/limits.js";

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

/**
 * A state pair (docs/abi.md, "State"): input `input` lives in `[offset, offset + bytes)`, which
 * load_inputs does not fill (zero in the initial memory) and store_outputs ends the run by copying
 * output `output` into. Neither is in the I/O streams; both have this shape and frac.
 */
export interface StateSlot {
  input: string;
  output: string;
  shape: number[];
  frac: number;
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
  /** The inputs of the input byte stream (not the state inputs). */
  inputs: TensorSlot[];
  /** The outputs of the output byte stream (not the state outputs). */
  outputs: TensorSlot[];
  /** State pairs kept in memory from run to run (absent: none). */
  state?: StateSlot[];
  ops: OpSegment[];
  memory: MemoryLayout;
  /** The weights image, when the weights are outside the code (docs/abi.md, "Weights image"). */
  weights?: WeightsManifest;
}

/** Where the weights image is: a file name beside the module, its offset in memory, its length and its subtree root. */
export interface WeightsManifest {
  file: string;
  offset: number;
  bytes: number;
  root: string;
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
  checkStateSlots(m, source);
  for (const slot of [...m.inputs, ...m.outputs]) {
    if (slot.dtype !== undefined && slot.dtype !== "i32") {
      throw new AbiError(`${source}: tensor '${slot.name}' has element type ${JSON.stringify(slot.dtype)}; this runtime packs i32 tensors only (narrow i16/i8 I/O is specified in docs/abi.md but not implemented yet)`);
    }
  }
  return m;
}

/** A manifest's state pairs: well-formed, each buffer inside memory and the size of its shape. */
function checkStateSlots(m: Manifest, source: string): void {
  if (m.state === undefined) return;
  if (!Array.isArray(m.state)) throw new AbiError(`${source}: the manifest's state field is not a list`);
  const memoryBytes = Number(m.memory.pages) * PAGE_BYTES;
  for (const s of m.state) {
    const ok = typeof s?.input === "string" && typeof s.output === "string" && Array.isArray(s.shape) && s.shape.every((d) => Number.isSafeInteger(d) && d >= 0) &&
      Number.isInteger(s.frac) && Number.isSafeInteger(s.offset) && s.offset >= 0 && Number.isSafeInteger(s.bytes) &&
      s.bytes === 4 * s.shape.reduce((a, d) => a * d, 1) && s.offset + s.bytes <= memoryBytes;
    if (!ok) throw new AbiError(`${source}: the manifest's state pair ${JSON.stringify(s)} is malformed (it needs input, output, shape, frac, and an offset and 4-byte elements inside memory)`);
  }
}

/**
 * Check that a canonical module's manifest names the module's own id, computed from its contents:
 * a module altered after compiling (one weight byte is enough) is refused. Returns the id. `mod`:
 * the module already decoded by the caller, if it has it.
 */
export function checkModelId(wasm: Uint8Array, manifest: Manifest, source: string, mod?: DecodedModule, weights?: WeightsImage): string | null {
  if (manifest.build !== "canonical") return null;
  const id = toHex(moduleIdOfBytes(wasm, { weights }, mod));
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

/** A compiled module with its manifest, checked against the ABI (and its weights image, checked, when it has one). */
export interface WasmModel {
  module: WebAssembly.Module;
  manifest: Manifest;
  bytes: Uint8Array;
  weights?: WeightsImage;
}

export interface LoadOptions {
  /** The weights image's bytes, instead of reading the file the manifest names beside `source`. */
  weights?: Uint8Array;
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
 * its weights image (found beside `source` unless given), the model id it names, the ABI
 * exports, no import but the two host calls. `source` (the module's path) prefixes errors.
 */
export function loadWasm(bytes: Uint8Array, source = "module", opts: LoadOptions = {}): WasmModel {
  const module = compileWasm(bytes, source);
  const sections = WebAssembly.Module.customSections(module, CUSTOM_SECTION);
  if (sections.length !== 1) throw new AbiError(`${source}: not a detml module (no '${CUSTOM_SECTION}' custom section; compile a .detml with 'detml compile')`);
  const manifest = decodeManifest(new Uint8Array(sections[0]), source);
  const weights = loadWeightsImage(manifest, source, opts.weights);
  checkModelId(bytes, manifest, source, undefined, weights);
  const exports = new Set(WebAssembly.Module.exports(module).map((e) => e.name));
  const needed = ["memory", LOAD_INPUTS, STORE_OUTPUTS, ...manifest.ops.map((o) => o.export)];
  const missing = needed.filter((n) => !exports.has(n));
  if (missing.length > 0) throw new AbiError(`${source}: the module lacks the ABI exports ${missing.join(", ")}`);
  for (const imp of WebAssembly.Module.imports(module)) {
    if (imp.module !== HOST_MODULE || (imp.name !== READ_INPUT && imp.name !== WRITE_OUTPUT)) {
      throw new AbiError(`${source}: the module imports ${imp.module}.${imp.name}, which is not a detml host call`);
    }
  }
  return { module, manifest, bytes, weights };
}

/**
 * The weights image a manifest names, checked (docs/abi.md): a plain file name, looked up in the
 * folder of `modulePath`; a regular file (a symlink only to a file inside that folder) of the
 * manifest's length whose subtree root is the manifest's root. `given`: the bytes, already in
 * memory. Every refusal is one line naming the file. Undefined when the manifest names no image.
 */
export function loadWeightsImage(manifest: Manifest, modulePath: string, given?: Uint8Array): WeightsImage | undefined {
  const w = manifest.weights;
  if (!w) {
    if (given) throw new AbiError(`${modulePath}: weights image bytes were given, but the module's manifest names no weights image`);
    return undefined;
  }
  const fieldsOk = typeof w.file === "string" && Number.isSafeInteger(w.offset) && w.offset >= 0 && Number.isSafeInteger(w.bytes) && w.bytes > 0 && typeof w.root === "string" && /^0x[0-9a-fA-F]{64}$/.test(w.root);
  if (!fieldsOk) throw new AbiError(`${modulePath}: the manifest's weights field is malformed (it needs file, offset, bytes and a 32-byte hex root)`);
  if (w.file === "" || w.file === "." || w.file === ".." || /[\\/\0]/.test(w.file)) {
    throw new AbiError(`${modulePath}: the manifest names the weights image '${w.file}', which is not a plain file name (it must be a file beside the module)`);
  }
  const path = join(dirname(modulePath), w.file);
  const bytes = given ?? readImageFile(path, dirname(modulePath));
  if (bytes.length !== w.bytes) throw new AbiError(`${path}: the weights image has ${bytes.length} bytes, but ${basename(modulePath)}'s manifest says ${w.bytes}`);
  const tree = verifiedImageTree(bytes, fromHex(w.root, 32), path);
  return { offset: w.offset, bytes, tree };
}

/** Read an image file, refusing a missing file, a symlink out of `folder` and anything but a regular file. */
function readImageFile(path: string, folder: string): Uint8Array {
  let link;
  try {
    link = lstatSync(path);
  } catch {
    throw new AbiError(`${path}: the weights image is missing (it must be beside the module)`);
  }
  if (link.isSymbolicLink()) {
    let target: string;
    try {
      target = realpathSync(path);
    } catch {
      throw new AbiError(`${path}: the weights image is a broken symlink`);
    }
    const rel = relative(realpathSync(folder), target);
    if (rel === "" || rel.startsWith("..") || isAbsolute(rel)) throw new AbiError(`${path}: the weights image is a symlink out of the module's folder (to ${target})`);
  }
  // Checked before opening too: opening a FIFO for reading would wait for a writer.
  if (!statSync(path).isFile()) throw new AbiError(`${path}: the weights image is not a regular file`);
  const fd = openSync(path, "r");
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) throw new AbiError(`${path}: the weights image is not a regular file`);
    const out = new Uint8Array(stat.size);
    for (let at = 0; at < out.length;) {
      const n = readSync(fd, out, at, out.length - at, at);
      if (n === 0) throw new AbiError(`${path}: the weights image was shortened while being read`);
      at += n;
    }
    return out;
  } finally {
    closeSync(fd);
  }
}

/**
 * The image's subtree, its root checked against `root`. The rule (docs/abi.md): a root is trusted
 * only after it was computed on this machine from these bytes. The first time, the bytes are
 * hashed into the tree (in two threads, abi/image-tree.ts: about 15 s for 471 MiB) and the tree stored in this machine's cache under
 * the SHA-256 of the bytes; later loads hash the bytes with SHA-256 (about 1 GB/s, native) and
 * take the stored tree for that digest. `name` prefixes errors.
 */
export function verifiedImageTree(bytes: Uint8Array, root: Uint8Array, name: string): ImageTree {
  const tree = checkedImageTree(bytes);
  if (!equalHash(tree.root, root)) {
    throw new AbiError(`${name}: the weights image's root is ${toHex(tree.root)}, but the manifest names ${toHex(root)}: the image does not belong to this module or was altered`);
  }
  return tree;
}

/** This machine's cache of image trees: $DETML_CACHE_DIR (or <tmpdir>/detml-cache)/weights, private to the user. */
function imageCacheDir(): string {
  return join(process.env.DETML_CACHE_DIR || join(tmpdir(), "detml-cache"), "weights");
}

/**
 * The tree of an image's bytes as this machine computed it: from the cache (by the SHA-256 of the
 * bytes), else hashed now and stored there, so that later loads (and compiles) of the same bytes
 * need not hash them again. A cache that cannot be written only costs the hashing again.
 */
export function checkedImageTree(bytes: Uint8Array): ImageTree {
  const digest = createHash("sha256").update(bytes).digest("hex");
  return readImageRecord(digest, bytes.length) ?? rememberImageTree(digest, bytes.length, weightsImageTree(bytes));
}

function rememberImageTree(digest: string, length: number, tree: ImageTree): ImageTree {
  const dir = imageCacheDir();
  const record = new Uint8Array(32 + tree.chunkRoots.length);
  record.set(tree.root);
  record.set(tree.chunkRoots, 32);
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const path = join(dir, `${digest}-${length}.tree`);
    const temp = `${path}.${process.pid}.tmp`;
    writeFileSync(temp, record, { mode: 0o600 });
    renameSync(temp, path);
  } catch {
    // Not cached: the next load hashes the image again.
  }
  return tree;
}

function readImageRecord(digest: string, length: number): ImageTree | undefined {
  const depth = imageDepth(length);
  let record: Uint8Array;
  try {
    record = new Uint8Array(readFileSync(join(imageCacheDir(), `${digest}-${length}.tree`)));
  } catch {
    return undefined;
  }
  const chunks = Math.max(1, 2 ** depth / 64);
  if (record.length !== 32 + chunks * 32) return undefined;
  return { depth, root: record.slice(0, 32), chunkRoots: record.slice(32) };
}
