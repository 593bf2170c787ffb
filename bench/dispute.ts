/**
 * Benchmark of the dispute game on the fixture models: a full game in which the submitter alters
 * a value halfway through the longest op (the deepest phase 2), played from a cold start (a new
 * vm Session: the VM's run for the op boundaries, then VM tracing of the disputed op on demand) for bisection
 * degrees 2, 4, 8 and 16. Reports rounds, moves, bytes of moves (hashes and choices, without the
 * proof), proof bytes, a rough gas estimate (21000 per transaction, 16 per calldata byte, 20000
 * per hash the referee stores) and wall time (target: under 5 s for LeNet). Then one real model,
 * MoveNet Lightning (a TF.js graph model, fetched by scripts/fetch-tfjs-real-models.sh; 6.3 G VM
 * steps), at degree 4 with the lie in its middle op, the steps of every op counted by a plain VM
 * run (no snapshots) beforehand. Prints a table and writes bench/dispute-results.json.
 *
 *   npx tsc -p bench && node dist/bench/dispute.js
 */
import { existsSync, writeFileSync } from "node:fs";
import { compile } from "../compiler/compile.js";
import { convertOnnxFile } from "../converter/onnx/index.js";
import { convertTfjsFile } from "../converter/tfjs/index.js";
import { HonestView, runDispute, type DisputeResult } from "../dispute/index.js";
import { readInputs } from "../lib/model-files.js";
import { packInputs } from "../abi/tensors.js";
import { randomSamples } from "../lib/verify/inputs.js";
import { decodeModule, Machine, Session } from "../vm/index.js";

const FIXTURES: [string, string][] = [
  ["mnist_lenet", "mnist_test_1000"], ["mlp", "mlp_input"], ["resnet_small", "resnet_small_input"],
  ["mobilenet_block", "mobilenet_block_input"], ["dcgan_generator", "dcgan_generator_input"], ["transformer_block", "transformer_block_input"],
];
const DEGREES = [2, 4, 8, 16];

function load(name: string, data: string): { wasm: Uint8Array; input: Uint8Array } {
  const { graph } = convertOnnxFile(`fixtures/models/${name}.onnx`);
  const { wasm, manifest } = compile(graph);
  // The first sample of the fixture, read as `detml run` reads it.
  const [sample] = readInputs(manifest, new Map([["", `fixtures/data/${data}.npy`]]));
  return { wasm, input: packInputs(manifest.inputs, sample) };
}

type Row = Record<string, number | string>;

/** The table row of a game in which the submitter lied in op `op` (`steps`: every op's step count). */
function row(model: string, degree: number, steps: number[], op: number, r: DisputeResult, ms: number): Row {
  if (r.winner !== "challenger") throw new Error(`${model}: the honest challenger lost (${r.reason})`);
  const proofBytes = r.proof?.bytes ?? 0;
  const hashes = r.moves.filter((m) => m.kind === "bisect").reduce((a, m) => a + m.bytes / 32, 0);
  return {
    model, degree, segments: steps.length, steps: steps.reduce((a, b) => a + b, 0), disputed_op: r.segment ?? -1, op_steps: steps[op],
    rounds: r.rounds, moves: r.moves.length, move_bytes: r.moveBytes - proofBytes, proof_bytes: proofBytes, total_bytes: r.moveBytes,
    gas_estimate: r.moves.length * 21000 + r.moveBytes * 16 + hashes * 20000, wall_ms: ms,
  };
}

function benchModel(name: string, data: string): Row[] {
  const { wasm, input } = load(name, data);
  const probe = new Session(wasm, input);
  const steps = probe.segmentSteps();
  const longest = steps.indexOf(Math.max(...steps));
  return DEGREES.map((degree) => {
    const started = performance.now();
    const view = new HonestView(new Session(wasm, input));
    const r = runDispute(view, { cheat: { kind: "op", op: longest }, params: { degree } });
    return row(name, degree, steps, longest, r, performance.now() - started);
  });
}

const MOVENET = ".cache/tfjs-real/models/movenet-lightning.json";

/** A dispute over MoveNet on seeded 0..255 pixels: the submitter alters its middle op. */
function benchMoveNet(): Row {
  const { graph } = convertTfjsFile(MOVENET);
  const { wasm, manifest } = compile(graph);
  const [sample] = randomSamples(graph, 1, 0, { intRanges: { input: { lo: 0, hi: 255 } } });
  const input = packInputs(manifest.inputs, Object.fromEntries(sample.fixed));
  const { segmentSteps: steps } = new Machine(decodeModule(wasm), input).runAll();
  const op = Math.floor(steps.length / 2);
  const started = performance.now();
  const r = runDispute(new HonestView(new Session(wasm, input)), { cheat: { kind: "op", op }, params: { degree: 4 } });
  return row("movenet_lightning", 4, steps, op, r, performance.now() - started);
}

const rows: Row[] = [];
const skipped: { model: string; error: string }[] = [];
for (const [m, d] of FIXTURES) {
  try {
    rows.push(...benchModel(m, d));
  } catch (err) {
    skipped.push({ model: m, error: (err as Error).message.split("\n")[0] });
  }
}
if (existsSync(MOVENET)) {
  try {
    rows.push(benchMoveNet());
  } catch (err) {
    skipped.push({ model: "movenet_lightning", error: (err as Error).message.split("\n")[0] });
  }
} else {
  skipped.push({ model: "movenet_lightning", error: `${MOVENET} is missing: run scripts/fetch-tfjs-real-models.sh` });
}
const keys = Object.keys(rows[0]);
const fmt = (v: number | string): string => (typeof v === "string" ? v : Number.isInteger(v) ? String(v) : v.toFixed(1));
const width = keys.map((k) => Math.max(k.length, ...rows.map((r) => fmt(r[k]).length)));
console.log(keys.map((k, i) => k.padStart(width[i])).join("  "));
for (const r of rows) console.log(keys.map((k, i) => fmt(r[k]).padStart(width[i])).join("  "));
for (const s of skipped) console.log(`skipped ${s.model}: ${s.error}`);
writeFileSync("bench/dispute-results.json", `${JSON.stringify({ node: process.version, date: new Date().toISOString(), results: rows, skipped }, null, 1)}\n`);
console.log("wrote bench/dispute-results.json");
