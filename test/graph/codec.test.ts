import { createHash } from "node:crypto";
import { keccak_256 } from "@noble/hashes/sha3.js";
import { describe, expect, it } from "vitest";
import { decodeGraph, encodeGraph, sourceHash } from "../../lib/graph/codec.js";
import { GraphBuilder } from "../../lib/graph/builder.js";
import type { Graph } from "../../lib/graph/ir.js";
import { inferTypes } from "../../lib/graph/validate.js";
import { buildCnn, buildMlp } from "../helpers/models.js";
import { narrowWeights } from "../../converter/common/narrow-weights.js";

const sha256 = (b: Uint8Array) => createHash("sha256").update(b).digest();
const versionOf = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset).getUint32(8, true);

/**
 * Re-seal a modified file with a valid checksum so the decoder reaches the deeper checks: SHA-256
 * for versions 3 and 4, keccak256 for the older versions 1 and 2.
 */
function reseal(bytes: Uint8Array): Uint8Array {
  const out = bytes.slice();
  const body = out.subarray(0, out.length - 32);
  out.set(versionOf(out) >= 3 ? sha256(body) : keccak_256(body), out.length - 32);
  return out;
}

/** Rebuild a file around an edited header (weights moved to the new aligned start), resealed. */
function withHeader(bytes: Uint8Array, edit: (h: any) => void): Uint8Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset);
  const len = view.getUint32(12, true);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(16, 16 + len)));
  edit(header);
  const json = new TextEncoder().encode(JSON.stringify(header));
  const align = (n: number) => Math.ceil(n / 64) * 64;
  const weights = bytes.subarray(align(16 + len), bytes.length - 32);
  const start = align(16 + json.length);
  const out = new Uint8Array(start + weights.length + 32);
  out.set(bytes.subarray(0, 12));
  new DataView(out.buffer).setUint32(12, json.length, true);
  out.set(json, 16);
  out.set(weights, start);
  return reseal(out);
}

function expectSameGraph(a: Graph, b: Graph) {
  expect(b.frac).toBe(a.frac);
  expect(b.inputs).toEqual(a.inputs);
  expect(b.outputs).toEqual(a.outputs);
  expect(b.nodes).toEqual(a.nodes);
  expect(b.metadata).toEqual(a.metadata);
  expect([...b.constants.keys()].sort()).toEqual([...a.constants.keys()].sort());
  for (const [name, t] of a.constants) expect(b.constants.get(name)!.equals(t)).toBe(true);
}

describe(".detml codec", () => {
  it("round-trips an MLP and a CNN exactly", () => {
    for (const graph of [buildMlp(1).graph, buildCnn(2).graph]) {
      const bytes = encodeGraph(graph);
      expectSameGraph(graph, decodeGraph(bytes));
      expect(encodeGraph(decodeGraph(bytes))).toEqual(bytes);
    }
  });

  it("is canonical: constant insertion order and attribute spelling do not change the bytes", () => {
    const make = (order: "ab" | "ba", explicitDefaults: boolean) => {
      const g = new GraphBuilder();
      const x = g.input("x", [1, 2]);
      if (order === "ab") { g.constant("a", [1, 2, 3, 4], [2, 2]); g.constant("b", [0.5, -0.5], [2]); }
      else { g.constant("b", [0.5, -0.5], [2]); g.constant("a", [1, 2, 3, 4], [2, 2]); }
      const attrs: Record<string, number> = explicitDefaults ? { transA: 0, transB: 0 } : {};
      g.output(g.op("Gemm", [x, "a", "b"], attrs, { name: "fc" })[0]);
      return encodeGraph(g.build());
    };
    const ref = make("ab", false);
    expect(make("ba", false)).toEqual(ref);
    expect(make("ab", true)).toEqual(ref);
    expect(sourceHash(make("ba", true))).toBe(sourceHash(ref));
  });

  it("aligns the weights to 64 bytes and ends with the SHA-256 of the rest", () => {
    const bytes = encodeGraph(buildMlp(3).graph);
    const view = new DataView(bytes.buffer, bytes.byteOffset);
    expect(new TextDecoder().decode(bytes.subarray(0, 5))).toBe("DETML");
    expect(view.getUint32(8, true)).toBe(4);
    const headerLen = view.getUint32(12, true);
    const weightsStart = Math.ceil((16 + headerLen) / 64) * 64;
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(16, 16 + headerLen)));
    for (const c of header.constants) expect(c.offset % 64).toBe(0);
    const w1 = buildMlp(3).graph.constants.get("w1")!;
    const entry = header.constants.find((c: any) => c.name === "w1");
    expect(view.getInt32(weightsStart + entry.offset, true)).toBe(w1.data[0]);
    expect(Buffer.from(bytes.subarray(-32))).toEqual(sha256(bytes.subarray(0, -32)));
    expect(sourceHash(bytes)).toBe("0x" + sha256(bytes).toString("hex"));
  });

  it("carries a node's own frac, which changes what the node computes, and refuses one in a file older than version 4", () => {
    const graph = buildMlp(3).graph;
    const plain = encodeGraph(graph);
    const first = graph.nodes.find((n) => n.op === "Gemm" || n.op === "MatMul")!;
    const own = { ...graph, nodes: graph.nodes.map((n) => (n === first ? { ...n, frac: 10 } : n)) };
    const bytes = encodeGraph(own);
    const decoded = decodeGraph(bytes, "m.detml");
    expect(decoded.nodes.find((n) => n.name === first.name)!.frac).toBe(10);
    expect(decoded.nodes.filter((n) => n.frac !== undefined)).toHaveLength(1);
    expect(decodeGraph(plain).nodes.every((n) => n.frac === undefined)).toBe(true);
    expect(inferTypes(decoded).get(first.outputs[0])!.frac).toBe(10);
    const v3 = bytes.slice();
    v3[8] = 3;
    expect(() => decodeGraph(reseal(v3), "m.detml")).toThrow("m.detml: corrupt .detml header (a node frac in a version 3 file)");
    const bad = withHeader(bytes, (h) => { h.nodes.find((n: any) => n.frac !== undefined).frac = 31; });
    expect(() => decodeGraph(bad, "m.detml")).toThrow(`node '${first.name}'`);
    expect(() => decodeGraph(bad, "m.detml")).toThrow("frac 31 is not in 0..30");
  });

  it("still reads versions 1 to 3, whose trailer is keccak256 for 1 and 2, and refuses a keccak trailer on version 4", () => {
    const graph = buildMlp(3).graph;
    const current = encodeGraph(graph);
    expectSameGraph(graph, decodeGraph(reseal(Object.assign(current.slice(), { 8: 3 })), "v3.detml"));
    for (const old of [1, 2]) {
      const b = current.slice();
      b[8] = old;
      expectSameGraph(graph, decodeGraph(reseal(b), "old.detml"));
    }
    const wrongTrailer = current.slice();
    wrongTrailer.set(keccak_256(current.subarray(0, -32)), current.length - 32);
    expect(() => decodeGraph(wrongTrailer, "m.detml")).toThrow("m.detml: corrupt .detml file (checksum mismatch");
  });

  describe("rejects bad files with a clear error", () => {
    const good = encodeGraph(buildCnn(4).graph);
    const cases: [string, Uint8Array, RegExp][] = [
      ["empty file", new Uint8Array(0), /not a \.detml file/],
      ["an ONNX-like file", new TextEncoder().encode("\x08\x07\x12\x07pytorch" + " ".repeat(60)), /not a \.detml file/],
      ["truncated", good.subarray(0, good.length - 100), /corrupt .*checksum/],
      ["one flipped weight byte", (() => { const b = good.slice(); b[b.length - 40] ^= 1; return b; })(), /checksum mismatch/],
      ["a newer format version", (() => { const b = good.slice(); b[8] = 9; return reseal(b); })(), /format version 9 is not supported/],
      ["a header that is not JSON", (() => { const b = good.slice(); b[16] = 0x7b; b[17] = 0x7b; return reseal(b); })(), /corrupt \.detml header/],
      ["a header with a mistyped field", withHeader(good, (h) => { h.frac = "16"; }), /missing or mistyped/],
      ["an unknown op", withHeader(good, (h) => { h.nodes[0].op = "Fft"; }), /node 'conv' \(Fft\): unknown op kind 'Fft'/],
      ["a constant outside the weights", withHeader(good, (h) => { h.constants[0].offset = 6400000; }), /outside the weights section/],
      ["a dangling node input", withHeader(good, (h) => { h.nodes[1].inputs[0] = "nope"; }), /input 'nope' is not defined/],
      ["an attribute of the wrong type", withHeader(good, (h) => { h.nodes[0].attrs.pads = "1"; }), /attribute 'pads' must be ints/],
    ];
    for (const [what, bytes, message] of cases) {
      it(what, () => expect(() => decodeGraph(bytes, "m.detml")).toThrow(message));
    }
  });

  describe("narrow weights", () => {
    const plain = buildCnn(4).graph;
    const narrow = narrowWeights(plain, 8);
    const bytes = encodeGraph(narrow);

    it("decodes the same from a buffer at an unaligned offset (no typed-array views there)", () => {
      for (const file of [bytes, encodeGraph(plain)]) {
        const shifted = new Uint8Array(file.length + 3);
        shifted.set(file, 3);
        expectSameGraph(decodeGraph(file), decodeGraph(shifted.subarray(3)));
      }
    });

    it("round-trips q, shifts and values", () => {
      const back = decodeGraph(bytes, "m.detml");
      expectSameGraph(narrow, back);
      for (const [name, t] of narrow.constants) expect(back.constants.get(name)!.storage).toEqual(t.storage);
      expect(encodeGraph(back)).toEqual(bytes);
      // Each narrow weight takes a byte per element instead of four.
      const narrowElements = [...narrow.constants.values()].filter((t) => t.storage).reduce((n, t) => n + t.size, 0);
      expect(narrowElements).toBeGreaterThan(100);
      expect(encodeGraph(plain).length - bytes.length).toBeGreaterThanOrEqual(3 * narrowElements - 64 * narrow.constants.size - 2000);
    });

    const name = [...narrow.constants].find(([, t]) => t.storage)![0];
    const edit = (change: (c: any) => void) => withHeader(bytes, (h) => change(h.constants.find((c: any) => c.name === name)));
    const cases: [string, Uint8Array, RegExp][] = [
      ["a shift past 31", edit((c) => { c.storage.shifts[0] = 40; }), /shift 40 of channel 0 is not in 0\.\.31/],
      ["too few shifts", edit((c) => { c.storage.shifts.pop(); }), /shifts for \d+ channels/],
      ["a width of 12 bits", edit((c) => { c.storage.bits = 12; }), /12 bits \(8 or 16 expected\)/],
      ["an axis past the rank", edit((c) => { c.storage.axis = 9; }), /axis 9 is not an axis/],
      ["q whose shifted value leaves i32", edit((c) => { c.storage.shifts = c.storage.shifts.map(() => 31); }), /do not match its narrow storage: value -?\d+ << 31/],
      ["narrow storage in a version 1 file", (() => { const b = edit(() => undefined).slice(); b[8] = 1; return reseal(b); })(), /narrow storage in a version 1 file/],
    ];
    for (const [what, file, message] of cases) {
      it(`rejects ${what}, naming the constant`, () => {
        expect(() => decodeGraph(file, "m.detml")).toThrow(message);
        expect(() => decodeGraph(file, "m.detml")).toThrow(what.includes("version 1") ? "m.detml: corrupt" : `m.detml: constant '${name}': `);
      });
    }
  });
});
