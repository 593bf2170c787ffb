/**
 * The compiler's side of a weights image (docs/abi.md, "Weights image"): whether a model keeps
 * its weights outside the code (`--weights-image auto|always|never`; auto when they pass 16 MiB),
 * the image's padded size, its bytes (every constant the code reads, i32 little-endian or, for a
 * constant the plan stores narrow, its 8- or 16-bit q: `storedBytes`, also what the data segments
 * hold, at its planned address minus the image's offset) and its memory subtree, hashed once per machine
 * (root and chunk roots, vm/merkle.ts) so that the manifest can name the root and the model id
 * cover it.
 * Binaryen never sees these bytes: the module's data segments hold only the compiler's tables,
 * and with an image the large ones (the fast build's repacked weights, as large as the weights)
 * are appended to the binary after Binaryen has written it (`appendDataSegments`): Binaryen
 * never reads a data segment's bytes, so the module is the same, built without copying them
 * through it.
 */
import { type NarrowStorage, narrowValues } from "../lib/tensor/narrow.js";
import type { Tensor } from "../lib/tensor/tensor.js";
import { checkedImageTree } from "../abi/manifest.js";
import { imageDepth, type ImageTree } from "../vm/merkle.js";
import { sleb, uleb } from "../vm/spec/wasm-encode.js";
import type { DataSegment } from "./binaryen.js";

export type WeightsImageMode = "auto" | "always" | "never";

/** With `auto`, weights of more than this many bytes go to an image. */
export const WEIGHTS_IMAGE_AUTO_BYTES = 16 * 2 ** 20;

/** A weights image as the compiler makes it: the file name the manifest gives, its placement, bytes and subtree. */
export interface CompiledWeightsImage {
  file: string;
  offset: number;
  bytes: Uint8Array;
  tree: ImageTree;
}

/** P: the image's length rounded up to a power of two of 32-byte leaves. */
export function imagePaddedBytes(bytes: number): number {
  return 32 * 2 ** imageDepth(bytes);
}

/** Whether weights of `weightBytes` bytes go to an image under `mode`. */
export function wantsImage(mode: WeightsImageMode, weightBytes: number): boolean {
  if (weightBytes === 0) return false;
  return mode === "always" || (mode === "auto" && weightBytes > WEIGHTS_IMAGE_AUTO_BYTES);
}

/** The name of the image file beside a module file: `m.wasm` -> `m.weights`. */
export function weightsFileFor(modulePath: string): string {
  const name = modulePath.split(/[\\/]/).pop()!;
  return `${name.replace(/\.wasm$/i, "")}.weights`;
}

const littleEndian = new Uint8Array(Int32Array.of(1).buffer)[0] === 1;

/**
 * A constant as the weights region holds it: i32 little-endian, or q at 8 or 16 bits with
 * `storage` (the plan's choice). On a little-endian host a view of the typed array's own bytes
 * (the fresh q array, or the tensor's data: read-only, like every tensor), else written value by value.
 */
export function storedBytes(tensor: Tensor, storage?: NarrowStorage): Uint8Array {
  const values = storage ? narrowValues(tensor.shape, tensor.data, storage) : tensor.data;
  const raw = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  if (littleEndian) return raw;
  const width = values.BYTES_PER_ELEMENT;
  const bytes = new Uint8Array(values.length * width);
  const view = new DataView(bytes.buffer);
  const set = width === 1 ? view.setInt8.bind(view) : width === 2 ? view.setInt16.bind(view) : view.setInt32.bind(view);
  values.forEach((v, i) => set(i * width, v, true));
  return bytes;
}

/**
 * The image: each constant's stored bytes at `address - offset`, zero between them. Its length
 * is the end of the last constant (the plan's `image.bytes`).
 */
export function imageBytes(weights: { address: number; tensor: Tensor; storage?: NarrowStorage }[], offset: number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (const { address, tensor, storage } of weights) out.set(storedBytes(tensor, storage), address - offset);
  return out;
}

/**
 * The image with its memory subtree, for the manifest's root and the model id: hashed once per
 * machine (abi/ checkedImageTree keeps it under the SHA-256 of the bytes, so recompiling the same
 * weights, and loading them, does not hash them again).
 */
export function compileWeightsImage(file: string, offset: number, bytes: Uint8Array): CompiledWeightsImage {
  return { file, offset, bytes, tree: checkedImageTree(bytes) };
}

/** Tables of at least this many bytes are appended after Binaryen when the module has an image. */
export const APPENDED_TABLE_BYTES = 64 * 1024;

const CODE_SECTION = 10, DATA_SECTION = 11, DATA_COUNT_SECTION = 12;

/** Read an unsigned LEB128 at `at`: its value and the offset after it. */
function readUleb(bytes: Uint8Array, at: number): [number, number] {
  let value = 0, scale = 1, b;
  do {
    b = bytes[at++];
    value += (b & 0x7f) * scale;
    scale *= 128;
  } while (b & 0x80);
  return [value, at];
}

/**
 * The module with active data segments appended to its data section (made after the code
 * section if it has none; a data count section, which only bulk memory emits, is updated).
 */
export function appendDataSegments(wasm: Uint8Array, segments: readonly DataSegment[]): Uint8Array {
  if (segments.length === 0) return wasm;
  const parts: Uint8Array[] = [wasm.subarray(0, 8)];
  const encoded = segments.map((s) => [Uint8Array.from([0, 0x41, ...sleb(BigInt(s.address | 0)), 0x0b, ...uleb(s.data.length)]), s.data]);
  const appendedBytes = encoded.reduce((n, [head, data]) => n + head.length + data.length, 0);
  const newData = (oldCount: number, oldBody: Uint8Array): Uint8Array[] => {
    const count = Uint8Array.from(uleb(oldCount + segments.length));
    const size = count.length + oldBody.length + appendedBytes;
    return [Uint8Array.from([DATA_SECTION, ...uleb(size)]), count, oldBody, ...encoded.flat()];
  };
  let done = false;
  for (let at = 8; at < wasm.length;) {
    const id = wasm[at];
    const [size, body] = readUleb(wasm, at + 1);
    const end = body + size;
    if (id === DATA_SECTION) {
      const [count, first] = readUleb(wasm, body);
      parts.push(...newData(count, wasm.subarray(first, end)));
      done = true;
    } else if (id === DATA_COUNT_SECTION) {
      const [count] = readUleb(wasm, body);
      const value = Uint8Array.from(uleb(count + segments.length));
      parts.push(Uint8Array.from([DATA_COUNT_SECTION, ...uleb(value.length)]), value);
    } else {
      parts.push(wasm.subarray(at, end));
      if (id === CODE_SECTION && !hasSection(wasm, end, DATA_SECTION)) {
        parts.push(...newData(0, new Uint8Array(0)));
        done = true;
      }
    }
    at = end;
  }
  if (!done) throw new Error("internal: a module without a code section cannot take data segments");
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function hasSection(wasm: Uint8Array, from: number, wanted: number): boolean {
  for (let at = from; at < wasm.length;) {
    if (wasm[at] === wanted) return true;
    const [size, body] = readUleb(wasm, at + 1);
    at = body + size;
  }
  return false;
}
