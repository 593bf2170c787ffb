/**
 * The comparison core of `detml verify` and the conformance suite, independent of any front end:
 * a float oracle's outputs (real numbers from ONNX Runtime, TF.js, or expected values stored with
 * a test) against detml's fixed-point outputs, sample by sample. It accumulates, per output, the
 * max and mean absolute error, the max error relative to the float output's range, the argmax
 * agreement of classifier-like outputs (per row) and sequence outputs (per position), exact
 * mismatches of integer outputs, saturated values and, when a tolerance is given, the elements
 * outside it. It measures; callers decide, except that `fidelityNotes` names the two failures
 * that no error figure makes obvious: saturated values, and a float output whose whole range is a
 * few units of detml's output frac (outputs near 1e-9 all quantize to 0 at Q16), which
 * `verify --tolerance` treats as failures.
 */
import { argmaxRows } from "../batch.js";
import { I32_MAX, I32_MIN } from "../tensor/fixed.js";
import { sameShape } from "../tensor/shape.js";
import type { Tensor } from "../tensor/tensor.js";

/** A tensor of real values as a float model sees them (integers are exact below 2^53). */
export interface FloatTensor {
  shape: number[];
  data: Float64Array;
  /** Element type on the float side when known, e.g. "float32", "int64", "bool". */
  dtype?: string;
}

/** Per-element bound |actual - expected| <= atol + rtol * |expected|. */
export interface Tolerance {
  atol: number;
  rtol: number;
}

export interface OutputComparison {
  name: string;
  /** Shape of one sample's output. */
  shape: number[];
  samples: number;
  /** Elements compared (finite float values only). */
  count: number;
  /** Integer output (frac 0 on the detml side): compared exactly, see `mismatches`. */
  integer: boolean;
  maxAbsError: number;
  meanAbsError: number;
  /** max - min of the float output over all samples. */
  range: number;
  /** maxAbsError / range (range 0: relative to max |value|, or the absolute error if that is 0 too). */
  maxRelError: number;
  /** Where the largest error is: sample, flat index within the sample, both values. */
  worst?: { sample: number; index: number; expected: number; actual: number };
  /** Elements that differ at all (meaningful for integer outputs). */
  mismatches: number;
  /** detml values at the i32 limits: a hint that a value left the fixed-point range. */
  saturated: number;
  /** Frac of detml's output. */
  frac: number;
  /**
   * The float output's extent in units of 2^-frac: its range (max - min) or, if larger, its
   * largest magnitude (one constant output is not a problem). Below FEW_UNITS it quantizes to a few values.
   */
  rangeUnits: number;
  /** NaN or infinite float values, skipped. */
  nonFinite: number;
  /**
   * Argmax agreement along the last axis: per row of a classifier-like output ([C] or [N, C]
   * with C > 1), per position of a sequence output ([N, T, C]); agree of total rows or positions.
   */
  argmax?: { agree: number; total: number; percent: number; per: "row" | "position" };
  /** Elements outside the tolerance, when one was given. */
  violations?: number;
  /** Largest |error| / (atol + rtol * |expected|), when a tolerance was given (<= 1 is within). */
  toleranceRatio?: number;
}

/** Accumulates the comparison of one output over samples; `result()` gives the summary. */
export class OutputComparator {
  private samples = 0;
  private count = 0;
  private sumAbs = 0;
  private maxAbs = 0;
  private min = Infinity;
  private max = -Infinity;
  private maxMagnitude = 0;
  private worst?: OutputComparison["worst"];
  private mismatches = 0;
  private saturated = 0;
  private nonFinite = 0;
  private argmaxAgree = 0;
  private argmaxTotal = 0;
  private violations = 0;
  private toleranceRatio = 0;
  private shape?: number[];
  private integer = false;
  private frac = 0;

  constructor(readonly name: string, private readonly tolerance?: Tolerance) {}

  /** Add one sample: the float oracle's values and detml's tensor, which must have the same shape. */
  add(expected: FloatTensor, actual: Tensor): void {
    if (!sameShape(expected.shape, actual.shape)) {
      throw new Error(`output '${this.name}': detml gives shape [${actual.shape.join(",")}] but the float model gives [${expected.shape.join(",")}]`);
    }
    this.shape ??= [...actual.shape];
    this.integer = actual.frac === 0;
    this.frac = actual.frac;
    const got = actual.toFloat();
    const want = expected.data;
    for (let i = 0; i < want.length; i++) {
      const e = want[i];
      if (!Number.isFinite(e)) {
        this.nonFinite++;
        continue;
      }
      const a = got[i];
      const err = Math.abs(a - e);
      this.count++;
      this.sumAbs += err;
      if (this.worst === undefined || err > this.maxAbs) {
        this.worst = { sample: this.samples, index: i, expected: e, actual: a };
        this.maxAbs = err;
      }
      if (err !== 0) this.mismatches++;
      if (e < this.min) this.min = e;
      if (e > this.max) this.max = e;
      this.maxMagnitude = Math.max(this.maxMagnitude, Math.abs(e));
      const raw = actual.data[i];
      if (raw === I32_MAX || raw === I32_MIN) this.saturated++;
      if (this.tolerance && err > 0) {
        const ratio = err / (this.tolerance.atol + this.tolerance.rtol * Math.abs(e));
        if (ratio > 1) this.violations++;
        if (ratio > this.toleranceRatio) this.toleranceRatio = ratio;
      }
    }
    const wantRows = argmaxRows(expected);
    const gotRows = argmaxRows(actual);
    if (wantRows && gotRows) {
      this.argmaxTotal += wantRows.length;
      wantRows.forEach((r, i) => (this.argmaxAgree += r === gotRows[i] ? 1 : 0));
    }
    this.samples++;
  }

  result(): OutputComparison {
    const range = this.count > 0 ? this.max - this.min : 0;
    const scale = range > 0 ? range : this.maxMagnitude > 0 ? this.maxMagnitude : 1;
    return {
      name: this.name,
      shape: this.shape ?? [],
      samples: this.samples,
      count: this.count,
      integer: this.integer,
      maxAbsError: this.maxAbs,
      meanAbsError: this.count > 0 ? this.sumAbs / this.count : 0,
      range,
      maxRelError: this.maxAbs / scale,
      worst: this.worst,
      mismatches: this.mismatches,
      saturated: this.saturated,
      frac: this.frac,
      rangeUnits: Math.max(range, this.maxMagnitude) * 2 ** this.frac,
      nonFinite: this.nonFinite,
      argmax: this.argmaxTotal > 0
        ? { agree: this.argmaxAgree, total: this.argmaxTotal, percent: (100 * this.argmaxAgree) / this.argmaxTotal, per: this.shape!.length === 3 ? "position" : "row" }
        : undefined,
      violations: this.tolerance ? this.violations : undefined,
      toleranceRatio: this.tolerance ? this.toleranceRatio : undefined,
    };
  }
}

/** Compare every sample of every named output at once. */
export function compareOutputs(
  names: readonly string[],
  expected: Map<string, FloatTensor>[],
  actual: Map<string, Tensor>[],
  tolerance?: Tolerance,
): OutputComparison[] {
  if (expected.length !== actual.length) throw new Error(`${expected.length} float results but ${actual.length} detml results`);
  return names.map((name) => {
    const cmp = new OutputComparator(name, tolerance);
    expected.forEach((sample, i) => {
      const e = sample.get(name);
      const a = actual[i].get(name);
      if (!e) throw new Error(`the float model has no output '${name}' (it has: ${[...sample.keys()].join(", ")})`);
      if (!a) throw new Error(`detml produced no output '${name}'`);
      cmp.add(e, a);
    });
    return cmp.result();
  });
}

/** A real-valued output whose float range spans fewer units of its frac than this is flagged. */
export const FEW_UNITS = 16;

/**
 * Fidelity problems of one compared output, as notes for the report: saturated values, and a
 * real-valued output whose float values span fewer than FEW_UNITS units of its frac (range and
 * magnitude both). Empty when fine.
 * `verify --tolerance` fails on any of them.
 */
export function fidelityNotes(o: OutputComparison): string[] {
  const notes: string[] = [];
  if (o.saturated > 0) notes.push(`${o.saturated} saturated value${o.saturated === 1 ? "" : "s"} (beyond the range of Q${o.frac})`);
  if (!o.integer && o.count > 0 && o.rangeUnits < FEW_UNITS) {
    const span = o.rangeUnits < 1 ? "less than 1 unit" : `${Math.floor(o.rangeUnits)} units`;
    notes.push(`float values within ${(o.rangeUnits / 2 ** o.frac).toExponential(2)} span ${span} of Q${o.frac}: the outputs quantize to a few values (calibrate the conversion or raise --frac)`);
  }
  return notes;
}
