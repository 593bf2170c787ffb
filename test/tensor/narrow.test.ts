/**
 * Narrow weight storage (lib/tensor/narrow.ts): the per-channel rounding of `narrowChannels`
 * (smallest shift whose q, rounded to nearest with ties to even, fits; saturation at the i32 edge), the Tensor's check of
 * a storage descriptor, and the q extraction and expansion the codec and the compiler use. The
 * expected values are worked out by hand in the comments.
 */
import { describe, expect, it } from "vitest";
import { expandNarrow, narrowChannels, narrowValues } from "../../lib/tensor/narrow.js";
import { Tensor } from "../../lib/tensor/tensor.js";

describe("narrowChannels", () => {
  it("takes per channel the smallest shift whose rounded q fits, rounding ties to even", () => {
    // Channel 0 (row 0): max 127 fits at shift 0. Channel 1: 300/2 = 150 > 127, 300/4 = 75 fits:
    // shift 2; 6/4 = 1.5 -> 2, -6/4 = -1.5 -> -2 (ties to even, not -1), 9/4 = 2.25 -> 2.
    // Channel 2: -129 needs shift 1 (-64.5 -> -64), 3/2 = 1.5 -> 2, 1/2 = 0.5 -> 0 (not 1).
    const { data, storage } = narrowChannels([3, 4], Int32Array.of(127, -128, 5, 0, 300, 6, -6, 9, -129, 3, 0, 1), 8, 0);
    expect(storage).toEqual({ bits: 8, axis: 0, shifts: [0, 2, 1] });
    expect([...data]).toEqual([127, -128, 5, 0, 300, 8, -8, 8, -128, 4, 0, 0]);
  });

  it("rounds along the last axis at 16 bits and keeps zeros at shift 0", () => {
    // Columns: [70000, -3] -> shift 2 (70000/4 = 17500; -3/4 = -0.75 -> -1); [0, 0] -> 0; [32767, -32768] -> 0.
    const { data, storage } = narrowChannels([2, 3], Int32Array.of(70000, 0, 32767, -3, 0, -32768), 16, 1);
    expect(storage.shifts).toEqual([2, 0, 0]);
    expect([...data]).toEqual([70000, 0, 32767, -4, 0, -32768]);
  });

  it("saturates q << s to the i32 range at the top of i32", () => {
    // 2^31 - 1 at 8 bits: shift 24 gives 127.99 -> 128 (too big), shift 25 gives 63.99 -> 64, and
    // 64 << 25 = 2^31 does not fit: saturated to 63 << 25.
    const { data, storage } = narrowChannels([1, 2], Int32Array.of(2147483647, -2147483648), 8, 0);
    expect(storage.shifts).toEqual([25]);
    expect([...data]).toEqual([63 * 2 ** 25, -2147483648]);
  });
});

describe("narrowChannels' rounding has no bias", () => {
  it("rounds a channel of ties half up and half down: the mean error is 0 (ties up would give +1)", () => {
    // The odd numbers -253..253: -253 needs shift 1 (-126.5 -> -126), where every value is a tie.
    const odd = Int32Array.from({ length: 254 }, (_, i) => 2 * i - 253);
    const { data, storage } = narrowChannels([1, odd.length], odd, 8, 0);
    expect(storage.shifts).toEqual([1]);
    expect(data.reduce((sum, v, i) => sum + (v - odd[i]), 0)).toBe(0);
    expect([...data.slice(0, 4)]).toEqual([-252, -252, -248, -248]); // -126.5 -> -126, -125.5 -> -126, -124.5 -> -124, -123.5 -> -124
  });
});

describe("a Tensor with narrow storage", () => {
  const storage = { bits: 8 as const, axis: 1, shifts: [0, 3] };

  it("accepts values of the form q << s_c and gives back q", () => {
    const t = new Tensor([2, 2], Int32Array.of(-128, 8 * 127, 5, -8 * 128), 12, storage);
    expect([...narrowValues(t.shape, t.data, t.storage!)]).toEqual([-128, 127, 5, -128]);
    expect(expandNarrow(t.shape, Int8Array.of(-128, 127, 5, -128), storage)).toEqual(t.data);
    expect(String(t)).toBe("Tensor<i32 Q12 stored i8 along axis 1>[2,2]");
  });

  it("refuses values that are not q << s_c, naming the first", () => {
    expect(() => new Tensor([2, 2], Int32Array.of(0, 12, 0, 0), 0, storage)).toThrow("value 12 at index 1 (channel 1) is not q << 3 with q in -128..127");
    expect(() => new Tensor([2, 2], Int32Array.of(128, 0, 0, 0), 0, storage)).toThrow("value 128 at index 0");
    expect(() => new Tensor([2, 2], new Int32Array(4), 0, { ...storage, shifts: [0] })).toThrow("1 shifts for 2 channels");
  });

  it("reports a q whose shifted value leaves the i32 range", () => {
    expect(expandNarrow([1], Int8Array.of(2), { bits: 8, axis: 0, shifts: [30] })).toBe("value 2 << 30 at index 0 does not fit an i32");
  });
});
