/**
 * Runs one ONNX backend test case through detml: convert the model (static shapes from the
 * test inputs), run the reference executor on each data set and compare with the expected
 * outputs under the Q16 tolerance of docs/conformance.md. Each case gets one class:
 *   pass | fail (wrong numbers or shapes) | unsupported (the converter rejects an op, dtype or
 *   non-tensor value) | out-of-range (test values outside Q16 or i32) | too-large (skipped by
 *   size) | error (a crash in the converter or executor: a bug).
 * Cases not in the manifest are tried with every input fed at run time, then with only the
 * float inputs, then with only the first input (the others frozen into constants).
 */
import { join } from "node:path";
import { convertOnnx } from "../../converter/onnx/index.js";
import { run } from "../../lib/executor.js";
import type { Graph } from "../../lib/graph/ir.js";
import { I32_MAX, I32_MIN } from "../../lib/tensor/fixed.js";
import { Tensor } from "../../lib/tensor/tensor.js";
import { OutputComparator, type Tolerance } from "../../lib/verify/compare.js";
import { isUnsupported } from "./classify.js";
import { decodeTensor, freezeInputs, readCaseModel, readDataSets, type CaseModel, type TestTensor } from "./onnx-data.js";

export type CaseClass = "pass" | "fail" | "unsupported" | "out-of-range" | "too-large" | "error";

export interface CaseResult {
  name: string;
  class: CaseClass;
  /** ONNX op types in the model. */
  ops: string[];
  /** detml IR op kinds of the converted graph (when conversion succeeded). */
  kernels: string[];
  /** Inputs fed at run time when some were frozen into constants. */
  runtimeInputs?: string[];
  detail?: string;
  /** Largest |error| / bound over the float outputs (pass means <= 1). */
  errorRatio?: number;
  /** Crashes in input modes tried before the one that decided the class (bugs all the same). */
  crashes?: string[];
  ms: number;
}

/** Largest test case (input + output elements over all data sets) the suite runs. */
export const MAX_ELEMENTS = 2_000_000;
/** Activation frac of converted graphs (the default) and the real range it represents. */
const FRAC = 16;
const Q16_LIMIT = 2 ** (31 - FRAC);

/** Tolerance for a float output whose expected values have max magnitude `maxAbs` (see docs/conformance.md). */
export function floatTolerance(maxAbs: number): Tolerance {
  return { atol: 2 ** -10 * Math.max(1, maxAbs), rtol: 2 ** -10 };
}
const EXACT: Tolerance = { atol: 0, rtol: 0 };

/** Why the test values cannot be represented in detml, or undefined. */
function rangeProblem(tensors: TestTensor[], what: string): string | undefined {
  for (const t of tensors) {
    if (!t.data) return `${what} '${t.name}' is a ${t.dtype} tensor`;
    const float = t.cls === "float";
    const limit = float ? Q16_LIMIT : 2 ** 31;
    for (const v of t.data) {
      if (!Number.isFinite(v)) return `${what} '${t.name}' holds ${v}`;
      if (v >= limit || v < -limit) return `${what} '${t.name}' holds ${v}, outside the ${float ? `Q${FRAC}` : "i32"} range`;
    }
  }
  return undefined;
}

/** detml input tensors for the graph's inputs from the test values (floats quantized, integers kept). */
function detmlInputs(graph: Graph, values: Map<string, TestTensor>): Map<string, Tensor> {
  return new Map(graph.inputs.map((info) => {
    const t = values.get(info.name);
    if (!t) throw new Error(`converted graph has input '${info.name}' that the test does not feed`);
    return [info.name, info.frac === 0 && t.cls !== "float" ? Tensor.fromInts(t.data!, t.shape) : Tensor.fromFloat(t.data!, t.shape, info.frac)];
  }));
}

interface Attempt {
  class: CaseClass;
  detail?: string;
  kernels: string[];
  errorRatio?: number;
}

const message = (e: unknown) => (e instanceof Error ? e.message : String(e)).split("\n")[0];

/** Convert with the given inputs fed at run time, run every data set and compare. */
function attempt(name: string, model: CaseModel, dataSets: ReturnType<typeof readDataSets>, runtime: string[]): Attempt {
  const kernels = new Set<string>();
  let errorRatio = 0;
  for (const set of dataSets) {
    const inputs = set.inputs.map((proto, i) => ({ proto, value: decodeTensor(proto), name: model.inputs[i].name }));
    const frozen = new Map(inputs.filter((x) => !runtime.includes(x.name)).map((x) => [x.name, x.proto]));
    const bytes = frozen.size > 0 ? freezeInputs(model, frozen) : model.bytes;
    const shapes = Object.fromEntries(inputs.filter((x) => runtime.includes(x.name)).map((x) => [x.name, x.value.shape]));
    let graph: Graph;
    try {
      graph = convertOnnx(bytes, { shapes, source: name }).graph;
    } catch (e) {
      return { class: isUnsupported(e) ? "unsupported" : "error", detail: `convert: ${message(e)}`, kernels: [] };
    }
    graph.nodes.forEach((n) => kernels.add(n.op));
    let outputs: Map<string, Tensor>;
    try {
      const values = new Map(inputs.filter((x) => runtime.includes(x.name)).map((x) => [x.name, x.value]));
      outputs = run(graph, detmlInputs(graph, values)).outputs;
    } catch (e) {
      return { class: "error", detail: `run: ${message(e)}`, kernels: [...kernels] };
    }
    for (const [i, proto] of set.outputs.entries()) {
      const expected = decodeTensor(proto);
      const outName = model.outputs[i].name;
      const actual = outputs.get(outName) ?? outputs.get(graph.outputs[i]);
      if (!actual) return { class: "fail", detail: `no output '${outName}'`, kernels: [...kernels] };
      const float = expected.cls === "float";
      const maxAbs = expected.data!.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
      const tol = float ? floatTolerance(maxAbs) : EXACT;
      const cmp = new OutputComparator(outName, tol);
      try {
        cmp.add({ shape: expected.shape, data: expected.data! }, actual);
      } catch (e) {
        return { class: "fail", detail: message(e), kernels: [...kernels] };
      }
      const r = cmp.result();
      if (float) errorRatio = Math.max(errorRatio, r.toleranceRatio!);
      if (r.violations! > 0) {
        const w = r.worst!;
        const saturated = actual.data.some((v) => v === I32_MAX || v === I32_MIN) ? ", saturated values" : "";
        return {
          class: "fail",
          detail: `output '${outName}': ${r.violations}/${r.count} values off (worst at ${w.index}: expected ${w.expected}, got ${w.actual}, |err| ${r.maxAbsError.toExponential(2)}${saturated})`,
          kernels: [...kernels],
          errorRatio,
        };
      }
    }
  }
  return { class: "pass", kernels: [...kernels], errorRatio };
}

/** The run-time input sets to try, most inputs first, without repeats. */
function inputModes(model: CaseModel, given?: string[]): string[][] {
  if (given) return [given];
  const all = model.inputs.map((v) => v.name);
  if (all.length === 0) return [[]]; // a model without inputs (e.g. a lone Constant) runs once as is
  const floats = model.inputs.filter((v) => v.cls === "float").map((v) => v.name);
  const modes = [all, floats, all.slice(0, 1)];
  return modes.filter((m, i) => m.length > 0 && modes.findIndex((o) => o.join() === m.join()) === i);
}

/** Run one case directory; `runtimeInputs` from the manifest, else every mode is tried. */
export function runCase(root: string, name: string, runtimeInputs?: string[]): CaseResult {
  const started = performance.now();
  const dir = join(root, name);
  const finish = (r: Omit<CaseResult, "name" | "ms">): CaseResult => ({ name, ...r, ms: Math.round(performance.now() - started) });
  let model: CaseModel;
  try {
    model = readCaseModel(join(dir, "model.onnx"));
  } catch (e) {
    return finish({ class: "error", detail: `cannot read model: ${message(e)}`, ops: [], kernels: [] });
  }
  const ops = model.opTypes;
  const nonTensor = [...model.inputs, ...model.outputs].find((v) => !v.isTensor);
  if (nonTensor) return finish({ class: "unsupported", detail: `'${nonTensor.name}' is a ${nonTensor.dtype}, not a tensor`, ops, kernels: [] });
  const dataSets = readDataSets(dir);
  if (dataSets.length === 0) return finish({ class: "unsupported", detail: "no test data set", ops, kernels: [] });
  const allInputs = dataSets.flatMap((s) => s.inputs.map(decodeTensor));
  const allOutputs = dataSets.flatMap((s) => s.outputs.map(decodeTensor));
  const elements = [...allInputs, ...allOutputs].reduce((n, t) => n + (t.data?.length ?? 0), 0);
  if (elements > MAX_ELEMENTS) return finish({ class: "too-large", detail: `${elements} test values`, ops, kernels: [] });
  const problem = rangeProblem(allInputs, "input") ?? rangeProblem(allOutputs, "output");
  if (problem) {
    const unsupportedType = [...allInputs, ...allOutputs].some((t) => !t.data);
    return finish({ class: unsupportedType ? "unsupported" : "out-of-range", detail: problem, ops, kernels: [] });
  }
  const attempts: Attempt[] = [];
  for (const mode of inputModes(model, runtimeInputs)) {
    const a = attempt(name, model, dataSets, mode);
    const crashes = attempts.filter((b) => b.class === "error").map((b) => b.detail!);
    const extra = { ...(mode.length < model.inputs.length ? { runtimeInputs: mode } : {}), ...(crashes.length ? { crashes } : {}) };
    if (a.class === "pass" || a.class === "fail") return finish({ ...a, ...extra, ops });
    attempts.push(a);
  }
  // Nothing ran: report the first crash if any (a bug), else the rejection of the most frozen
  // mode, which got furthest.
  return finish({ ...(attempts.find((a) => a.class === "error") ?? attempts[attempts.length - 1]), ops });
}
