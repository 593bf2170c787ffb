/**
 * verifyGraph: run the float oracle and each requested detml engine on the same samples and
 * compare every graph output (see compare.ts for the measures). Engines after the first are also
 * checked bit for bit against the first, since every engine must reproduce the reference exactly.
 * Front-end neutral: the caller converts the model and builds the oracle. It sits above the
 * compiler and the runtimes (through verify/engines.ts); the measures and inputs it uses are lib/verify's.
 */
import type { Graph } from "../lib/graph/ir.js";
import type { Tensor } from "../lib/tensor/tensor.js";
import { compareOutputs, type FloatTensor, type OutputComparison, type Tolerance } from "../lib/verify/compare.js";
import type { Sample } from "../lib/verify/inputs.js";
import type { FloatOracle } from "../lib/verify/oracle.js";
import { type Engine, referenceEngine } from "./engines.js";

export interface EngineReport {
  engine: string;
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
}

export interface VerifyOptions {
  /** Engines, the first one first (default: the reference executor only; all engines: `ENGINES` of verify/engines.ts). */
  engines?: readonly Engine[];
  /** Also count elements outside this per-element tolerance. */
  tolerance?: Tolerance;
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
    const loaded = await engine.load(graph);
    const t0 = performance.now();
    const actual: Map<string, Tensor>[] = [];
    try {
      for (const s of samples) actual.push(await loaded.run(s.fixed));
    } finally {
      loaded.dispose?.();
    }
    const ms = elapsed(t0);
    const report: EngineReport = { engine: engine.name, ms, outputs: compareOutputs(graph.outputs, expected, actual, options.tolerance) };
    if (first) {
      const identical = actual.every((outs, i) => graph.outputs.every((name) => outs.get(name)!.equals(first![i].get(name)!)));
      report.identicalTo = { engine: reports[0].engine, identical };
    } else {
      first = actual;
    }
    reports.push(report);
  }
  return { oracle: oracle.name, oracleMs, samples: samples.length, engines: reports };
}
