/**
 * docs/ops.md must equal what test/structure/ops-doc.ts generates from the op contracts and the
 * converter registries; `UPDATE_OPS_DOC=1` rewrites it instead of failing. A second test checks
 * the generator itself on known rows, so a generator that silently lost its facts would fail too.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ONNX_OPS } from "../../converter/onnx/ops.js";
import { ALL_OPS } from "../../lib/ops/index.js";
import { opsDoc } from "./ops-doc.js";

const DOC = new URL("../../docs/ops.md", import.meta.url).pathname;

describe("docs/ops.md", () => {
  const generated = opsDoc();

  it("is up to date with the op contracts and the registries", () => {
    if (process.env.UPDATE_OPS_DOC) writeFileSync(DOC, generated);
    expect(readFileSync(DOC, "utf8"), "docs/ops.md is stale: run UPDATE_OPS_DOC=1 npx vitest run test/structure/ops-doc.test.ts").toBe(generated);
  });

  it("lists every IR op and every ONNX op with the detml ops it becomes", () => {
    for (const def of ALL_OPS) expect(generated).toContain(`| ${def.kind} | ${def.summary.replace(/\|/g, "\\|")} |`);
    for (const op of Object.keys(ONNX_OPS)) expect(generated).toMatch(new RegExp(`^\\| ${op} \\| `, "m"));
    expect(generated).toMatch(/^\| ScatterND \| .*Equal.*ReduceSum.*Where.* \| reduction \| - \|$/m);
    expect(generated).toMatch(/^\| Slice \| Slice \| .*starts.* \| 10 \|$/m);
    expect(generated).toMatch(/^\| Conv2D \| .*Conv.* \|/m);
  });
});
