/**
 * The fast path: run a compiled detml module in the JS engine's own WebAssembly. It reads the
 * manifest from the `detml` custom section, implements the two host calls exactly as docs/abi.md
 * specifies (32-byte chunks, aligned, in bounds, or a trap), packs the inputs into the input
 * byte stream, runs the segments and unpacks the output stream into Tensors. It can also run
 * segment by segment and hand the memory to a callback at every op boundary (the checkpoints of
 * the dispute game; differential tests compare builds there). Depends only on lib/tensor.
 */
import { rescale } from "../lib/tensor/fixed.js";
import { isModuleTrap } from "../vm/index.js";
import { Tensor } from "../lib/tensor/tensor.js";
import {
  AbiError, CHUNK_BYTES, checkModelId, CUSTOM_SECTION, decodeManifest, HOST_MODULE, LOAD_INPUTS, type Manifest, packTensors, READ_INPUT,
  STORE_OUTPUTS, type TensorSlot, unpackTensors, WRITE_OUTPUT,
} from "./abi.js";

export class WasmInputError extends Error {
  override name = "WasmInputError";
}

/** A trap while running a segment, naming the op (e.g. a Gather index out of range). */
export class WasmTrap extends Error {
  override name = "WasmTrap";
}

/** A compiled module with its manifest, checked against the ABI. */
export interface WasmModel {
  module: WebAssembly.Module;
  manifest: Manifest;
  bytes: Uint8Array;
}

/** Compile and check a detml module; `source` (a file name) prefixes errors. */
export function loadWasm(bytes: Uint8Array, source = "module"): WasmModel {
  let module: WebAssembly.Module;
  try {
    module = new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>);
  } catch (e) {
    throw new AbiError(`${source}: not a valid WebAssembly module (${(e as Error).message})`);
  }
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

/** Check inputs against the manifest and bring each to its slot's frac; ordered like the slots. */
export function orderInputs(slots: readonly TensorSlot[], inputs: Map<string, Tensor> | Record<string, Tensor>): Tensor[] {
  const given = inputs instanceof Map ? inputs : new Map(Object.entries(inputs));
  for (const name of given.keys()) {
    if (!slots.some((s) => s.name === name)) throw new WasmInputError(`the model has no input '${name}' (inputs: ${slots.map((s) => s.name).join(", ")})`);
  }
  return slots.map((s) => {
    const t = given.get(s.name);
    if (!t) throw new WasmInputError(`missing input '${s.name}' (shape [${s.shape.join(",")}])`);
    if (t.shape.length !== s.shape.length || t.shape.some((d, i) => d !== s.shape[i])) {
      throw new WasmInputError(`input '${s.name}' has shape [${t.shape.join(",")}] but the model expects [${s.shape.join(",")}]`);
    }
    return t.frac === s.frac ? t : new Tensor(t.shape, t.data.map((v) => rescale(v, t.frac, s.frac)), s.frac);
  });
}

/** The host side of one instance: the input stream being read and the output stream written. */
class HostIo {
  input: Uint8Array = new Uint8Array(0);
  output: Uint8Array[] = [];
  memory?: WebAssembly.Memory;

  imports(): WebAssembly.Imports {
    return {
      [HOST_MODULE]: {
        [READ_INPUT]: (chunk: number, dst: number) => {
          const mem = new Uint8Array(this.memory!.buffer);
          const start = chunk * CHUNK_BYTES;
          if (dst % CHUNK_BYTES !== 0 || chunk < 0 || start + CHUNK_BYTES > this.input.length || dst < 0 || dst + CHUNK_BYTES > mem.length) {
            throw new WebAssembly.RuntimeError(`read_input(${chunk}, ${dst}) is out of bounds or misaligned`);
          }
          mem.set(this.input.subarray(start, start + CHUNK_BYTES), dst);
        },
        [WRITE_OUTPUT]: (src: number) => {
          const mem = new Uint8Array(this.memory!.buffer);
          if (src % CHUNK_BYTES !== 0 || src < 0 || src + CHUNK_BYTES > mem.length) {
            throw new WebAssembly.RuntimeError(`write_output(${src}) is out of bounds or misaligned`);
          }
          this.output.push(mem.slice(src, src + CHUNK_BYTES));
        },
      },
    };
  }
}

/** A live instance of a compiled model; `run` may be called many times (every value is rewritten each run). */
export class WasmRunner {
  readonly manifest: Manifest;
  private readonly io = new HostIo();
  private readonly instance: WebAssembly.Instance;

  constructor(readonly model: WasmModel) {
    this.manifest = model.manifest;
    this.instance = new WebAssembly.Instance(model.module, this.io.imports());
    this.io.memory = this.instance.exports.memory as WebAssembly.Memory;
  }

  /** The instance's linear memory (a live view; copy it to keep it). */
  get memory(): Uint8Array {
    return new Uint8Array(this.io.memory!.buffer);
  }

  /**
   * Run on named inputs; outputs by name, in the model's output order. With `onBoundary`, every
   * segment runs as the ABI defines it and the callback sees the memory after each one. Without,
   * the input bytes are copied straight into the input region instead of through `load_inputs`'
   * 32-byte host calls: the same memory, fewer JS/WASM crossings.
   */
  run(inputs: Map<string, Tensor> | Record<string, Tensor>, onBoundary?: (segment: number, memory: Uint8Array) => void): Map<string, Tensor> {
    this.io.input = packTensors(this.manifest.inputs, orderInputs(this.manifest.inputs, inputs));
    this.io.output = [];
    const call = (name: string) => (this.instance.exports[name] as () => void)();
    const ops = this.manifest.ops.map((o) => o.export);
    if (!onBoundary) this.memory.set(this.io.input, this.manifest.memory.input);
    const segments = onBoundary ? [LOAD_INPUTS, ...ops, STORE_OUTPUTS] : [...ops, STORE_OUTPUTS];
    const first = onBoundary ? 0 : 1;
    segments.forEach((name, i) => {
      const k = i + first;
      try {
        call(name);
      } catch (e) {
        const op = this.manifest.ops[k - 1];
        const what = op ? `op ${op.export} (${op.nodes.map((n, j) => `${n}: ${op.kinds[j]}`).join(", ")})` : name;
        // The engine's own failure (its call stack, its memory) says nothing about the module.
        if (!isModuleTrap(e)) throw new Error(`the JS engine failed in ${what}: ${(e as Error).message} (not a trap of the module; the VM decides: --engine vm)`);
        throw new WasmTrap(`${what} trapped: ${(e as Error).message}`);
      }
      onBoundary?.(k, this.memory);
    });
    const bytes = new Uint8Array(this.io.output.length * CHUNK_BYTES);
    this.io.output.forEach((c, i) => bytes.set(c, i * CHUNK_BYTES));
    const tensors = unpackTensors(this.manifest.outputs, bytes);
    return new Map(this.manifest.outputs.map((s, i) => [s.name, tensors[i]]));
  }
}

/** Load bytes and run once: the one-call form of the library API. */
export function runWasm(bytes: Uint8Array, inputs: Map<string, Tensor> | Record<string, Tensor>, source = "module"): Map<string, Tensor> {
  return new WasmRunner(loadWasm(bytes, source)).run(inputs);
}
