/**
 * Just enough of the WebAssembly binary encoding to build the VM's hand-written kernels at load
 * time (the keccak permutation in vm/spec/keccak.ts, the chunk fingerprints in vm/fingerprint.ts,
 * the batch hashing of vm/keccak-batch.ts) without a toolchain: LEB128 numbers and a module made of one memory and a few
 * functions, all exported. The function body (its local declarations, code and final `end`) is
 * the caller's.
 */

/** Unsigned LEB128. */
export function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

/** Signed LEB128 (for i32/i64 constants). */
export function sleb(v: bigint): number[] {
  const out: number[] = [];
  for (;;) {
    const b = Number(v & 0x7fn);
    v >>= 7n;
    if ((v === 0n && (b & 0x40) === 0) || (v === -1n && (b & 0x40) !== 0)) return [...out, b];
    out.push(b | 0x80);
  }
}

/** One exported function of a kernel module: `params -> []` (value type codes, e.g. 0x7f for i32). */
export interface KernelFunction {
  name: string;
  params: number[];
  /** Local declarations, code and the final `end`. */
  body: number[];
}

/**
 * A module exporting `memory` (`pages` pages, fixed) and the given functions, in order (function
 * i may call function j by index j).
 */
export function kernelModuleOf(functions: KernelFunction[], pages: number): Uint8Array<ArrayBuffer> {
  const section = (id: number, content: number[]) => [id, ...uleb(content.length), ...content];
  const str = (s: string) => [...uleb(s.length), ...new TextEncoder().encode(s)];
  const vec = (items: number[][]) => [...uleb(items.length), ...items.flat()];
  return Uint8Array.from([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vec(functions.map((f) => [0x60, ...uleb(f.params.length), ...f.params, 0]))), // type i: params -> []
    ...section(3, vec(functions.map((_, i) => uleb(i)))), // function i has type i
    ...section(5, [1, 0x01, ...uleb(pages), ...uleb(pages)]), // memory 0: pages..pages
    ...section(7, vec([[...str("memory"), 0x02, 0], ...functions.map((f, i) => [...str(f.name), 0x00, ...uleb(i)])])),
    ...section(10, vec(functions.map((f) => [...uleb(f.body.length), ...f.body]))),
  ]);
}

/** A module exporting `memory` and one function `name` (kernelModuleOf with one function). */
export function kernelModule(name: string, params: number[], body: number[], pages: number): Uint8Array<ArrayBuffer> {
  return kernelModuleOf([{ name, params, body }], pages);
}
