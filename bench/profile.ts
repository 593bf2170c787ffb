/**
 * Per-segment profile of a compiled fixture model: the best time of each op_k export called in
 * a loop, with the op kinds it covers. `node --no-liftoff dist/bench/profile.js <model> [fast]`
 * (after `npm run bench` or `tsc -p bench/tsconfig.json`); --no-liftoff measures V8's
 * optimizing tier. The segments run on whatever the memory holds: timings, not results.
 */
import { compile } from "../compiler/compile.js";
import { convertOnnxFile } from "../converter/onnx/index.js";
import { loadWasm } from "../runtime-wasm/index.js";
import { HOST_MODULE, READ_INPUT, WRITE_OUTPUT } from "../vm/spec/io.js";

const [name = "mnist_lenet", build = "canonical"] = process.argv.slice(2);
if (build !== "canonical" && build !== "fast") throw new Error(`build must be canonical or fast, got ${build}`);
const { graph } = convertOnnxFile(`fixtures/models/${name}.onnx`);
const { module, manifest } = loadWasm(compile(graph, { build }).wasm);
// Op segments make no host calls: the imports only need to exist.
const noHost = { [HOST_MODULE]: { [READ_INPUT]: () => undefined, [WRITE_OUTPUT]: () => undefined } };
const exports = new WebAssembly.Instance(module, noHost).exports as Record<string, () => void>;
let total = 0;
const rows: string[] = [];
for (const op of manifest.ops) {
  const segment = exports[op.export];
  for (let i = 0; i < 50; i++) segment();
  let best = Infinity;
  for (let batch = 0; batch < 20; batch++) {
    const start = performance.now();
    for (let i = 0; i < 20; i++) segment();
    best = Math.min(best, ((performance.now() - start) / 20) * 1000);
  }
  total += best;
  rows.push(`${op.export.padEnd(6)} ${best.toFixed(1).padStart(8)} us  ${op.kinds.join("+")}`);
}
console.log(`${name} (${build}): ${total.toFixed(1)} us in ${manifest.ops.length} segments`);
console.log(rows.join("\n"));
