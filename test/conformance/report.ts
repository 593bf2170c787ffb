/**
 * Summaries of a conformance run: counts per class, per ONNX op type and per detml kernel, the
 * pass rate over the cases detml supports (pass + fail + error: the converter accepted the ops
 * and dtypes, or crashed on them), and the text table printed after the suite.
 */
import type { CaseClass, CaseResult } from "./runner.js";

export const CLASSES: readonly CaseClass[] = ["pass", "fail", "error", "unsupported", "out-of-range", "too-large"];

export type ClassCounts = Record<CaseClass, number>;

const zero = (): ClassCounts => Object.fromEntries(CLASSES.map((c) => [c, 0])) as ClassCounts;

export interface Summary {
  cases: number;
  totals: ClassCounts;
  /** pass / (pass + fail + error). */
  passRate: number;
  perOp: Record<string, ClassCounts>;
  /** detml kernels with at least one passing case, and those without. */
  coveredKernels: string[];
  uncoveredKernels: string[];
}

export function summarize(results: CaseResult[], kernels: readonly string[]): Summary {
  const totals = zero();
  const perOp: Record<string, ClassCounts> = {};
  const covered = new Set<string>();
  for (const r of results) {
    totals[r.class]++;
    for (const op of r.ops) (perOp[op] ??= zero())[r.class]++;
    if (r.class === "pass") r.kernels.forEach((k) => covered.add(k));
  }
  const supported = totals.pass + totals.fail + totals.error;
  return {
    cases: results.length,
    totals,
    passRate: supported > 0 ? totals.pass / supported : 1,
    perOp: Object.fromEntries(Object.entries(perOp).sort(([a], [b]) => (a < b ? -1 : 1))),
    coveredKernels: kernels.filter((k) => covered.has(k)),
    uncoveredKernels: kernels.filter((k) => !covered.has(k)),
  };
}

/** The text report: per-op counts (ops with a supported case), then totals and problems. */
export function formatSummary(summary: Summary, results: CaseResult[]): string {
  const lines: string[] = [];
  const head = ["op", ...CLASSES];
  const rows = Object.entries(summary.perOp)
    .filter(([, c]) => c.pass + c.fail + c.error > 0)
    .map(([op, c]) => [op, ...CLASSES.map((k) => (c[k] ? String(c[k]) : "."))]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  for (const r of [head, ...rows]) lines.push(r.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join("  "));
  const other = Object.keys(summary.perOp).filter((op) => !rows.some((r) => r[0] === op));
  lines.push(`ops with no supported case (${other.length}): ${other.join(" ")}`);
  const t = summary.totals;
  lines.push(`total ${summary.cases} cases: ${CLASSES.map((c) => `${t[c]} ${c}`).join(", ")}`);
  lines.push(`pass rate over supported cases (pass+fail+error): ${(100 * summary.passRate).toFixed(1)}%`);
  lines.push(`kernels covered by a passing case: ${summary.coveredKernels.length}/${summary.coveredKernels.length + summary.uncoveredKernels.length}` +
    (summary.uncoveredKernels.length ? ` (missing: ${summary.uncoveredKernels.join(", ")})` : ""));
  for (const cls of ["error", "fail"] as const) {
    const bad = results.filter((r) => r.class === cls);
    if (bad.length) lines.push(`${cls} (${bad.length}):`, ...bad.map((r) => `  ${r.name} [${r.ops.join(",")}]: ${r.detail}`));
  }
  const crashed = results.filter((r) => r.crashes);
  if (crashed.length) {
    lines.push(`crashes with more inputs fed at run time (${crashed.length}):`, ...crashed.map((r) => `  ${r.name} [${r.ops.join(",")}]: ${r.crashes!.join("; ")}`));
  }
  return lines.join("\n");
}
