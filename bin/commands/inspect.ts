/**
 * `detml inspect model.detml`: the op table (shapes, frac, parameters, MACs), totals and the
 * source hash; `--json` prints the same as one JSON object.
 */
import type { CommandModule } from "yargs";
import { graphStats } from "../../lib/graph/stats.js";
import { loadModel } from "../../lib/model-files.js";
import { formatShape, humanBytes, humanCount, table } from "./options.js";

interface Args {
  model: string;
  json: boolean;
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
    if (args.json) {
      console.log(JSON.stringify({ source_hash: model.sourceHash, file_bytes: model.bytes.length, frac: model.graph.frac, metadata: model.graph.metadata, ...stats }, null, 2));
      return;
    }
    const io = (v: { name: string; shape: number[]; frac: number }) => `${v.name} ${formatShape(v.shape)} Q${v.frac}`;
    console.log(`model     ${args.model}`);
    console.log(`source    ${model.sourceHash} (keccak256 of the file; a compiled module has its own model id)`);
    console.log(`inputs    ${stats.inputs.map(io).join(", ")}`);
    console.log(`outputs   ${stats.outputs.map(io).join(", ")}`);
    console.log("");
    const rows = [["#", "node", "op", "output", "shape", "frac", "params", "MACs"]];
    stats.nodes.forEach((n, i) => {
      n.outputs.forEach((o, k) => {
        rows.push(k === 0
          ? [String(i), n.name, n.op, o.name, formatShape(o.shape), `Q${o.frac}`, n.params ? humanCount(n.params) : "", n.macs ? humanCount(n.macs) : ""]
          : ["", "", "", o.name, formatShape(o.shape), `Q${o.frac}`, "", ""]);
      });
    });
    console.log(table(rows));
    console.log("");
    console.log(`nodes ${stats.nodes.length} (${Object.entries(stats.opCounts).map(([k, v]) => `${k} ${v}`).join(", ")})`);
    console.log(`parameters ${humanCount(stats.params)} (${humanBytes(stats.weightBytes)}), MACs ${humanCount(stats.macs)}, activations ${humanBytes(stats.activationBytes)}, file ${humanBytes(model.bytes.length)}`);
  },
};
