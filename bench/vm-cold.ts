/**
 * The cold half of bench/vm.ts, run in a fresh process per measurement (as the CLI would be):
 * `node dist/bench/vm-cold.js <what> <module.wasm> <input.bin> [segment step]` prints the
 * milliseconds of one first-time operation: `vm` (run every segment in the VM), `engine`
 * (instantiate and run every segment in the JS engine), `prove` (set up a session and prove one
 * step). Module compilation by the engine is excluded from `engine` (it is part of `prove`).
 */
import { readFileSync } from "node:fs";
import { decodeModule, Machine, Session, WasmHost } from "../vm/index.js";

const [what, wasmPath, inputPath, segment, step] = process.argv.slice(2);
const bytes = new Uint8Array(readFileSync(wasmPath));
const input = new Uint8Array(readFileSync(inputPath));
const mod = decodeModule(bytes);
let ms: number;
if (what === "vm") {
  const t = performance.now();
  new Machine(mod, input).runAll();
  ms = performance.now() - t;
} else if (what === "engine") {
  const compiled = WasmHost.compile(bytes);
  const t = performance.now();
  const e = new WasmHost(compiled, input);
  for (const seg of mod.segments) e.call(seg.export);
  ms = performance.now() - t;
} else if (what === "prove") {
  const t = performance.now();
  new Session(bytes, input).prove(Number(segment), Number(step));
  ms = performance.now() - t;
} else {
  throw new Error(`unknown measurement ${what}`);
}
console.log(JSON.stringify({ ms }));
