/**
 * Conformance cases for detml kernels that ONNX 1.12's test data cannot exercise: Gelu (opset
 * 20) and single-output LayerNormalization (every 1.12 LayerNormalization case also asks for
 * the Mean and InvStdDev outputs, which detml does not compute). Each is a one-node model
 * written with onnx-proto, fed seeded normal inputs, with
 * the expected outputs computed by ONNX Runtime; they are written in the backend-test layout
 * (model.onnx, test_data_set_0/input_i.pb, output_i.pb) under <data>/extra/ so the same runner
 * reads them. Regenerated on every run: cheap and deterministic.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import onnxProto from "onnx-proto";
import { onnxRuntimeOracle } from "../../lib/verify/oracle.js";
import { SeededRandom } from "../../lib/verify/inputs.js";

const { onnx } = onnxProto;
const FLOAT = onnx.TensorProto.DataType.FLOAT;
const STRING_ATTR = onnx.AttributeProto.AttributeType.STRING;

interface ExtraInput {
  name: string;
  shape: number[];
  /** Values are normal(mean, scale). */
  mean: number;
  scale: number;
}

interface ExtraCase {
  name: string;
  op: string;
  opset: number;
  inputs: ExtraInput[];
  /** Shape of the single output "y". */
  shape: number[];
  /** Node attributes: strings, or ints. */
  attrs?: Record<string, string | number>;
}

const x = (shape: number[], scale = 2): ExtraInput => ({ name: "x", shape, mean: 0, scale });

const CASES: ExtraCase[] = [
  { name: "test_gelu_default", op: "Gelu", opset: 20, inputs: [x([3, 4, 5])], shape: [3, 4, 5] },
  { name: "test_gelu_tanh", op: "Gelu", opset: 20, inputs: [x([3, 4, 5])], shape: [3, 4, 5], attrs: { approximate: "tanh" } },
  {
    name: "test_layer_normalization_single_output", op: "LayerNormalization", opset: 17, shape: [2, 3, 8],
    inputs: [x([2, 3, 8], 3), { name: "scale", shape: [8], mean: 1, scale: 0.3 }, { name: "bias", shape: [8], mean: 0, scale: 0.5 }],
  },
  {
    name: "test_layer_normalization_axis1", op: "LayerNormalization", opset: 17, shape: [2, 3, 4], attrs: { axis: 1 },
    inputs: [x([2, 3, 4]), { name: "scale", shape: [3, 4], mean: 1, scale: 0.3 }],
  },
];

const INT_ATTR = onnx.AttributeProto.AttributeType.INT;

function modelBytes(c: ExtraCase): Uint8Array {
  const valueInfo = (name: string, shape: number[]) => ({ name, type: { tensorType: { elemType: FLOAT, shape: { dim: shape.map((d) => ({ dimValue: d })) } } } });
  const attribute = Object.entries(c.attrs ?? {}).map(([name, v]) =>
    typeof v === "string" ? { name, type: STRING_ATTR, s: new TextEncoder().encode(v) } : { name, type: INT_ATTR, i: v });
  return onnx.ModelProto.encode({
    irVersion: 9,
    producerName: "detml conformance",
    opsetImport: [{ domain: "", version: c.opset }],
    graph: {
      name: c.name,
      node: [{ opType: c.op, input: c.inputs.map((i) => i.name), output: ["y"], attribute }],
      input: c.inputs.map((i) => valueInfo(i.name, i.shape)),
      output: [valueInfo("y", c.shape)],
    },
  }).finish();
}

const tensorBytes = (name: string, shape: number[], data: Float64Array) =>
  onnx.TensorProto.encode({ name, dataType: FLOAT, dims: shape, floatData: Array.from(data) }).finish();

/** Write every extra case under `dir` (one directory per case). */
export async function writeExtraCases(dir: string): Promise<void> {
  for (const [i, c] of CASES.entries()) {
    const model = modelBytes(c);
    const rng = new SeededRandom(1000 + i);
    const inputs = new Map(c.inputs.map((inp) => [inp.name, {
      shape: inp.shape,
      data: Float64Array.from({ length: inp.shape.reduce((a, b) => a * b, 1) }, () => Math.fround(inp.mean + rng.normal() * inp.scale)),
    }]));
    const oracle = await onnxRuntimeOracle(model);
    const y = (await oracle.run(inputs)).get("y")!;
    await oracle.dispose?.();
    const data = join(dir, c.name, "test_data_set_0");
    mkdirSync(data, { recursive: true });
    writeFileSync(join(dir, c.name, "model.onnx"), model);
    [...inputs].forEach(([name, v], k) => writeFileSync(join(data, `input_${k}.pb`), tensorBytes(name, v.shape, v.data)));
    writeFileSync(join(data, "output_0.pb"), tensorBytes("y", y.shape, y.data));
  }
}
