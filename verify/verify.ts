/**
 * verifyGraph: run the float oracle and each requested detml engine on the same samples and
 * compare every graph output (see compare.ts for the measures). Engines after the first are also
 * checked bit for bit against the first, since every engine must reproduce the reference exactly.
 * When an engine computes with the FAST build, the canonical build (the module the VM proves)
 * also runs every sample in the JS engine and is checked bit for bit against the first engine:
 * the fast build gives the outputs sooner, the canonical one is what a dispute rests on.
 * Front-end neutral: the caller converts the model and builds the oracle. It sits above the
 * compiler and the runtimes (through verify/engines.ts); the measures and inputs it uses are lib/verify's.
 */
import type { Graph } from "../lib/graph/ir.js";
import type { Tensor } from "../lib/tensor/tensor.js";
import { compareOutputs, type FloatTensor, type OutputComparison, type Tolerance } from "../lib/verify/compare.js";
import type { Sample } from "../lib/verify/inputs.js";
import type { FloatOracle } from "../lib/verify/oracle.js";
import { canonicalWasmEngine, type Engine, referenceEngine } from "./engines.js";

export interface EngineReport {
  engine: string;
  /** The compiled build it ran (compiled WASM engines). */
  build?: Engine["build"];
  /** Wall time of running all samples (loading excluded). */
  ms: number;
  outputs: OutputComparison[];
  /** For engines after the first: whether every output is bit-identical to the first engine's. */
  identicalTo?: { engine: string; identical: boolean };
}

export interface VerifyReport {
  oracle: string;
  oracleMs: number;
  samples: number;
  engines: EngineReport[];
  /** The canonical build checked against the first engine, when a fast build computed the outputs. */
  canonical?: CanonicalCheck;
}

export interface CanonicalCheck {
  /** The engine it was compared with (the first, normally the reference executor). */
  against: string;
  samples: number;
  /** Samples whose every output is bit-identical to the first engine's. */
  identical: number;
  /** Wall time of running all samples (compiling excluded). */
  ms: number;
}

export interface VerifyOptions {
  /** Engines, the first one first (default: the reference executor only; all engines: `ENGINES` of verify/engines.ts). */
  engines?: readonly Engine[];
  /** Also count elements outside this per-element tolerance. */
  tolerance?: Tolerance;
  /**
   * The engine that runs the canonical build when an engine computes with the fast build
   * (default: the canonical build in the JS engine); false skips the check.
   */
  canonical?: Engine | false;
}

/** Milliseconds since `start`, to the microsecond. */
const elapsed = (start: number) => Number((performance.now() - start).toFixed(3));

export async function verifyGraph(graph: Graph, oracle: FloatOracle, samples: readonly Sample[], options: VerifyOptions = {}): Promise<VerifyReport> {
  if (samples.length === 0) throw new Error("no samples to verify");
  const engines = options.engines ?? [referenceEngine];
  const started = performance.now();
  const expected: Map<string, FloatTensor>[] = [];
  for (const s of samples) expected.push(await oracle.run(s.float));
  const oracleMs = elapsed(started);

  const reports: EngineReport[] = [];
  let first: Map<string, Tensor>[] | undefined;
  for (const engine of engines) {
    const { outputs: actual, ms } = await runAll(engine, graph, samples);
    const report: EngineReport = { engine: engine.name, ...(engine.build && { build: engine.build }), ms, outputs: compareOutputs(graph.outputs, expected, actual, options.tolerance) };
    if (first) {
      report.identicalTo = { engine: reports[0].engine, identical: actual.every((outs, i) => sameOutputs(graph, outs, first![i])) };
    } else {
      first = actual;
    }
    reports.push(report);
  }
  const checker = options.canonical ?? canonicalWasmEngine;
  if (checker === false || !engines.some((e) => e.build === "fast")) return { oracle: oracle.name, oracleMs, samples: samples.length, engines: reports };
  const canonical = await runAll(checker, graph, samples);
  const identical = canonical.outputs.filter((outs, i) => sameOutputs(graph, outs, first![i])).length;
  return { oracle: oracle.name, oracleMs, samples: samples.length, engines: reports, canonical: { against: reports[0].engine, samples: samples.length, identical, ms: canonical.ms } };
}

/** Every sample through one engine, loaded once; the outputs and the wall time of the runs. */
async function runAll(engine: Engine, graph: Graph, samples: readonly Sample[]): Promise<{ outputs: Map<string, Tensor>[]; ms: number }> {
  const loaded = await engine.load(graph);
  const t0 = performance.now();
  const outputs: Map<string, Tensor>[] = [];
  try {
    for (const s of samples) outputs.push(await loaded.run(s.fixed));
  } finally {
    loaded.dispose?.();
  }
  return { outputs, ms: elapsed(t0) };
}

/** Whether every graph output of one sample is bit-identical in both runs. */
function sameOutputs(graph: Graph, a: Map<string, Tensor>, b: Map<string, Tensor>): boolean {
  return graph.outputs.every((name) => a.get(name)!.equals(b.get(name)!));
}
