/**
 * Seeded randomness for property tests: a small xorshift generator so that every failure is
 * reproducible from the seed printed in the test name.
 */
import { Tensor } from "../../lib/tensor/tensor.js";

export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = (seed >>> 0) || 0x9e3779b9;
  }
  /** Uniform in [0, 1). */
  next(): number {
    let x = this.s;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.s = x >>> 0;
    return this.s / 4294967296;
  }
  /** Integer in [lo, hi] inclusive. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }
  normal(): number {
    const u = Math.max(this.next(), 1e-12);
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.next());
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(0, items.length - 1)];
  }
  shape(rankLo: number, rankHi: number, dimLo = 1, dimHi = 5): number[] {
    return Array.from({ length: this.int(rankLo, rankHi) }, () => this.int(dimLo, dimHi));
  }
  /** A fixed-point tensor of uniform reals in [lo, hi). */
  tensor(shape: number[], frac = 16, lo = -4, hi = 4): Tensor {
    const n = shape.reduce((a, b) => a * b, 1);
    return Tensor.fromFloat(Array.from({ length: n }, () => this.uniform(lo, hi)), shape, frac);
  }
}

/** Seeded uniform values in [-1, 1) from a linear congruential generator (the converter tests' inputs). */
export function uniform(count: number, seed: number): number[] {
  let s = seed >>> 0;
  return Array.from({ length: count }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s / 2 ** 32) * 2 - 1;
  });
}
