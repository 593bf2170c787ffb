import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { isUnsupported } from "./classify.js";
import { parseManifest, readManifest, writeManifest } from "./manifest.js";
import { summarize } from "./report.js";
import type { CaseResult } from "./runner.js";

describe("conformance manifest", () => {
  it("parses names, input tags and comments, and round-trips", () => {
    const m = parseManifest("# header\nnode/test_add\n\nnode/test_reshape_one_dim input:data  # frozen shape\nnode/test_where input:c input:x\n");
    expect([...m.values()]).toEqual([
      { name: "node/test_add", runtimeInputs: undefined },
      { name: "node/test_reshape_one_dim", runtimeInputs: ["data"] },
      { name: "node/test_where", runtimeInputs: ["c", "x"] },
    ]);
    const path = join(mkdtempSync(join(tmpdir(), "detml-manifest-")), "manifest.txt");
    writeManifest(path, [...m.values()].reverse());
    expect(readManifest(path)).toEqual(m);
    expect(readFileSync(path, "utf8")).toContain("node/test_add\nnode/test_reshape_one_dim input:data\n");
  });

  it("rejects unknown tags and duplicates with the line number", () => {
    expect(() => parseManifest("node/a\nnode/b slow")).toThrow("manifest line 2: unknown tag 'slow' (known: input:NAME)");
    expect(() => parseManifest("node/a\nnode/a")).toThrow("manifest line 2: 'node/a' listed twice");
  });
});

describe("conformance classification", () => {
  it("tells explicit rejections from crashes", () => {
    expect(isUnsupported(new Error("unsupported ONNX ops: Loop (node 'l')"))).toBe(true);
    expect(isUnsupported(new Error("node 'c' (Conv): input X has rank 5, Conv supports 1D and 2D: rank 3 [N,C,L] or rank 4 [N,C,H,W]"))).toBe(true);
    expect(isUnsupported(new Error("node 'r' (Resize): input 2 (scales) must be a constant: detml graphs have static shapes"))).toBe(true);
    expect(isUnsupported(new Error("node 'p' (PRelu): slope shape [3] does not broadcast to input shape [2,3,4]"))).toBe(false);
    expect(isUnsupported(new TypeError("x is not supported"))).toBe(false);
    expect(isUnsupported(new Error("node 'a' (Add): Cannot read properties of undefined (reading 'shape')"))).toBe(false);
  });

  it("computes the pass rate over supported cases and kernel coverage", () => {
    const r = (name: string, cls: CaseResult["class"], kernels: string[] = []): CaseResult => ({ name, class: cls, ops: ["Op"], kernels, ms: 0 });
    const s = summarize([r("a", "pass", ["Add"]), r("b", "pass", ["Add", "Relu"]), r("c", "fail", ["Exp"]), r("d", "unsupported"), r("e", "error")], ["Add", "Relu", "Exp"]);
    expect(s.passRate).toBeCloseTo(2 / 4, 12);
    expect(s.totals).toMatchObject({ pass: 2, fail: 1, error: 1, unsupported: 1 });
    expect(s.perOp.Op).toMatchObject({ pass: 2, fail: 1, error: 1, unsupported: 1 });
    expect(s.coveredKernels).toEqual(["Add", "Relu"]);
    expect(s.uncoveredKernels).toEqual(["Exp"]);
  });
});
