/**
 * `detml convert` on hostile models through the compiled CLI (dist/bin/detml.js, built by
 * `npm test`; built here if missing): a Range(0, 1e10) model, an ONNX initializer whose
 * external_data names /etc/passwd and a TF.js shard path climbing out of the folder each exit 1
 * with exactly one `detml convert: error: ...` line on stderr, and `--max-folded-bytes` moves the
 * folding limit both ways.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { externalModel, hostileTree, rangeModel, tfjsModel } from "./hostile-models.js";

const REPO = resolve(import.meta.dirname, "../../..");
const CLI = join(REPO, "dist/bin/detml.js");
const { root, model: dir } = hostileTree();

function convert(model: string, ...flags: string[]) {
  const r = spawnSync(process.execPath, [CLI, "convert", model, "-o", join(dir, "out.detml"), ...flags], { cwd: REPO, encoding: "utf8" });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function write(name: string, bytes: Uint8Array | string): string {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
}

beforeAll(() => {
  if (!existsSync(join(REPO, "dist/bin/commands/convert.js"))) execFileSync("npx", ["tsc", "-p", "tsconfig.json"], { cwd: REPO, stdio: "inherit" });
});

afterAll(() => rmSync(root, { recursive: true, force: true }));

// Each spawn loads the whole CLI (about 1 s on a busy machine).
describe("detml convert on hostile models", { timeout: 30000 }, () => {
  it("Range(0, 1e10) exits 1 with one line naming the node, its op and the size", () => {
    const r = convert(write("range.onnx", rangeModel(1e10)));
    expect(r.code).toBe(1);
    expect(r.stderr).toBe("detml convert: error: node 'range_1' (Range): folding would create 10000000000 elements (40 GB), more than the 64 MiB limit; raise it with --max-folded-bytes\n");
  });

  it("--max-folded-bytes lowers and raises the limit", () => {
    const model = write("range1000.onnx", rangeModel(1000));
    const low = convert(model, "--max-folded-bytes", "1000");
    expect(low.code).toBe(1);
    expect(low.stderr).toBe("detml convert: error: node 'range_1' (Range): folding would create 1000 elements (4000 bytes), more than the 1000 bytes limit; raise it with --max-folded-bytes\n");
    const enough = convert(model, "--max-folded-bytes", "4000");
    expect(enough.code, enough.stderr).toBe(0);
    const bad = convert(model, "--max-folded-bytes", "-5");
    expect([bad.code, bad.stderr]).toEqual([1, "detml convert: error: --max-folded-bytes -5: must be a positive integer (bytes)\n"]);
  });

  it("ONNX external_data naming /etc/passwd exits 1 with one line", () => {
    const model = write("passwd.onnx", externalModel({ location: "/etc/passwd", offset: "0", length: "8" }));
    const r = convert(model);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`detml convert: error: ${model}: initializer 'w': external_data location '/etc/passwd' is outside the model's folder (an absolute path)\n`);
  });

  it("a TF.js shard path climbing out of the folder exits 1 with one line", () => {
    const model = write("escape.json", JSON.stringify(tfjsModel(["../../../../../../dev/zero"]).json));
    const r = convert(model);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`detml convert: error: ${model}: weight shard '../../../../../../dev/zero' (group 1, shard 1 of 1, weights 'k') is outside the model's folder (a '..' component)\n`);
  });
});
