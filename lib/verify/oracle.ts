/**
 * Float oracles: the original float model, run by its own framework, that `detml verify`
 * compares detml against. An oracle declares its inputs and outputs (with symbolic dimensions as
 * strings) and runs one sample of real values. ONNX Runtime (CPU, one thread, so results do not
 * depend on the machine's core count) is the oracle for ONNX models; a TF.js oracle can implement
 * the same interface. onnxruntime-node is loaded on first use, so detml itself does not need it.
 */
import type { FloatTensor } from "./compare.js";

export interface OracleValue {
  name: string;
  /** Element type, e.g. "float32", "int64", "bool". */
  dtype: string;
  /** Dimensions; a string is a symbolic (dynamic) dimension such as "batch". */
  shape: (number | string)[];
}

export interface FloatOracle {
  /** Who computes, e.g. "onnxruntime 1.30.0 (cpu, 1 thread)". */
  readonly name: string;
  readonly inputs: readonly OracleValue[];
  readonly outputs: readonly OracleValue[];
  run(inputs: Map<string, FloatTensor>): Promise<Map<string, FloatTensor>>;
  dispose?(): Promise<void>;
}

/** Element types whose values a FloatTensor (float64) carries without loss; integers must be < 2^53. */
const TYPED_ARRAYS = {
  float32: (v: Float64Array) => Float32Array.from(v),
  float64: (v: Float64Array) => Float64Array.from(v),
  int8: (v: Float64Array) => Int8Array.from(v),
  uint8: (v: Float64Array) => Uint8Array.from(v),
  int16: (v: Float64Array) => Int16Array.from(v),
  uint16: (v: Float64Array) => Uint16Array.from(v),
  int32: (v: Float64Array) => Int32Array.from(v),
  uint32: (v: Float64Array) => Uint32Array.from(v),
  int64: (v: Float64Array) => BigInt64Array.from(v, (x) => BigInt(Math.trunc(x))),
  uint64: (v: Float64Array) => BigUint64Array.from(v, (x) => BigInt(Math.trunc(x))),
  bool: (v: Float64Array) => Uint8Array.from(v, (x) => (x !== 0 ? 1 : 0)),
} as const;

type OrtModule = typeof import("onnxruntime-node");

/**
 * How to install the ONNX oracle so that it works: onnxruntime-node's install script downloads
 * GPU (CUDA) files and fails without them; its CPU binaries are in the package itself.
 */
export const ONNXRUNTIME_INSTALL_HINT = "install it with `ONNXRUNTIME_NODE_INSTALL=skip npm install onnxruntime-node` (or `npm install --ignore-scripts onnxruntime-node`)";

/** ONNX Runtime's log severity for detml's sessions: 3 = errors only (no coloured warnings about old opsets). */
export const ORT_LOG_SEVERITY = 3;

async function loadOnnxRuntime(): Promise<OrtModule> {
  try {
    const ort = await import("onnxruntime-node");
    // Keep ONNX Runtime's own warnings (e.g. about old opsets) out of verify's report.
    ort.env.logLevel = "error";
    return ort;
  } catch (e) {
    throw new Error(`the float oracle needs onnxruntime-node, an optional peer dependency of detml: ${ONNXRUNTIME_INSTALL_HINT} (${(e as Error).message.split("\n")[0]})`);
  }
}

/** An ONNX Runtime session on a model's bytes, CPU only, single-threaded and sequential. */
export async function onnxRuntimeOracle(model: Uint8Array, source = "model"): Promise<FloatOracle> {
  const ort = await loadOnnxRuntime();
  let session: Awaited<ReturnType<OrtModule["InferenceSession"]["create"]>>;
  try {
    session = await ort.InferenceSession.create(model, {
      executionProviders: ["cpu"],
      intraOpNumThreads: 1,
      interOpNumThreads: 1,
      executionMode: "sequential",
      logSeverityLevel: ORT_LOG_SEVERITY,
    });
  } catch (e) {
    throw new Error(`${source}: onnxruntime cannot load the model: ${(e as Error).message}`);
  }
  const describe = (meta: typeof session.inputMetadata): OracleValue[] =>
    meta.map((m) => (m.isTensor ? { name: m.name, dtype: m.type, shape: [...m.shape] } : { name: m.name, dtype: "non-tensor", shape: [] }));
  const inputs = describe(session.inputMetadata);
  const outputs = describe(session.outputMetadata);
  return {
    name: `onnxruntime ${ort.env.versions.common} (cpu, 1 thread)`,
    inputs,
    outputs,
    async run(values) {
      const feeds: Record<string, InstanceType<OrtModule["Tensor"]>> = {};
      for (const info of inputs) {
        const v = values.get(info.name);
        if (!v) throw new Error(`no value for the float model's input '${info.name}'`);
        const make = TYPED_ARRAYS[info.dtype as keyof typeof TYPED_ARRAYS];
        if (!make) throw new Error(`input '${info.name}' has element type ${info.dtype}, which verify cannot feed`);
        feeds[info.name] = new ort.Tensor(info.dtype as "float32", make(v.data) as Float32Array, v.shape);
      }
      const results = await session.run(feeds);
      return new Map(outputs.map((info) => {
        const t = results[info.name];
        if (!(info.dtype in TYPED_ARRAYS)) throw new Error(`output '${info.name}' has element type ${info.dtype}, which verify cannot compare`);
        const data = Float64Array.from(t.data as ArrayLike<number | bigint>, Number);
        return [info.name, { shape: [...t.dims], data, dtype: info.dtype }];
      }));
    },
    dispose: () => session.release(),
  };
}
