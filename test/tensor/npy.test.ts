import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { NpyError, npyToTensor, readNpy, writeNpy } from "../../lib/tensor/npy.js";
import { Rng } from "../helpers/random.js";

/** A .npy file assembled by hand from the format spec: magic, version, header length, header, data. */
function npyFile(header: string, data: Uint8Array, major = 1): Uint8Array {
  const text = new TextEncoder().encode(header);
  const lenBytes = major === 1 ? 2 : 4;
  const out = new Uint8Array(8 + lenBytes + text.length + data.length);
  out.set([0x93, ...new TextEncoder().encode("NUMPY"), major, 0]);
  const view = new DataView(out.buffer);
  if (major === 1) view.setUint16(8, text.length, true);
  else view.setUint32(8, text.length, true);
  out.set(text, 8 + lenBytes);
  out.set(data, 8 + lenBytes + text.length);
  return out;
}

/** Little-endian bytes of values written with a DataView setter of `size` bytes. */
function bytesOf(values: (number | bigint)[], size: number, put: (v: DataView, at: number, x: never) => void): Uint8Array {
  const out = new Uint8Array(values.length * size);
  const view = new DataView(out.buffer);
  values.forEach((x, i) => put(view, i * size, x as never));
  return out;
}

const header = (descr: string, shape: string, fortran = "False") => `{'descr': '${descr}', 'fortran_order': ${fortran}, 'shape': ${shape}, }\n`;

describe("readNpy", () => {
  const cases = [
    { descr: "<f4", dtype: "float32", values: [1.5, -2.25, 3e-3, 0], size: 4, put: (v: DataView, at: number, x: number) => v.setFloat32(at, x, true) },
    { descr: "<f8", dtype: "float64", values: [1.5, -2.25, Math.PI, 1e300], size: 8, put: (v: DataView, at: number, x: number) => v.setFloat64(at, x, true) },
    { descr: "<i4", dtype: "int32", values: [1, -2, 2147483647, -2147483648], size: 4, put: (v: DataView, at: number, x: number) => v.setInt32(at, x, true) },
    { descr: "<i8", dtype: "int64", values: [50256, -2, 2147483647, -2147483648], size: 8, put: (v: DataView, at: number, x: number) => v.setBigInt64(at, BigInt(x), true) },
    { descr: "|u1", dtype: "uint8", values: [0, 255, 7, 128], size: 1, put: (v: DataView, at: number, x: number) => v.setUint8(at, x) },
    { descr: "|b1", dtype: "bool", values: [1, 0, 0, 1], size: 1, put: (v: DataView, at: number, x: number) => v.setUint8(at, x) },
  ];
  for (const c of cases) {
    for (const major of [1, 2, 3]) {
      it(`reads ${c.descr} in format ${major}.0`, () => {
        const file = npyFile(header(c.descr, "(2, 2)"), bytesOf(c.values, c.size, c.put as never), major);
        const npy = readNpy(file, "a.npy");
        expect(npy.shape).toEqual([2, 2]);
        expect(npy.dtype).toBe(c.dtype);
        const expected = c.dtype === "float32" ? Array.from(Float32Array.from(c.values)) : c.values;
        expect(Array.from(npy.data as ArrayLike<number>)).toEqual(expected);
      });
    }
  }

  it("accepts the header spellings numpy has used (quotes, spacing, key order, 2L, no trailing comma)", () => {
    const data = bytesOf([1, 2, 3], 4, ((v: DataView, at: number, x: number) => v.setInt32(at, x, true)) as never);
    for (const h of [
      `{"descr": "<i4", "fortran_order": False, "shape": (3,)}`,
      `{ 'shape' : (3L,) , 'fortran_order':False,'descr':'<i4' }      \n`,
      `{'descr': '<i4', 'fortran_order': False, 'shape': (1, 3), }`,
    ]) {
      const npy = readNpy(npyFile(h, data));
      expect(Array.from(npy.data)).toEqual([1, 2, 3]);
    }
  });

  it("reads scalars and empty arrays", () => {
    const scalar = readNpy(npyFile(header("<f8", "()"), bytesOf([2.5], 8, ((v: DataView, at: number, x: number) => v.setFloat64(at, x, true)) as never)));
    expect(scalar.shape).toEqual([]);
    expect(Array.from(scalar.data)).toEqual([2.5]);
    const empty = readNpy(npyFile(header("<f4", "(0, 3)"), new Uint8Array(0)));
    expect(empty.shape).toEqual([0, 3]);
    expect(empty.data.length).toBe(0);
  });

  it("reads the committed numpy fixtures", () => {
    const input = readNpy(new Uint8Array(readFileSync("fixtures/data/mnist_test_1000.npy")), "mnist");
    expect(input.dtype).toBe("float32");
    expect(input.shape).toEqual([1000, 1, 28, 28]);
    const tokens = readNpy(new Uint8Array(readFileSync("fixtures/data/transformer_block_input.npy")));
    expect(tokens.dtype).toBe("int64");
    expect(tokens.shape).toEqual([1, 8]);
    expect(npyToTensor(tokens, 16).frac).toBe(0);
  });

  const f4 = bytesOf([1, 2], 4, ((v: DataView, at: number, x: number) => v.setFloat32(at, x, true)) as never);
  const errors: [string, Uint8Array, string][] = [
    ["empty file", new Uint8Array(0), "x.npy: not a .npy file (bad magic; expected \\x93NUMPY)"],
    ["bad magic", new TextEncoder().encode("PK\u0003\u0004 a zip file, not npy"), "x.npy: not a .npy file (bad magic"],
    ["unknown version", (() => { const b = npyFile(header("<f4", "(2,)"), f4); b[6] = 4; return b; })(), "x.npy: unsupported .npy format version 4.0 (supported: 1.0, 2.0, 3.0)"],
    ["truncated header", npyFile(header("<f4", "(2,)"), f4).subarray(0, 30), "x.npy: truncated header: it declares"],
    ["truncated data", npyFile(header("<f4", "(2,)"), f4).subarray(0, npyFile(header("<f4", "(2,)"), f4).length - 1), "x.npy: truncated data: shape [2] of float32 needs 8 bytes, the file has 7"],
    ["trailing bytes", npyFile(header("<f4", "(1,)"), f4), "x.npy: 4 unexpected bytes after the data (shape [1] of float32 needs 4)"],
    ["complex dtype", npyFile(header("<c8", "(1,)"), f4), "x.npy: dtype <c8 is not supported; use float32, float64, int32, int64, uint8 or bool"],
    ["big-endian", npyFile(header(">f4", "(2,)"), f4), "x.npy: dtype >f4 is big-endian; save it little-endian (numpy: a.astype('<f4'))"],
    ["structured dtype", npyFile(`{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,), }`, f4), "x.npy: dtype [[\"a\",\"<f4\"]] (a structured dtype) is not supported"],
    ["fortran order", npyFile(header("<f4", "(1, 2)", "True"), f4), "x.npy: fortran_order True (column-major data) is not supported"],
    ["missing key", npyFile(`{'descr': '<f4', 'shape': (2,)}`, f4), "x.npy: malformed header: keys are {descr, shape}, expected {descr, fortran_order, shape}"],
    ["not a dict", npyFile(`['descr', '<f4']`, f4), "x.npy: malformed header: it is not a dict"],
    ["unclosed dict", npyFile(`{'descr': '<f4', 'fortran_order': False, 'shape': (2,)`, f4), "x.npy: malformed header: expected '}' at column"],
    ["missing colon", npyFile(`{'descr' '<f4'}`, f4), "x.npy: malformed header: expected ':' at column 9"],
    ["unclosed string", npyFile(`{'descr: '<f4'}`, f4), "x.npy: malformed header: expected ':' at column"],
    ["garbage", npyFile(`{'descr': <f4}`, f4), "x.npy: malformed header: unexpected '<' at column 10"],
    ["deep nesting", npyFile("(".repeat(100000), f4, 2), "x.npy: malformed header: the header dict is nested too deeply"],
    ["negative dim", npyFile(header("<f4", "(-2,)"), f4), "x.npy: malformed header: shape [-2] is not a tuple of non-negative integers"],
    ["more elements than 2^53", npyFile(header("<f4", "(4294967296, 4294967296)"), f4), "x.npy: shape [4294967296,4294967296] is too large: its dimensions multiply past 2^53"],
    // 2^52 twenty times is Infinity, times 0 is NaN: a count that passed every size check.
    ["huge dims beside a zero", npyFile(header("<f4", `(${"4503599627370496, ".repeat(20)}0)`), new Uint8Array(0)), "is too large: its dimensions multiply past 2^53"],
    ["int64 too large", npyFile(header("<i8", "(1,)"), bytesOf([5000000000n], 8, ((v: DataView, at: number, x: bigint) => v.setBigInt64(at, x, true)) as never)),
      "x.npy: int64 value 5000000000 at index 0 does not fit in int32 (detml tensors are 32-bit)"],
    ["bad utf-8 header", npyFile("{}", new Uint8Array(0), 3).map((b, i, a) => (i === a.length - 1 ? 0xff : b)), "x.npy: malformed header: it is not valid UTF-8"],
  ];
  for (const [what, bytes, message] of errors) {
    it(`rejects a file with ${what}`, () => {
      expect(() => readNpy(bytes, "x.npy")).toThrow(NpyError);
      expect(() => readNpy(bytes, "x.npy")).toThrow(message);
    });
  }

  it("never fails with anything but an NpyError on corrupted files", () => {
    const rng = new Rng(11);
    const good = writeNpy([3, 4], Float32Array.from({ length: 12 }, (_, i) => i));
    for (let k = 0; k < 3000; k++) {
      const bad = good.slice(0, rng.int(0, good.length));
      for (let j = rng.int(0, 3); j > 0; j--) bad[rng.int(0, Math.max(0, bad.length - 1))] = rng.int(0, 255);
      try {
        readNpy(bad);
      } catch (e) {
        expect(e).toBeInstanceOf(NpyError);
      }
    }
  });
});

describe("writeNpy", () => {
  for (let seed = 1; seed <= 6; seed++) {
    it(`writes aligned version 1.0 files that read back exactly (seed ${seed})`, () => {
      const rng = new Rng(seed);
      const shape = rng.shape(0, 3, 0, 5);
      const n = shape.reduce((a, b) => a * b, 1);
      const kind = rng.pick(["float32", "float64", "int32"] as const);
      const data = kind === "float32" ? Float32Array.from({ length: n }, () => rng.normal())
        : kind === "float64" ? Float64Array.from({ length: n }, () => rng.normal())
        : Int32Array.from({ length: n }, () => rng.int(-(2 ** 31), 2 ** 31 - 1));
      const bytes = writeNpy(shape, data);
      expect(bytes[6]).toBe(1);
      const headerLength = bytes[8] + 256 * bytes[9];
      expect((10 + headerLength) % 64).toBe(0);
      expect(bytes[10 + headerLength - 1]).toBe(0x0a); // header ends with a newline
      const npy = readNpy(bytes);
      expect(npy.shape).toEqual(shape);
      expect(npy.dtype).toBe(kind);
      expect(Array.from(npy.data)).toEqual(Array.from(data));
    });
  }

  it("formats the shape tuple as Python does", () => {
    const text = (shape: number[]) => {
      const bytes = writeNpy(shape, new Float32Array(shape.reduce((a, b) => a * b, 1)));
      return new TextDecoder().decode(bytes.subarray(10, 10 + bytes[8] + 256 * bytes[9]));
    };
    expect(text([])).toContain("'shape': (), }");
    expect(text([3])).toContain("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }");
    expect(text([2, 3])).toContain("'shape': (2, 3), }");
  });

  it("rejects data whose length does not match the shape", () => {
    expect(() => writeNpy([2, 2], new Float32Array(3))).toThrow("writeNpy: shape [2,2] needs 4 values, got 3");
  });
});

describe("npyToTensor", () => {
  it("quantizes floats at the given frac and keeps integers and booleans at frac 0", () => {
    const floats = npyToTensor({ shape: [3], dtype: "float32", data: Float32Array.from([0.5, -1.25, 3]) }, 8);
    expect(floats.frac).toBe(8);
    expect(Array.from(floats.data)).toEqual([128, -320, 768]);
    const ints = npyToTensor({ shape: [2], dtype: "int64", data: Int32Array.from([50256, -1]) }, 16);
    expect(ints.frac).toBe(0);
    expect(Array.from(ints.data)).toEqual([50256, -1]);
    const flags = npyToTensor({ shape: [2], dtype: "bool", data: Uint8Array.from([1, 0]) }, 16);
    expect(Array.from(flags.data)).toEqual([1, 0]);
  });
});

const hasNumpy = spawnSync("/usr/bin/python3", ["-c", "import numpy"]).status === 0;

describe.skipIf(!hasNumpy)("numpy interoperability (skipped without python3 + numpy)", () => {
  it("reads every supported dtype and format version numpy writes, and numpy reads our files", () => {
    const dir = mkdtempSync(join(tmpdir(), "detml-npy-"));
    try {
      const script = `
import numpy as np, sys
from numpy.lib import format as F
d = sys.argv[1]
a = np.arange(-6, 6).reshape(3, 4)
arrays = {"f4": (a / 4).astype("<f4"), "f8": (a / 3).astype("<f8"), "i4": a.astype("<i4"), "i8": a.astype("<i8"),
          "u1": (a + 6).astype("u1"), "b1": a > 0}
for name, arr in arrays.items():
    for v in [(1, 0), (2, 0), (3, 0)]:
        with open(f"{d}/{name}_{v[0]}.npy", "wb") as f:
            F.write_array(f, arr, version=v)
ours = np.load(f"{d}/ours.npy")
assert ours.dtype == np.float32 and ours.shape == (2, 3), (ours.dtype, ours.shape)
assert (ours == np.array([[0.5, -1, 2], [3, 4, 5.25]], dtype=np.float32)).all()
`;
      writeFileSync(join(dir, "ours.npy"), writeNpy([2, 3], Float32Array.from([0.5, -1, 2, 3, 4, 5.25])));
      const run = spawnSync("/usr/bin/python3", ["-c", script, dir], { encoding: "utf8" });
      expect(run.stderr).toBe("");
      const base = Array.from({ length: 12 }, (_, i) => i - 6);
      const expected: Record<string, number[]> = {
        f4: base.map((v) => v / 4), f8: base.map((v) => v / 3), i4: base, i8: base,
        u1: base.map((v) => v + 6), b1: base.map((v) => (v > 0 ? 1 : 0)),
      };
      for (const [name, values] of Object.entries(expected)) {
        for (const major of [1, 2, 3]) {
          const npy = readNpy(new Uint8Array(readFileSync(join(dir, `${name}_${major}.npy`))), name);
          expect(npy.shape).toEqual([3, 4]);
          expect(Array.from(npy.data)).toEqual(values);
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
