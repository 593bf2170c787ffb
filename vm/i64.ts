/**
 * 64-bit integer arithmetic on values held as two int32 halves (lo, hi) in the interpreter's
 * slot arrays: the operands are slots i (first) and j (second), the result goes to slot i.
 * Add, sub, mul, shifts and comparisons stay on int32 math (no BigInt, no allocation); the
 * rare divisions, remainders and rotations go through BigInt. Each function returns 0, or a
 * trap status when the operation traps (division by zero, signed overflow).
 */
export const TRAP_DIV_ZERO = 3;
export const TRAP_INT_OVERFLOW = 4;

export function mul64(lo: Int32Array, hi: Int32Array, i: number, j: number): void {
  const al = lo[i], bl = lo[j];
  const a0 = al & 0xffff, a1 = al >>> 16, b0 = bl & 0xffff, b1 = bl >>> 16;
  const p00 = a0 * b0, p01 = a0 * b1, p10 = a1 * b0, p11 = a1 * b1;
  const mid = (p00 >>> 16) + (p01 & 0xffff) + (p10 & 0xffff);
  const carry = p11 + (p01 >>> 16) + (p10 >>> 16) + (mid >>> 16); // high word of al*bl (unsigned)
  hi[i] = (carry + Math.imul(al, hi[j]) + Math.imul(hi[i], bl)) | 0;
  lo[i] = Math.imul(al, bl);
}

export function shl64(lo: Int32Array, hi: Int32Array, i: number, s: number): void {
  s &= 63;
  if (s === 0) return;
  if (s < 32) {
    hi[i] = (hi[i] << s) | (lo[i] >>> (32 - s));
    lo[i] <<= s;
  } else {
    hi[i] = lo[i] << (s - 32);
    lo[i] = 0;
  }
}

export function shr64(lo: Int32Array, hi: Int32Array, i: number, s: number, signed: boolean): void {
  s &= 63;
  if (s === 0) return;
  if (s < 32) {
    lo[i] = (lo[i] >>> s) | (hi[i] << (32 - s));
    hi[i] = signed ? hi[i] >> s : (hi[i] >>> s) | 0;
  } else {
    lo[i] = signed ? hi[i] >> (s - 32) : (hi[i] >>> (s - 32)) | 0;
    hi[i] = signed ? hi[i] >> 31 : 0;
  }
}

function big(lo: Int32Array, hi: Int32Array, i: number): bigint {
  return (BigInt(hi[i]) << 32n) | BigInt(lo[i] >>> 0);
}

function store(lo: Int32Array, hi: Int32Array, i: number, v: bigint): void {
  lo[i] = Number(BigInt.asIntN(32, v));
  hi[i] = Number(BigInt.asIntN(32, v >> 32n));
}

/** div_s, div_u, rem_s, rem_u (WASM opcodes 0x7f..0x82) of slots i and j into slot i. */
export function divrem64(lo: Int32Array, hi: Int32Array, i: number, j: number, op: number): number {
  if (lo[j] === 0 && hi[j] === 0) return TRAP_DIV_ZERO;
  const signed = op === 0x7f || op === 0x81;
  const a = signed ? big(lo, hi, i) : BigInt.asUintN(64, big(lo, hi, i));
  const b = signed ? big(lo, hi, j) : BigInt.asUintN(64, big(lo, hi, j));
  if (op === 0x7f && a === -(1n << 63n) && b === -1n) return TRAP_INT_OVERFLOW;
  store(lo, hi, i, op === 0x7f || op === 0x80 ? a / b : a % b);
  return 0;
}

export function rot64(lo: Int32Array, hi: Int32Array, i: number, s: number, left: boolean): void {
  const k = BigInt((left ? s : -s) & 63);
  if (k === 0n) return;
  const v = BigInt.asUintN(64, big(lo, hi, i));
  store(lo, hi, i, BigInt.asUintN(64, (v << k) | (v >> (64n - k))));
}

export function clz64(lo: Int32Array, hi: Int32Array, i: number): void {
  lo[i] = hi[i] !== 0 ? Math.clz32(hi[i]) : 32 + Math.clz32(lo[i]);
  hi[i] = 0;
}

export function ctz32(x: number): number {
  return x === 0 ? 32 : 31 - Math.clz32(x & -x);
}

export function ctz64(lo: Int32Array, hi: Int32Array, i: number): void {
  lo[i] = lo[i] !== 0 ? ctz32(lo[i]) : 32 + ctz32(hi[i]);
  hi[i] = 0;
}

export function popcnt32(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  x = (x + (x >>> 4)) & 0x0f0f0f0f;
  return Math.imul(x, 0x01010101) >>> 24;
}

export function rotl32(x: number, s: number): number {
  return (x << s) | (x >>> (32 - s));
}

/** Signed (a < b) on 64-bit values held as halves. */
export function lt64s(alo: number, ahi: number, blo: number, bhi: number): boolean {
  return ahi < bhi || (ahi === bhi && alo >>> 0 < blo >>> 0);
}

export function lt64u(alo: number, ahi: number, blo: number, bhi: number): boolean {
  return ahi >>> 0 < bhi >>> 0 || (ahi === bhi && alo >>> 0 < blo >>> 0);
}
