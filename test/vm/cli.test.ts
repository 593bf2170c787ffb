import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import { runHandler } from "../helpers/cli.js";
import { checkProofCommand } from "../../bin/commands/check-proof.js";
import { proveCommand } from "../../bin/commands/prove.js";
import { traceCommand } from "../../bin/commands/trace.js";
import { wat } from "./helpers.js";
import { frameProgram, sortInput } from "./programs.js";
import { countingOps } from "./special-modules.js";

const dir = mkdtempSync(join(tmpdir(), "detml-vm-cli-"));
const model = join(dir, "sort.wasm");
const input = join(dir, "input.bin");
writeFileSync(model, wat(countingOps(200)));
writeFileSync(input, sortInput(12, 1));

const run = runHandler;

describe("detml trace / prove / check-proof", () => {
  afterEach(() => {
    process.exitCode = undefined;
  });

  test("trace prints steps, the final state hash and per-segment boundaries agreeing with the engine", async () => {
    const out = await run(traceCommand, { model, "raw-input": input, ops: true });
    expect(out).toMatch(/halted after \d+ steps/);
    expect(out).toMatch(/final state hash 0x[0-9a-f]{64}/);
    expect(out).toContain("the JS engine agrees with the VM: 5 boundary hashes");
    const json = JSON.parse(await run(traceCommand, { model, "raw-input": input, ops: true, json: true }));
    expect(json.segments.map((s: { export: string }) => s.export)).toEqual(["load_inputs", "op_0", "op_1", "store_outputs"]);
    expect(json.engine_boundaries_agree).toBe(true);
  });

  test("prove writes a proof.json that check-proof accepts; a tampered one is rejected with the reason", async () => {
    const proof = join(dir, "proof.json");
    const out = await run(proveCommand, { model, "raw-input": input, step: 500, output: proof });
    expect(out).toMatch(/^step \d+ of segment 1 \(op_0\)/);
    const post = /post-state (0x[0-9a-f]{64})/.exec(out)![1];
    expect(await run(checkProofCommand, { proof })).toContain(`post-state ${post}`);
    const json = JSON.parse(readFileSync(proof, "utf8"));
    json.words[2] = `0x${"ab".repeat(32)}`; // pre.memoryRoot
    writeFileSync(proof, JSON.stringify(json));
    await expect(run(checkProofCommand, { proof })).rejects.toThrow(/^proof rejected: the pre-state in the proof does not hash/);
  });

  test("check-proof prints what the proof's words prove, never the file's annotations", async () => {
    const proof = join(dir, "lying.json");
    const framesModel = join(dir, "frames.wasm"); // no recursion: lint-clean for prove
    writeFileSync(framesModel, wat(frameProgram(20, 8, 3)));
    const proved = await run(proveCommand, { model: framesModel, "raw-input": input, step: 500, output: proof });
    const [, step, segment] = /^step (\d+) of segment (\d+)/.exec(proved)!;
    const honest = await run(checkProofCommand, { proof });
    const json = JSON.parse(readFileSync(proof, "utf8"));
    Object.assign(json, { segment: 3, step: 424242, instruction: "i64.div_s (segment op_7, pc 99999)", labels: json.labels.map(() => "forged") });
    writeFileSync(proof, JSON.stringify(json));
    const out = await run(checkProofCommand, { proof });
    expect(out).not.toMatch(/424242|99999|forged|div_s|op_7|segment 3/);
    expect(out).toBe(honest);
    expect(honest).toMatch(new RegExp(`^valid: step ${step} of segment ${segment} at pc \\d+: \\S+`));
    const j = JSON.parse(await run(checkProofCommand, { proof, json: true }));
    expect(j).toMatchObject({ valid: true, segment: Number(segment), step: Number(step), status: "running" });
    expect(JSON.stringify(j)).not.toMatch(/424242|99999|forged|div_s|op_7/);
    expect(honest).toContain(j.instruction);
  });

  test("bad input: a non-subset module, a step past the end, a malformed proof file", async () => {
    const bad = join(dir, "float.wasm");
    writeFileSync(bad, wat(`(module (memory (export "memory") 1 1) (func (export "run") (drop (f32.const 1))))`));
    await expect(run(traceCommand, { model: bad })).rejects.toThrow("function 'run' uses f32.const (floating point is outside the provable subset)");
    await expect(run(proveCommand, { model, "raw-input": input, step: 10 ** 9, output: join(dir, "p.json") })).rejects.toThrow(/beyond the end of the run/);
    const junk = join(dir, "junk.json");
    writeFileSync(junk, "{\"format\": \"detml-vm-proof\", \"version\": 1, \"words\": \"none\"}");
    await expect(run(checkProofCommand, { proof: junk })).rejects.toThrow(/malformed proof file: words must be a non-empty array/);
  });
});
