/**
 * The weight image of an EVM model: every constant the contract reads (MAC weights in the order
 * the generated code consumes them, bias terms, other constant operands) packed big-endian at the
 * narrowest whole-byte width that holds all values of one array (1..4 bytes for i32 weights,
 * up to 8 for the i64 bias terms), one width per array. The code reads element i with one
 * MLOAD at its byte address and an arithmetic right shift by 256 - 8 * width, which sign-extends
 * it (the word's first bytes are the element). `chunks()` cuts the image into data-contract
 * payloads under the EIP-170 limit; the contract copies them back to back into memory at entry.
 */

/** EIP-170 runtime limit; a data contract's runtime is one STOP byte plus its chunk. */
export const MAX_CODE_BYTES = 24_576;
export const CHUNK_BYTES = MAX_CODE_BYTES - 1;

/** A packed array: where it starts in the image and the width of its elements. */
export interface PackedArray {
  offset: number;
  width: number;
}

/** Narrowest byte width (1..8) holding every value as a two's-complement integer. */
export function packWidth(values: Iterable<bigint>): number {
  let width = 1;
  for (const v of values) {
    while (v < -(1n << BigInt(8 * width - 1)) || v >= 1n << BigInt(8 * width - 1)) width++;
  }
  if (width > 8) throw new Error("a packed constant exceeds 64 bits");
  return width;
}

export class WeightImage {
  private bytes: number[] = [];

  get length(): number {
    return this.bytes.length;
  }

  /** Append values at `width` bytes each (packWidth of them when omitted). */
  add(values: readonly bigint[], width = packWidth(values)): PackedArray {
    const offset = this.bytes.length;
    for (const v of values) {
      const u = BigInt.asUintN(8 * width, v);
      for (let k = width - 1; k >= 0; k--) this.bytes.push(Number((u >> BigInt(8 * k)) & 0xffn));
    }
    return { offset, width };
  }

  /** The whole image. */
  image(): Uint8Array {
    return Uint8Array.from(this.bytes);
  }

  /** The image cut into data-contract payloads of at most CHUNK_BYTES each. */
  chunks(): Uint8Array[] {
    const all = this.image();
    const out: Uint8Array[] = [];
    for (let i = 0; i < all.length; i += CHUNK_BYTES) out.push(all.slice(i, i + CHUNK_BYTES));
    return out;
  }
}

/** The shift that sign-extends a `width`-byte element read by MLOAD at its address. */
export const extendShift = (width: number): number => 256 - 8 * width;
