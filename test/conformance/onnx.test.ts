/**
 * ONNX backend conformance: every case of ONNX 1.12's backend test data (fetched by
 * scripts/fetch-onnx-testdata.sh into .cache/) plus the generated cases of extra-cases.ts, run
 * through the ONNX converter and the reference executor (see runner.ts and docs/conformance.md).
 * Each manifest case is a test that must pass; every other case must be unsupported or out of
 * range (a pass outside the manifest means the manifest is stale, a fail or error is a bug). Then
 * the targets: >= 95% of the supported cases pass and every kernel has a passing case. Each test
 * runs the cases it needs (each case runs once, whichever test asks first), so any test can run
 * alone. The report goes to .cache/conformance-report.json and the console.
 * Environment (set by `npm run conformance -- ...`, see run.mjs): CONFORMANCE_UPDATE=1 rewrites
 * the manifest from this run; CONFORMANCE_FILTER=text runs only cases whose name contains it.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ALL_OPS } from "../../lib/ops/index.js";
import { writeExtraCases } from "./extra-cases.js";
import { readManifest, writeManifest } from "./manifest.js";
import { formatSummary, summarize } from "./report.js";
import { runCase, type CaseResult } from "./runner.js";

const REPO = resolve(import.meta.dirname, "../..");
const CACHE = join(REPO, ".cache/onnx-testdata");
const MANIFEST = join(import.meta.dirname, "manifest.txt");
const REPORT = join(REPO, ".cache/conformance-report.json");
const GROUPS = ["node", "pytorch-converted", "pytorch-operator", "simple", "extra"];
const UPDATE = process.env.CONFORMANCE_UPDATE === "1";
const FILTER = process.env.CONFORMANCE_FILTER ?? "";

/** The directory holding node/, pytorch-converted/, ...: fetched on first use, plus the generated extra/. */
function testDataRoot(): string {
  const marker = join(CACHE, ".complete");
  if (!existsSync(marker)) execFileSync("sh", [join(REPO, "scripts/fetch-onnx-testdata.sh")], { stdio: "inherit" });
  const root = join(CACHE, readFileSync(marker, "utf8").trim());
  return root;
}

const root = testDataRoot();
await writeExtraCases(join(root, "extra"));
const manifest = readManifest(MANIFEST);
const allCases = GROUPS.flatMap((g) => readdirSync(join(root, g)).sort().map((c) => `${g}/${c}`))
  .filter((name) => existsSync(join(root, name, "model.onnx")) && name.includes(FILTER));
const results = new Map<string, CaseResult>();

/** The result of a case, run on first use (manifest cases with their run-time inputs). */
function resultOf(name: string): CaseResult {
  let r = results.get(name);
  if (!r) {
    r = runCase(root, name, UPDATE ? undefined : manifest.get(name)?.runtimeInputs);
    results.set(name, r);
  }
  return r;
}

/** Classes a case outside the manifest may have: detml does not claim it. */
const UNCLAIMED = new Set(["unsupported", "out-of-range", "too-large"]);

describe("ONNX backend conformance", () => {
  const expected = UPDATE ? [] : allCases.filter((name) => manifest.has(name));
  const others = allCases.filter((name) => !expected.includes(name));

  it("has the test data and a manifest", () => {
    expect(allCases.length, `no cases under ${root}`).toBeGreaterThan(0);
    const missing = [...manifest.keys()].filter((name) => !existsSync(join(root, name, "model.onnx")));
    expect(missing, "manifest cases missing from the test data").toEqual([]);
  });

  for (const group of GROUPS) {
    const cases = expected.filter((name) => name.startsWith(`${group}/`));
    if (cases.length === 0) continue;
    describe(`${group} (manifest cases must pass)`, () => {
      it.each(cases)("%s", (name) => {
        const r = resultOf(name);
        expect(r.class, r.detail).toBe("pass");
      });
    });
  }

  it(`finds the ${others.length} cases outside the manifest unsupported or out of range`, () => {
    const claimed = others.map(resultOf).filter((r) => !UNCLAIMED.has(r.class)).map((r) => `${r.name}: ${r.class}${r.detail ? ` (${r.detail})` : ""}`);
    // CONFORMANCE_UPDATE=1 runs every case to rewrite the manifest from the passes.
    if (!UPDATE) expect(claimed, "a pass outside the manifest: regenerate it (npm run conformance -- --update-manifest); a fail or error: a bug").toEqual([]);
  });

  const partial = FILTER !== "";
  it.skipIf(partial)("passes at least 95% of the cases whose ops and dtypes detml supports", () => {
    const s = summarize(allCases.map(resultOf), []);
    expect(s.passRate, `pass rate ${(100 * s.passRate).toFixed(1)}%`).toBeGreaterThanOrEqual(0.95);
  });

  it.skipIf(partial)("covers every detml kernel with a passing case", () => {
    const s = summarize(allCases.map(resultOf), ALL_OPS.map((d) => d.kind));
    expect(s.uncoveredKernels).toEqual([]);
  });

  afterAll(() => {
    const list = [...results.values()].sort((a, b) => (a.name < b.name ? -1 : 1));
    const summary = summarize(list, ALL_OPS.map((d) => d.kind));
    mkdirSync(join(REPO, ".cache"), { recursive: true });
    writeFileSync(REPORT, JSON.stringify({ summary, cases: list }, null, 1));
    console.log(`${formatSummary(summary, list)}\nreport: ${REPORT}`);
    if (UPDATE && !partial) {
      writeManifest(MANIFEST, list.filter((r) => r.class === "pass").map((r) => ({ name: r.name, runtimeInputs: r.runtimeInputs })));
      console.log(`manifest rewritten: ${MANIFEST} (${summary.totals.pass} cases)`);
    }
  });
});
