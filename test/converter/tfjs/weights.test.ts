/**
 * Weight decoding against TF.js's own decoder (tf.io.decodeWeights): random float32 and int32
 * tensors stored raw, uint8/uint16-quantized and float16, in several shards and groups, must
 * decode to exactly the values TF.js produces. Also the float16 bit decoder on edge values.
 */
import * as tf from "@tensorflow/tfjs";
import { describe, expect, it } from "vitest";
import { float16ToNumber, readWeights, type WeightGroup } from "../../../converter/tfjs/weights.js";
import { encodeWeights, toFloat16, type NamedWeight } from "../../../fixtures/tfjs/tfjs-files.js";
import { Rng } from "../../helpers/random.js";
import { tfReady } from "./helpers.js";

function randomWeights(rng: Rng, count: number): NamedWeight[] {
  return Array.from({ length: count }, (_, i) => {
    const shape = rng.shape(0, 3, 1, 6);
    const size = shape.reduce((a, b) => a * b, 1);
    const isInt = rng.int(0, 3) === 0;
    const data = isInt ? Int32Array.from({ length: size }, () => rng.int(-1000, 1000)) : Float32Array.from({ length: size }, () => rng.uniform(-3, 3));
    return { name: `w${i}`, shape, data };
  });
}

describe("TF.js weight decoding", () => {
  for (const quantize of [undefined, "uint8", "uint16", "float16"] as const) {
    it(`decodes ${quantize ?? "raw"} weights exactly as tf.io.decodeWeights`, async () => {
      await tfReady();
      for (const seed of [1, 2, 3]) {
        const rng = new Rng(seed * 10 + (quantize?.length ?? 0));
        // Two groups, each sharded, as tensorflowjs_converter may write them.
        const a = encodeWeights(randomWeights(rng, 6), { quantize, shardBytes: 37, prefix: "group1" });
        const b = encodeWeights(randomWeights(rng, 5).map((w) => ({ ...w, name: `b_${w.name}` })), { quantize, shardBytes: 50, prefix: "group2" });
        const groups: WeightGroup[] = [...a.manifest, ...b.manifest] as WeightGroup[];
        const shards = new Map([...a.shards, ...b.shards]);
        const ours = readWeights(groups, (p) => shards.get(p)!, "test");
        const all = new Uint8Array([...shards.values()].flatMap((s) => [...s]));
        const theirs = tf.io.decodeWeights(all.buffer, groups.flatMap((g) => g.weights) as tf.io.WeightsManifestEntry[]);
        for (const [name, tensor] of Object.entries(theirs)) {
          const w = ours.get(name)!;
          if (!("value" in w)) throw new Error(`${name}: ${w.unsupported}`);
          expect(w.value.shape).toEqual(tensor.shape);
          expect(Array.from(w.value.data)).toEqual(Array.from(tensor.dataSync()));
          expect(w.value.dtype).toBe(tensor.dtype === "int32" ? "int" : "float");
        }
        tf.dispose(Object.values(theirs));
      }
    });
  }

  it("decodes float16 bits (normals, subnormals, zeros, infinities, NaN)", () => {
    const cases: [number, number][] = [[0x3c00, 1], [0xc000, -2], [0x7bff, 65504], [0x0001, 2 ** -24], [0x03ff, 1023 * 2 ** -24], [0x8000, -0], [0x7c00, Infinity], [0xfc00, -Infinity], [0x3555, 0.333251953125]];
    for (const [bits, value] of cases) expect(float16ToNumber(bits)).toBe(value);
    expect(float16ToNumber(0x7e00)).toBeNaN();
    for (const [bits, value] of cases) expect(toFloat16(value)).toBe(bits);
  });

  it("keeps string weights out of the way and errors only if one is used", () => {
    const text = new TextEncoder().encode("hi");
    const bytes = new Uint8Array(4 + text.length + 4);
    new DataView(bytes.buffer).setUint32(0, text.length, true);
    bytes.set(text, 4);
    new DataView(bytes.buffer).setFloat32(4 + text.length, 1.5, true);
    const groups: WeightGroup[] = [{ paths: ["s.bin"], weights: [{ name: "s", shape: [1], dtype: "string" }, { name: "f", shape: [], dtype: "float32" }] }];
    const ours = readWeights(groups, () => bytes, "test");
    expect(ours.get("s")).toEqual({ unsupported: "it is a string tensor, which detml does not support" });
    expect(ours.get("f")).toEqual({ value: { dtype: "float", shape: [], data: Float64Array.from([1.5]) } });
  });
});
