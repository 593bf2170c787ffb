/**
 * The BitShift kernel (lib/ops/bitshift.ts) against plain arithmetic on the unsigned values:
 * (x * 2^y) mod 2^bits and floor(x / 2^y) for every width, the bits shifted out of uint8/uint16,
 * negative i32 values read modulo 2^bits, amounts of the width or more (or negative) giving 0,
 * results beyond I32_MAX saturating; broadcasting; and the shape rule's refusals.
 */
import { describe, expect, it } from "vitest";
import { BitShift, bitShift } from "../../lib/ops/bitshift.js";
import { I32_MAX } from "../../lib/tensor/fixed.js";
import { Tensor } from "../../lib/tensor/tensor.js";

const ints = (shape: number[], values: number[]) => new Tensor(shape, Int32Array.from(values), 0);
const shift = (x: number[], y: number[], direction: string, bits: number) => [...bitShift(ints([x.length], x), ints([y.length], y), { direction, bits }).data];

describe("BitShift", () => {
  it("shifts the ONNX example values left and right", () => {
    expect(shift([16, 4, 1], [1, 2, 3], "LEFT", 8)).toEqual([32, 16, 8]);
    expect(shift([16, 4, 1], [1, 2, 3], "RIGHT", 8)).toEqual([8, 1, 0]);
  });

  it("drops the bits shifted out of the type, and reads a negative i32 modulo 2^bits", () => {
    expect(shift([200, 255, 0x8001], [1, 4, 1], "LEFT", 8)).toEqual([144, 240, 2]);
    expect(shift([0xffff, 0x1234], [4, 8], "LEFT", 16)).toEqual([0xfff0, 0x3400]);
    expect(shift([-1, -1, -256], [0, 4, 4], "RIGHT", 8)).toEqual([255, 15, 0]);
    expect(shift([-1], [1], "RIGHT", 32)).toEqual([2 ** 31 - 1]);
    expect(shift([-2], [4], "RIGHT", 32)).toEqual([Math.floor((2 ** 32 - 2) / 16)]);
  });

  it("gives 0 for an amount of the width or more, or a negative one", () => {
    expect(shift([1, 1, 255, 7], [8, 9, 8, -1], "LEFT", 8)).toEqual([0, 0, 0, 0]);
    expect(shift([5, 5], [64, -3], "RIGHT", 64)).toEqual([0, 0]);
    expect(shift([1], [63], "LEFT", 64)).toEqual([I32_MAX]);
  });

  it("saturates results of 2^31 or more to I32_MAX (32 and 64 bits)", () => {
    expect(shift([1, 1, 3, 0x40000000], [30, 31, 31, 1], "LEFT", 32)).toEqual([2 ** 30, I32_MAX, I32_MAX, I32_MAX]);
    expect(shift([3], [31], "LEFT", 32)).toEqual([I32_MAX]);
    expect(shift([1], [40], "LEFT", 64)).toEqual([I32_MAX]);
    expect(shift([-1], [33], "RIGHT", 64)).toEqual([I32_MAX]);
    expect(shift([-1], [34], "RIGHT", 64)).toEqual([2 ** 30 - 1]);
  });

  it("broadcasts Y against X", () => {
    const out = bitShift(ints([2, 2], [1, 2, 3, 4]), ints([2], [1, 2]), { direction: "LEFT", bits: 16 });
    expect(out.shape).toEqual([2, 2]);
    expect([...out.data]).toEqual([2, 8, 6, 16]);
  });

  it("refuses a width that is not an unsigned type's and operands at a frac", () => {
    expect(() => BitShift.infer([{ shape: [2], frac: 0 }, { shape: [2], frac: 0 }], { direction: "LEFT", bits: 12 }, { frac: 16 })).toThrow("'bits' must be 8, 16, 32 or 64");
    expect(() => BitShift.infer([{ shape: [2], frac: 16 }, { shape: [2], frac: 0 }], { direction: "LEFT", bits: 8 }, { frac: 16 })).toThrow("integer tensors at frac 0");
  });
});
