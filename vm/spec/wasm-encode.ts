/**
 * Just enough of the WebAssembly binary encoding to build the VM's two hand-written kernels at
 * load time (the keccak permutation in vm/spec/keccak.ts, the chunk fingerprints in
 * vm/fingerprint.ts) without a toolchain: LEB128 numbers and a module made of one memory and one
 * function, both exported. The function body (its local declarations, code and final `end`) is
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

/**
 * A module exporting `memory` (`pages` pages, fixed) and one function `name` of type
 * `params -> []` (value type codes, e.g. 0x7f for i32) with the given body.
 */
export function kernelModule(name: string, params: number[], body: number[], pages: number): Uint8Array<ArrayBuffer> {
  const section = (id: number, content: number[]) => [id, ...uleb(content.length), ...content];
  const str = (s: string) => [...uleb(s.length), ...new TextEncoder().encode(s)];
  return Uint8Array.from([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, [1, 0x60, ...uleb(params.length), ...params, 0]), // type 0: params -> []
    ...section(3, [1, 0]), // function 0 has type 0
    ...section(5, [1, 0x01, ...uleb(pages), ...uleb(pages)]), // memory 0: pages..pages
    ...section(7, [2, ...str("memory"), 0x02, 0, ...str(name), 0x00, 0]),
    ...section(10, [1, ...uleb(body.length), ...body]),
  ]);
}
