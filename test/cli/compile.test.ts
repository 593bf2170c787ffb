/**
 * `detml compile`, `detml lint` and the wasm engine of `detml run` as a user meets them (the
 * compiled bin; needs `npm run build` first, as npm test does): outputs, JSON, exit codes, and
 * one-line errors with exit 1 for a corrupt .detml, a .wasm that is not ours, a module outside
 * the provable subset and an input of the wrong shape.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { compile } from "../../compiler/compile.js";
import { encodeGraph } from "../../lib/graph/codec.js";
import { writeNpy } from "../../lib/tensor/npy.js";
import { buildCnn } from "../helpers/models.js";
import { Rng } from "../helpers/random.js";

const dir = mkdtempSync(join(tmpdir(), "detml-compile-cli-"));
const model = join(dir, "cnn.detml");
writeFileSync(model, encodeGraph(buildCnn(3).graph));
const input = join(dir, "x.npy");
writeFileSync(input, writeNpy([2, 1, 8, 8], Float32Array.from(new Rng(4).tensor([2, 1, 8, 8]).toFloat())));

function detml(...args: string[]) {
  const r = spawnSync(process.execPath, ["dist/bin/detml.js", ...args], { encoding: "utf8", env: { ...process.env, DETML_CACHE_DIR: join(dir, "cache") } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const wasm = join(dir, "cnn.wasm");

describe("detml compile and lint", () => {
  it("compiles, reports size, memory, segments and time, and lints clean", () => {
    const r = detml("compile", model, "-o", wasm);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/wrote .*cnn\.wasm \(.+, canonical build, lint passed\)/);
    expect(r.stdout).toMatch(/5 nodes -> 3 segments/);
    expect(r.stdout).toMatch(/activation peak/);
    // The same model compiles to the same bytes in the library.
    expect(readFileSync(wasm)).toEqual(Buffer.from(compile(readFileSync(model)).wasm));
    const lint = detml("lint", wasm);
    expect(lint.code).toBe(0);
    expect(lint.stdout).toMatch(/provable/);
  });

  it("--json gives the figures", () => {
    const j = JSON.parse(detml("compile", model, "-o", join(dir, "again.wasm"), "--json").stdout);
    expect(j).toMatchObject({ build: "canonical", segments: 3, lint: "passed" });
    expect(j.wasm_bytes).toBe(readFileSync(wasm).length);
    expect(j.peak_bytes).toBeGreaterThan(0);
  });

  it("lint names the function and instruction outside the subset, exit 1", () => {
    // One function `run` that pushes an f32 constant and drops it.
    const floaty = join(dir, "floaty.wasm");
    writeFileSync(floaty, new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 4, 1, 0x60, 0, 0, 3, 2, 1, 0, 7, 7, 1, 3, 114, 117, 110, 0, 0,
      10, 10, 1, 8, 0, 0x43, 0, 0, 0x80, 0x3f, 0x1a, 0x0b]));
    const r = detml("lint", floaty);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/f32\.const/);
    expect(r.stdout).toMatch(/floating point/);
  });

  it("a corrupt .detml is a one-line error, exit 1", () => {
    const bytes = readFileSync(model);
    bytes[bytes.length - 40] ^= 1;
    const bad = join(dir, "bad.detml");
    writeFileSync(bad, bytes);
    const r = detml("compile", bad);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^detml compile: error: .*bad\.detml: corrupt \.detml file \(checksum mismatch/);
  });
});

describe("detml run on the wasm engine", () => {
  it("runs a compiled .wasm and a .detml with --engine wasm, same outputs as ref", () => {
    const ref = JSON.parse(detml("run", model, "-i", input, "--json").stdout);
    const viaWasm = JSON.parse(detml("run", wasm, "-i", input, "--json").stdout);
    // The canonical build, the one `compile` wrote (the wasm engine's default is the fast build, without a model id).
    const viaEngine = JSON.parse(detml("run", model, "--engine", "wasm", "--build", "canonical", "-i", input, "--json").stdout);
    expect(viaWasm.engine).toBe("wasm");
    expect(viaEngine.engine).toBe("wasm");
    expect(viaWasm.outputs).toEqual(ref.outputs);
    expect(viaEngine.outputs).toEqual(ref.outputs);
    expect(viaWasm.source_hash).toBe(ref.source_hash);
    expect(viaWasm.model_id).toMatch(/^0x[0-9a-f]{64}$/); // the module's own id; the reference executor has none
    expect(viaEngine.model_id).toBe(viaWasm.model_id);
    expect(ref.model_id).toBeNull();
  });

  it("a .wasm that is not a detml module, and a wrong input shape, exit 1", () => {
    const foreign = join(dir, "foreign.wasm");
    writeFileSync(foreign, new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]));
    const r = detml("run", foreign, "-i", input);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^detml run: error: .*foreign\.wasm: not a detml module/);
    const wrong = join(dir, "wrong.npy");
    writeFileSync(wrong, writeNpy([1, 8, 8], new Float32Array(64)));
    const w = detml("run", wasm, "-i", wrong);
    expect(w.code).toBe(1);
    expect(w.stderr).toMatch(/input 'x' has shape \[1,8,8\] but the model expects \[1,1,8,8\]/);
  });
});
