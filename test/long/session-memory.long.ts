/**
 * Memory of a proving session over a module with the VM's largest memory (MAX_MEMORY_PAGES,
 * 4 GiB): a lint-clean module built here whose `run` writes the first and last bytes of memory,
 * reads an input chunk and writes it out. A child process (test/long/session-memory.child.mjs,
 * on the compiled dist/) runs `new Session` + stateAt + prove (every step, each proof verified)
 * and must peak under 2 x memory + 500 MiB; a second child measures the pieces alone (machine
 * memory, the run, the memory tree) for the breakdown printed with the figures. Long: run with
 * `npm run test:long` (scripts/long-suite.sh), not in the default suite.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, test } from "vitest";
import { lintModule, MAX_MEMORY_PAGES } from "../../vm/index.js";
import { module, wat } from "../vm/helpers.js";

const MiB = 1024 * 1024;
const MEMORY_BYTES = MAX_MEMORY_PAGES * 65536;
const LIMIT_MIB = (2 * MEMORY_BYTES) / MiB + 500;
const child = fileURLToPath(new URL("./session-memory.child.mjs", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "detml-long-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** `run`: a word at the start and at the end of memory, input chunk 0 read to 64 and written out. */
function bigModule(): Uint8Array {
  return wat(module(`(func (export "run")
    (i64.store (i32.const 0) (i64.const 0x0123456789abcdef))
    (i64.store (i32.const ${MEMORY_BYTES - 8}) (i64.const -1))
    (i32.store8 (i32.const ${MEMORY_BYTES - 33}) (i32.const 7))
    (call $read_input (i32.const 0) (i32.const 64))
    (call $write_output (i32.const 64)))`, MAX_MEMORY_PAGES));
}

function runChild(mode: "session" | "parts", wasm: string, input: string): Record<string, number | string> {
  const r = spawnSync(process.execPath, ["--max-old-space-size=4096", child, mode, wasm, input], { encoding: "utf8", maxBuffer: 1 << 20 });
  expect(r.status, `child (${mode}) failed: ${r.stderr}`).toBe(0);
  return JSON.parse(r.stdout);
}

describe("a session over a 4 GiB memory (the WASM32 limit)", () => {
  test("new Session + stateAt + prove + a dispute stay under 2 x memory + 500 MiB", () => {
    expect(existsSync(new URL("../../dist/vm/index.js", import.meta.url)), "dist/ is missing: run `npx tsc -p tsconfig.json` first").toBe(true);
    const bytes = bigModule();
    expect(lintModule(bytes).map((e) => e.message)).toEqual([]);
    const wasm = join(dir, "big.wasm"), input = join(dir, "input.bin");
    writeFileSync(wasm, bytes);
    writeFileSync(input, Uint8Array.from({ length: 32 }, (_, i) => i + 1));
    const session = runChild("session", wasm, input);
    const parts = runChild("parts", wasm, input);
    console.log(`session over ${MEMORY_BYTES / MiB} MiB of memory, RSS MiB (limit ${LIMIT_MIB}):`, JSON.stringify(session));
    console.log("the pieces alone, RSS MiB:", JSON.stringify(parts),
      `-> machine memory touched ${Number(parts.touched) - Number(parts.machine)}, run ${Number(parts.run) - Number(parts.touched)}, memory tree ${Number(parts.tree) - Number(parts.run)}`);
    expect(session.proofs).toBe(session.steps);
    expect(Number(session.steps)).toBeGreaterThan(5);
    expect(Number(session.peak)).toBeLessThan(LIMIT_MIB);
  });
});
