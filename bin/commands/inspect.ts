/**
 * `detml inspect model.detml`: the op table (shapes, frac, parameters, MACs, the storage width of
 * the weights a node reads: i32, or i8/i16 for narrow weights), totals and the source hash;
 * `--json` prints the same as one JSON object, with every constant's storage.
 */
import type { CommandModule } from "yargs";
import { graphStats } from "../../lib/graph/stats.js";
import { narrowSummary } from "../../converter/common/narrow-weights.js";
import type { Graph } from "../../lib/graph/ir.js";
import { loadModel } from "../../lib/model-files.js";
import { formatShape, humanBytes, humanCount, table } from "./options.js";

interface Args {
  model: string;
  json: boolean;
}

/** How a constant is stored in the file: "i32", or "i8"/"i16" with per-channel shifts. */
const storageOf = (graph: Graph, name: string) => `i${graph.constants.get(name)!.storage?.bits ?? 32}`;

/** Every constant's shape, frac and storage (with its axis and shift range when narrow). */
function constantsOf(graph: Graph) {
  return [...graph.constants].sort(([a], [b]) => (a < b ? -1 : 1)).map(([name, t]) => ({
    name, shape: [...t.shape], frac: t.frac, storage: storageOf(graph, name),
    ...(t.storage && { axis: t.storage.axis, shifts: [Math.min(...t.storage.shifts), Math.max(...t.storage.shifts)] }),
  }));
}

export const inspectCommand: CommandModule<object, Args> = {
  command: "inspect <model>",
  describe: "Show a .detml model's ops, shapes, fixed-point formats, size, cost and source hash",
  builder: (y) =>
    y
      .positional("model", { type: "string", demandOption: true, describe: "Path to a .detml file" })
      .option("json", { type: "boolean", default: false, describe: "Print a JSON object instead of a table" })
      .example("$0 inspect mnist.detml", "Op table and totals"),
  handler: (args) => {
    const model = loadModel(args.model);
    const stats = graphStats(model.graph);
    const constants = constantsOf(model.graph);
    const narrow = narrowSummary(model.graph);
    if (args.json) {
      console.log(JSON.stringify({ source_hash: model.sourceHash, file_bytes: model.bytes.length, frac: model.graph.frac, metadata: model.graph.metadata, ...stats,
        stored_weight_bytes: narrow.storedBytes, constants }, null, 2));
      return;
    }
    const io = (v: { name: string; shape: number[]; frac: number }) => `${v.name} ${formatShape(v.shape)} Q${v.frac}`;
    console.log(`model     ${args.model}`);
    console.log(`source    ${model.sourceHash} (SHA-256 of the file; a compiled module has its own model id)`);
    console.log(`inputs    ${stats.inputs.map(io).join(", ")}`);
    console.log(`outputs   ${stats.outputs.map(io).join(", ")}`);
    console.log("");
    const rows = [["#", "node", "op", "output", "shape", "frac", "params", "stored", "MACs"]];
    stats.nodes.forEach((n, i) => {
      const stored = [...new Set(n.inputs.filter((v) => model.graph.constants.has(v)).map((v) => storageOf(model.graph, v)))].join("+");
      n.outputs.forEach((o, k) => {
        rows.push(k === 0
          ? [String(i), n.name, n.op, o.name, formatShape(o.shape), `Q${o.frac}`, n.params ? humanCount(n.params) : "", stored, n.macs ? humanCount(n.macs) : ""]
          : ["", "", "", o.name, formatShape(o.shape), `Q${o.frac}`, "", "", ""]);
      });
    });
    console.log(table(rows));
    console.log("");
    console.log(`nodes ${stats.nodes.length} (${Object.entries(stats.opCounts).map(([k, v]) => `${k} ${v}`).join(", ")})`);
    const storedText = narrow.constants ? `${humanBytes(narrow.storedBytes)} stored, ${narrow.constants} of ${constants.length} constants narrow` : humanBytes(stats.weightBytes);
    console.log(`parameters ${humanCount(stats.params)} (${storedText}), MACs ${humanCount(stats.macs)}, activations ${humanBytes(stats.activationBytes)}, file ${humanBytes(model.bytes.length)}`);
  },
};
