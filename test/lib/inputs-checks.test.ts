/**
 * The input checks of lib/inputs.ts quantizeInput: NaN and infinities are one-line errors naming
 * the input, the count and the first index; values beyond the format's range saturate with one
 * warning giving the count; in-range values quantize exactly as Tensor.fromFloat does.
 */
import { describe, expect, it } from "vitest";
import { InputError, quantizeInput } from "../../lib/inputs.js";
import { I32_MAX, I32_MIN } from "../../lib/tensor/fixed.js";
import { Tensor } from "../../lib/tensor/tensor.js";

const slot = { name: "x", frac: 16 };

describe("quantizeInput", () => {
  it("refuses NaN and infinities with the count and the first index", () => {
    const values = [0.5, 1, Number.NaN, 2, Number.POSITIVE_INFINITY, Number.NaN];
    expect(() => quantizeInput(values, [6], slot, "a.npy", () => {})).toThrow(InputError);
    expect(() => quantizeInput(values, [6], slot, "a.npy", () => {})).toThrow("a.npy: input 'x' has 3 NaN or infinite values (first at index 2: NaN)");
  });

  it("warns once with the count when values saturate", () => {
    const warnings: string[] = [];
    const t = quantizeInput([1e6, -1e6, 3, -32768, 32767.99999], [5], slot, "b.npy", (m) => warnings.push(m));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain("input 'x': 2 values outside the range of Q16");
    expect(warnings[0]).toContain("largest |x| 1.000e+6");
    expect([...t.data]).toEqual([I32_MAX, I32_MIN, 3 * 65536, I32_MIN, I32_MAX]);
  });

  it("quantizes in-range values like Tensor.fromFloat, without a warning", () => {
    const values = [0.1, -2.5, 1 / 3, 32767.5, -32768];
    const warnings: string[] = [];
    const t = quantizeInput(values, [5], slot, "c.npy", (m) => warnings.push(m));
    expect(warnings).toEqual([]);
    expect(t.data).toEqual(Tensor.fromFloat(values, [5], 16).data);
  });
});
