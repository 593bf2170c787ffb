/**
 * The package entry against README's "Library" section: every name the README documents is
 * exported (flat for the core, as a namespace member for the later stages), so the text and the
 * API cannot drift apart. The full list of exports is test/structure/api-surface.txt.
 */
import { describe, expect, it } from "vitest";
import * as detml from "../index.js";

/** The names README's "Library" section and its example use. */
const CORE = [
  "Tensor", "quantize", "dequantize", "roundShift", "narrow", "rescale", "divRound", "chooseFrac", "ALL_OPS", "opDef", "GraphBuilder",
  "inferTypes", "encodeGraph", "decodeGraph", "sourceHash", "graphStats", "run", "loadModel", "readInputs", "readNpy", "writeNpy",
];
const STAGES: [string, string][] = [
  ["onnx", "convertOnnxFile"], ["tfjs", "convertTfjsFile"], ["compiler", "compile"], ["runtimeWasm", "WasmRunner"], ["vm", "Session"],
  ["vm", "verifyProof"], ["verify", "verifyGraph"], ["dispute", "runDispute"],
];

describe("the package entry", () => {
  it("exports the core flat, as README documents it", () => {
    const api = detml as unknown as Record<string, unknown>;
    expect(CORE.filter((name) => api[name] === undefined)).toEqual([]);
    expect(typeof detml.ops.conv).toBe("function");
  });

  it("exports each later pipeline stage as a namespace", () => {
    const api = detml as unknown as Record<string, Record<string, unknown>>;
    expect(STAGES.filter(([ns, name]) => typeof api[ns]?.[name] !== "function").map((s) => s.join("."))).toEqual([]);
  });
});
