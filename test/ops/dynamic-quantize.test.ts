/**
 * The DynamicQuantizeLinear kernel (lib/ops/dynamic-quantize.ts, integer-only) against ONNX's
 * float32 definition evaluated with Math.fround on the same real inputs: the ONNX example whose
 * -2.5 lands on -127.49999 in float32 (26, where exact arithmetic would give 25), the two
 * adjusted examples, random tensors with ranges from one raw unit to beyond 2^24 raw units (where
 * the range itself rounds to float32), one-signed inputs and the all-zero input.
 */
import { describe, expect, it } from "vitest";
import { dynamicQuantizeLinear, float32Quotient } from "../../lib/ops/dynamic-quantize.js";
import { I32_MAX, I32_MIN } from "../../lib/tensor/fixed.js";
import { Tensor } from "../../lib/tensor/tensor.js";
import { Rng } from "../helpers/random.js";

const roundHalfEven = (v: number) => {
  const r = Math.round(v);
  return Math.abs(v % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
};

/** ONNX's reference in float32 (Math.fround after each operation), on exact real inputs. */
function float32Reference(values: number[]): { y: number[]; scale: number; zeroPoint: number } {
  const high = Math.max(0, ...values);
  const low = Math.min(0, ...values);
  // A zero range has no float32 answer (0 / 0); detml defines it as all zeros (tested below).
  if (high === low) return { y: values.map(() => 0), scale: 0, zeroPoint: 0 };
  const scale = Math.fround(Math.fround(high - low) / 255);
  const clamp = (v: number) => Math.min(255, Math.max(0, v));
  const zeroPoint = clamp(roundHalfEven(-Math.fround(low / scale)));
  return { y: values.map((v) => clamp(roundHalfEven(Math.fround(v / scale)) + zeroPoint)), scale, zeroPoint };
}

function expectLikeFloat32(raw: number[], frac = 16): void {
  const x = new Tensor([raw.length], Int32Array.from(raw), frac);
  const [y, scale, zeroPoint] = dynamicQuantizeLinear(x, 16);
  const want = float32Reference(raw.map((v) => v / 2 ** frac));
  expect(zeroPoint.data[0], "zero point").toBe(want.zeroPoint);
  expect([...y.data]).toEqual(want.y);
  // The float32 scale narrowed to Q16, round half up, saturating.
  expect(scale.data[0], "scale").toBe(Math.min(I32_MAX, Math.round(want.scale * 65536)));
}

describe("DynamicQuantizeLinear", () => {
  it("gives ONNX's examples, float32 ties included", () => {
    const onnx = (values: number[]) => [...dynamicQuantizeLinear(Tensor.fromFloat(Float32Array.from(values), [values.length], 16), 16)[0].data];
    expect(onnx([0, 2, -3, -2.5, 1.34, 0.5])).toEqual([153, 255, 0, 26, 221, 179]);
    expect(onnx([-1, -2.1, -1.3, -2.5, -3.34, -4])).toEqual([191, 121, 172, 96, 42, 0]);
    expect(onnx([1, 2.1, 1.3, 2.5, 3.34, 4, 1.5, 2.6, 3.9, 4, 3, 2.345])).toEqual([64, 134, 83, 159, 213, 255, 96, 166, 249, 255, 191, 149]);
  });

  it("matches the float32 definition on random inputs of every range", () => {
    const rng = new Rng(5);
    for (let t = 0; t < 300; t++) {
      const spread = 2 ** rng.int(0, 31);
      const raw = Array.from({ length: rng.int(1, 12) }, () => Math.max(I32_MIN, Math.min(I32_MAX, Math.round(rng.uniform(-1, 1) * spread))));
      expectLikeFloat32(raw, rng.pick([0, 8, 16]));
    }
  });

  it("handles one-signed inputs, a range of one raw unit and the extremes", () => {
    expectLikeFloat32([1, 2, 3]);
    expectLikeFloat32([-7, -1]);
    expectLikeFloat32([1]);
    expectLikeFloat32([I32_MIN, I32_MAX, 0, -1, 1]);
    expectLikeFloat32([I32_MAX - 1, 2 ** 24 + 1]);
  });

  it("gives zeros for an all-zero input", () => {
    const [y, scale, zeroPoint] = dynamicQuantizeLinear(new Tensor([3], new Int32Array(3), 16), 16);
    expect([...y.data, scale.data[0], zeroPoint.data[0]]).toEqual([0, 0, 0, 0, 0]);
  });

  it("rounds a quotient to 24 significant bits, ties to even", () => {
    // 2^24 + 1 is halfway between two float32 values and rounds to the even 2^24.
    expect(float32Quotient(2n ** 24n + 1n, 1n)).toEqual({ mantissa: 2n ** 23n, exponent: 24 });
    expect(float32Quotient(2n ** 24n + 3n, 1n)).toEqual({ mantissa: 2n ** 23n + 2n, exponent: 24 });
    expect(float32Quotient(1n, 3n)).toEqual({ mantissa: 11184811n, exponent: -2 });
  });
});
