/**
 * Build small ONNX models in tests with onnx-proto's encoder, so every bad-input and per-opset
 * case is generated in the test itself (no committed binary files). Also runs a model through
 * onnxruntime-node, the float oracle.
 */
import pkg from "onnx-proto";
import type { onnx as OnnxTypes } from "onnx-proto";
import * as ort from "onnxruntime-node";
import { ORT_LOG_SEVERITY } from "../../../lib/verify/oracle.js";

const { onnx } = pkg;
export const DT = onnx.TensorProto.DataType;

type AttrInput = number | number[] | string | OnnxTypes.ITensorProto | { floats: number[] } | { float: number };

export interface NodeSpec {
  op: string;
  inputs: string[];
  outputs: string[];
  name?: string;
  attrs?: Record<string, AttrInput>;
  domain?: string;
}

export interface ValueSpec {
  name: string;
  /** numbers are fixed dims, strings symbolic ones; undefined: no shape at all. */
  shape?: (number | string)[];
  type?: number;
}

function attribute(name: string, v: AttrInput): OnnxTypes.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if (typeof v === "string") return { name, type: T.STRING, s: new TextEncoder().encode(v) };
  if (typeof v === "number") return Number.isInteger(v) ? { name, type: T.INT, i: v } : { name, type: T.FLOAT, f: v };
  if (Array.isArray(v)) return { name, type: T.INTS, ints: v };
  if ("floats" in v) return { name, type: T.FLOATS, floats: v.floats };
  if ("float" in v) return { name, type: T.FLOAT, f: v.float };
  return { name, type: T.TENSOR, t: v };
}

/** A tensor proto; float data goes to raw_data (little-endian) unless `typed` asks for the typed field. */
export function tensor(name: string, dims: number[], values: number[], type: number = DT.FLOAT, typed = false): OnnxTypes.ITensorProto {
  const t: OnnxTypes.ITensorProto = { name, dims, dataType: type };
  if (typed) {
    if (type === DT.FLOAT) t.floatData = values;
    else if (type === DT.INT64) t.int64Data = values;
    else if (type === DT.DOUBLE) t.doubleData = values;
    else t.int32Data = values;
    return t;
  }
  const width = type === DT.INT64 || type === DT.DOUBLE ? 8 : type === DT.BOOL || type === DT.UINT8 || type === DT.INT8 ? 1 : type === DT.FLOAT16 ? 2 : 4;
  const view = new DataView(new ArrayBuffer(values.length * width));
  values.forEach((v, i) => {
    if (type === DT.FLOAT) view.setFloat32(i * width, v, true);
    else if (type === DT.DOUBLE) view.setFloat64(i * width, v, true);
    else if (type === DT.INT64) view.setBigInt64(i * width, BigInt(v), true);
    else if (type === DT.INT32) view.setInt32(i * width, v, true);
    else if (type === DT.INT8) view.setInt8(i * width, v);
    else if (type === DT.FLOAT16) view.setUint16(i * width, v, true);
    else view.setUint8(i * width, v);
  });
  t.rawData = new Uint8Array(view.buffer);
  return t;
}

function valueInfo(v: ValueSpec): OnnxTypes.IValueInfoProto {
  const shape = v.shape && { dim: v.shape.map((d) => (typeof d === "number" ? { dimValue: d } : { dimParam: d })) };
  return { name: v.name, type: { tensorType: { elemType: v.type ?? DT.FLOAT, ...(shape ? { shape } : {}) } } };
}

export interface ModelSpec {
  nodes: NodeSpec[];
  inputs: ValueSpec[];
  outputs: ValueSpec[];
  initializers?: OnnxTypes.ITensorProto[];
  opset?: number;
}

export function buildModel(spec: ModelSpec): Uint8Array {
  const model: OnnxTypes.IModelProto = {
    irVersion: 7,
    producerName: "detml-test",
    opsetImport: [{ domain: "", version: spec.opset ?? 13 }],
    graph: {
      name: "test",
      node: spec.nodes.map((n, i) => ({
        name: n.name ?? `${n.op.toLowerCase()}_${i}`,
        opType: n.op,
        input: n.inputs,
        output: n.outputs,
        domain: n.domain ?? "",
        attribute: Object.entries(n.attrs ?? {}).map(([k, v]) => attribute(k, v)),
      })),
      input: spec.inputs.map(valueInfo),
      output: spec.outputs.map(valueInfo),
      initializer: spec.initializers ?? [],
    },
  };
  return onnx.ModelProto.encode(model).finish();
}

/** Run a model in onnxruntime (the float reference) on float32 inputs. */
export async function runOrt(bytes: Uint8Array, feeds: Record<string, { data: Float32Array | BigInt64Array; shape: number[] }>): Promise<Record<string, { data: Float64Array; shape: number[] }>> {
  const session = await ort.InferenceSession.create(bytes, { logSeverityLevel: ORT_LOG_SEVERITY });
  const inputs = Object.fromEntries(Object.entries(feeds).map(([k, v]) => [k, new ort.Tensor(v.data instanceof BigInt64Array ? "int64" : "float32", v.data, v.shape)]));
  const result = await session.run(inputs);
  await session.release();
  return Object.fromEntries(Object.entries(result).map(([k, t]) => [k, { data: Float64Array.from(t.data as Float32Array, Number), shape: [...t.dims] }]));
}
