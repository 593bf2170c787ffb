import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, test, vi } from "vitest";
import { checkProofCommand } from "../../bin/commands/check-proof.js";
import { proveCommand } from "../../bin/commands/prove.js";
import { traceCommand } from "../../bin/commands/trace.js";
import { wat } from "./helpers.js";
import { sortInput, sortProgram } from "./programs.js";

const dir = mkdtempSync(join(tmpdir(), "detml-vm-cli-"));
const model = join(dir, "sort.wasm");
const input = join(dir, "input.bin");
writeFileSync(model, wat(sortProgram(12)));
writeFileSync(input, sortInput(12, 1));

/** Run a command handler and return what it printed. */
async function run(command: { handler: (args: never) => unknown }, args: Record<string, unknown>): Promise<string> {
  const lines: string[] = [];
  const spy = vi.spyOn(console, "log").mockImplementation((...x: unknown[]) => void lines.push(x.join(" ")));
  try {
    await command.handler({ _: [], $0: "detml", sample: 0, json: false, ...args } as never);
  } finally {
    spy.mockRestore();
  }
  return lines.join("\n");
}

describe("detml trace / prove / check-proof", () => {
  afterEach(() => {
    process.exitCode = undefined;
  });

  test("trace prints steps, the final state hash and per-segment boundaries agreeing with the engine", async () => {
    const out = await run(traceCommand, { model, "raw-input": input, ops: true });
    expect(out).toMatch(/halted after \d+ steps/);
    expect(out).toMatch(/final state hash 0x[0-9a-f]{64}/);
    expect(out).toContain("the JS engine's boundary hashes agree with the VM's");
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
