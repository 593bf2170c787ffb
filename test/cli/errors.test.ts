/**
 * The CLI's own errors as a user meets them (the compiled bin; `npm test` builds it first): an
 * argument error of the parser is one line naming the command and the argument at fault with a
 * pointer to its --help; an output path in a missing folder is one line naming the path and the
 * folder (convert, compile, run, prove), not Node's raw ENOENT; convert's --activation-bits
 * checks and its --json calibration report (ONNX and TF.js); and `--version` is detml's own
 * version even when run inside another project (a cwd whose package.json says 1.0.0).
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const REPO = resolve(import.meta.dirname, "../..");
const CLI = join(REPO, "dist/bin/detml.js");
const MLP = join(REPO, "fixtures/models/mlp.onnx");
const INPUT = join(REPO, "fixtures/data/mlp_input.npy");
const TFJS_GRAPH = join(REPO, "fixtures/tfjs/models/mnist_cnn/graph/model.json");
const dir = mkdtempSync(join(tmpdir(), "detml-errors-"));

function detml(args: string[], cwd = REPO) {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd, encoding: "utf8", env: { ...process.env, DETML_CACHE_DIR: join(dir, "cache") } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Runs a failing command and returns its one error line. */
function oneLine(args: string[]): string {
  const r = detml(args);
  expect(r.code, r.stdout).toBe(1);
  const lines = r.stderr.trimEnd().split("\n");
  expect(lines, r.stderr).toHaveLength(1);
  return lines[0];
}

describe("argument errors are one line", () => {
  it.each([
    [["compile"], "detml compile: error: missing argument <model> (see detml compile --help)"],
    [["prove", "m.wasm", "-i", "x.npy"], "detml prove: error: missing option --step (see detml prove --help)"],
    [["run", "m.detml", "--engine", "fast"], 'detml run: error: --engine "fast": must be one of "ref", "wasm", "vm", "evm", "evm-precompiles" (see detml run --help)'],
    [["inspect", "m.detml", "--frobnicate"], "detml inspect: error: unknown option --frobnicate (see detml inspect --help)"],
    [["convert", "a.onnx", "b.onnx"], "detml convert: error: unexpected argument 'b.onnx' (see detml convert --help)"],
    [["compil", "m.detml"], "detml: error: unknown command 'compil' (did you mean compile?) (see detml --help)"],
    [["zzzzzzzz"], "detml: error: unknown command 'zzzzzzzz' (see detml --help)"],
  ])("detml %j", (args, line) => {
    expect(oneLine(args)).toBe(line);
  });
});

describe("an output in a missing folder is one line naming the path", () => {
  const missing = join(dir, "no-such-folder");
  const detmlFile = join(dir, "mlp.detml");
  const wasmFile = join(dir, "mlp.wasm");

  it("convert -o and compile -o (checked before the work)", () => {
    expect(oneLine(["convert", MLP, "-o", join(missing, "x.detml")])).toBe(`detml convert: error: cannot write ${missing}/x.detml: the folder ${missing}/ does not exist`);
    expect(detml(["convert", MLP, "-o", detmlFile]).code).toBe(0);
    expect(oneLine(["compile", detmlFile, "-o", join(missing, "x.wasm")])).toBe(`detml compile: error: cannot write ${missing}/x.wasm: the folder ${missing}/ does not exist`);
    expect(oneLine(["compile", detmlFile, "-o", wasmFile, "--wat", join(missing, "x.wat")])).toContain(`${missing}/x.wat`);
  });

  it("run -o and prove -o", () => {
    expect(detml(["compile", detmlFile, "-o", wasmFile]).code).toBe(0);
    expect(oneLine(["run", detmlFile, "-i", INPUT, "-o", join(missing, "y.npy")])).toMatch(new RegExp(`^detml run: error: .*${missing}/y\\.npy: the folder ${missing}/ does not exist$`));
    expect(oneLine(["prove", wasmFile, "-i", INPUT, "--step", "0", "-o", join(missing, "p.json")])).toMatch(new RegExp(`^detml prove: error: .*${missing}/p\\.json: the folder ${missing}/ does not exist$`));
  });

  it("a .wasm where a .detml is expected is named as a compiled module (inspect, compile)", () => {
    for (const command of ["inspect", "compile"]) {
      expect(oneLine([command, wasmFile])).toBe(`detml ${command}: error: ${wasmFile}: a compiled WebAssembly module, not a .detml graph (this command takes the .detml it was compiled from; trace, prove and run take the .wasm)`);
    }
  });
});

describe("convert's calibration formats", () => {
  it("--activation-bits takes 16 or 32 and needs calibration", () => {
    expect(oneLine(["convert", MLP, "-o", join(dir, "a.detml"), "--calibrate-random", "2", "--activation-bits", "12"])).toBe("detml convert: error: --activation-bits 12: must be 16 or 32");
    expect(oneLine(["convert", MLP, "-o", join(dir, "a.detml"), "--activation-bits", "16"])).toBe("detml convert: error: --activation-bits needs --calibrate or --calibrate-random: the formats come from the float model's observed ranges");
  });

  it("--calibrate-random N --activation-bits 16 --json reports the formats it gave", () => {
    const r = detml(["convert", MLP, "-o", join(dir, "a16.detml"), "--calibrate-random", "4", "--activation-bits", "16", "--weight-bits", "8", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.calibration).toMatchObject({ activation_bits: 16, samples: 4, lowered: [] });
    const [lo, hi] = out.calibration.frac_range as number[];
    expect(lo).toBeLessThanOrEqual(hi);
    expect(hi).toBeLessThanOrEqual(15);
    expect(out.calibration.own_formats).toBeGreaterThan(0);
    expect(out.narrow_weights).toBeDefined();
    // The MLP's Gemms get their biases corrected for the 8-bit rounding, unless told not to.
    expect(out.calibration.bias_corrected_layers).toBeGreaterThan(0);
    const plain = detml(["convert", MLP, "-o", join(dir, "a16-plain.detml"), "--calibrate-random", "4", "--activation-bits", "16", "--weight-bits", "8", "--no-bias-correction", "--json"]);
    expect(JSON.parse(plain.stdout).calibration.bias_corrected_layers).toBe(0);
  });

  it("calibrates a TF.js graph model: --calibrate-random 8 --json reports the formats it gave", () => {
    const r = detml(["convert", TFJS_GRAPH, "-o", join(dir, "cnn.detml"), "--calibrate-random", "8", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.format).toBe("graph-model");
    expect(out.calibration).toMatchObject({ activation_bits: 32, samples: 8, lowered: [] });
    const [lo, hi] = out.calibration.frac_range as number[];
    expect(lo).toBe(out.frac);
    expect(hi).toBeGreaterThan(lo);
    expect(out.calibration.own_formats).toBeGreaterThan(0);
  });

  it("verify --detml checks the calibrated conversion itself against the float model, and refuses one of another model", () => {
    const converted = join(dir, "a16-verify.detml");
    expect(detml(["convert", MLP, "-o", converted, "--calibrate-random", "4", "--activation-bits", "16", "--weight-bits", "8"]).code).toBe(0);
    const r = detml(["verify", MLP, "--detml", converted, "--random", "3", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.engines.map((e: { engine: string }) => e.engine)).toEqual(["ref", "wasm"]);
    expect(report.engines[1].identicalTo.identical).toBe(true);
    // The engines ran the file (8-bit weights, 16-bit formats), not a Q16 conversion of the model: its error is far larger.
    const plain = JSON.parse(detml(["verify", MLP, "--random", "3", "--json"]).stdout);
    expect(report.engines[0].outputs[0].maxAbsError).toBeGreaterThan(20 * plain.engines[0].outputs[0].maxAbsError);
    expect(oneLine(["verify", TFJS_GRAPH, "--detml", converted])).toMatch(/^detml verify: error: --detml .*a16-verify\.detml: input 'input' \[1,16\] is not an input of the float model \(.*\): was it converted from this model\?$/);
    expect(oneLine(["verify", MLP, "--detml", converted, "--frac", "12"])).toBe("detml verify: error: Arguments detml and frac are mutually exclusive (see detml verify --help)");
  });
});

describe("--version", () => {
  it("is detml's version, not that of the project it runs in", () => {
    const project = mkdtempSync(join(tmpdir(), "detml-project-"));
    writeFileSync(join(project, "package.json"), JSON.stringify({ name: "someone-else", version: "1.0.0" }));
    const { version } = JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")) as { version: string };
    const r = detml(["--version"], project);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(version);
  });
});
