/**
 * Reading the ONNX backend test data: a case directory holds model.onnx and test_data_set_N/
 * with input_<i>.pb / output_<i>.pb TensorProtos. Values become float64 arrays (decoded by the
 * converter's own TensorProto reader); string and complex tensors are recognised but carry no
 * values, since detml has no such types. Also freezes chosen model inputs into initializers (the
 * tract-style `input:` tags of the manifest), because detml wants shape-like operands constant.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import onnxProto from "onnx-proto";
import { dataTypeName, ExternalData, tensorValue, valueClassOf } from "../../converter/onnx/proto.js";
import type { ValueClass } from "../../converter/common/values.js";

const { onnx } = onnxProto;
type TensorProto = InstanceType<typeof onnx.TensorProto>;
type ValueInfoProto = onnxProto.onnx.IValueInfoProto;

export interface TestTensor {
  name: string;
  /** ONNX element type name, e.g. FLOAT, INT64, STRING. */
  dtype: string;
  /** float, int or bool; undefined for types detml cannot hold (string, complex). */
  cls?: ValueClass;
  shape: number[];
  /** Values; undefined when `cls` is. */
  data?: Float64Array;
}

/** A test tensor's values, decoded by the converter's own TensorProto reader. */
export function decodeTensor(t: TensorProto): TestTensor {
  const cls = valueClassOf(t.dataType);
  const base = { name: t.name, dtype: dataTypeName(t.dataType), cls, shape: t.dims.map(Number) };
  return cls ? { ...base, data: tensorValue(t, new ExternalData(undefined), t.name).data } : base;
}

export interface CaseIo {
  name: string;
  /** Element class of a tensor (undefined for string/complex), see TestTensor. */
  cls?: ValueClass;
  /** ONNX element type name, or the kind of a non-tensor value ("sequence", "optional", "map"...). */
  dtype: string;
  isTensor: boolean;
}

export interface CaseModel {
  bytes: Uint8Array;
  inputs: CaseIo[];
  outputs: CaseIo[];
  /** Op types of every node, subgraphs included, sorted and unique. */
  opTypes: string[];
}

function describeValue(v: ValueInfoProto): CaseIo {
  const kind = v.type?.tensorType ? "tensor" : (Object.keys(v.type ?? {}).find((k) => k.endsWith("Type")) ?? "unknown").replace(/Type$/, "");
  const elem = v.type?.tensorType?.elemType ?? 0;
  const isTensor = kind === "tensor";
  return { name: v.name ?? "", cls: isTensor ? valueClassOf(elem) : undefined, dtype: isTensor ? dataTypeName(elem) : kind, isTensor };
}

function collectOps(graph: onnxProto.onnx.IGraphProto | null | undefined, into: Set<string>): void {
  for (const node of graph?.node ?? []) {
    into.add(node.domain && node.domain !== "ai.onnx" ? `${node.domain}.${node.opType}` : node.opType ?? "");
    for (const attr of node.attribute ?? []) {
      collectOps(attr.g, into);
      for (const g of attr.graphs ?? []) collectOps(g, into);
    }
  }
}

export function readCaseModel(path: string): CaseModel {
  const bytes = new Uint8Array(readFileSync(path));
  const proto = onnx.ModelProto.decode(bytes);
  const graph = proto.graph!;
  const initialized = new Set((graph.initializer ?? []).map((t) => t.name));
  const ops = new Set<string>();
  collectOps(graph, ops);
  return {
    bytes,
    inputs: (graph.input ?? []).filter((v) => !initialized.has(v.name ?? "")).map(describeValue),
    outputs: (graph.output ?? []).map(describeValue),
    opTypes: [...ops].sort(),
  };
}

/**
 * The model's bytes with the listed inputs turned into initializers holding the given values
 * (so the converter sees them as constants). The original proto is not modified.
 */
export function freezeInputs(model: CaseModel, values: Map<string, TensorProto>): Uint8Array {
  const proto = onnx.ModelProto.decode(model.bytes);
  const graph = proto.graph!;
  graph.input = (graph.input ?? []).filter((v) => !values.has(v.name ?? ""));
  graph.initializer = [...(graph.initializer ?? []), ...[...values].map(([name, t]) => {
    const copy = onnx.TensorProto.decode(onnx.TensorProto.encode(t).finish());
    copy.name = name;
    return copy;
  })];
  return onnx.ModelProto.encode(proto).finish();
}

export interface DataSet {
  dir: string;
  inputs: TensorProto[];
  outputs: TensorProto[];
}

/** The test_data_set_* directories of a case, each with its input_*.pb and output_*.pb in order. */
export function readDataSets(caseDir: string): DataSet[] {
  const byIndex = (prefix: string) => (a: string, b: string) => Number(a.slice(prefix.length, -3)) - Number(b.slice(prefix.length, -3));
  return readdirSync(caseDir).filter((d) => d.startsWith("test_data_set_")).sort().map((d) => {
    const dir = join(caseDir, d);
    const files = readdirSync(dir);
    const load = (prefix: string) => files.filter((f) => f.startsWith(prefix) && f.endsWith(".pb")).sort(byIndex(prefix))
      .map((f) => onnx.TensorProto.decode(readFileSync(join(dir, f))));
    return { dir, inputs: load("input_"), outputs: load("output_") };
  });
}
