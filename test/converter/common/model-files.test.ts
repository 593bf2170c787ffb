/**
 * Files a model names beside itself are confined to its folder and sized before they are read
 * (converter/common/model-files.ts), for both front ends: ONNX external_data locations and TF.js
 * weight shard paths that are absolute (/etc/passwd, /dev/zero), climb out with '..', are
 * symlinks resolving outside the folder (including a sibling folder whose name extends the
 * model folder's), are not regular files, or have the wrong size (too short, too long, or a
 * sparse multi-gigabyte file that must be refused by its size, never read). Each error is one
 * line naming the model file, the tensor or weight, and the path. Symlinks that stay inside the
 * folder keep working.
 */
import { execFileSync } from "node:child_process";
import { closeSync, ftruncateSync, mkdirSync, openSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { readModelFile } from "../../../converter/common/model-files.js";
import { convertOnnx } from "../../../converter/onnx/index.js";
import { convertTfjs, convertTfjsFile, shardsBeside, tfjsOracle } from "../../../converter/tfjs/index.js";
import { run } from "../../../lib/executor.js";
import { Tensor } from "../../../lib/tensor/tensor.js";
import { externalModel, floatBytes, hostileTree, tfjsModel } from "./hostile-models.js";

const FOUR_GIB = 2 ** 32;

/** A sparse file of `bytes` (no disk space, and reading it would take seconds and gigabytes). */
function sparse(path: string, bytes: number): void {
  const fd = openSync(path, "w");
  ftruncateSync(fd, bytes);
  closeSync(fd);
}

const tree = hostileTree();
const { model: dir } = tree;
writeFileSync(join(dir, "w.bin"), floatBytes([0.5, -2]));
writeFileSync(join(dir, "w3.bin"), floatBytes([0.5, -2, 7]));
mkdirSync(join(dir, "sub"));
symlinkSync("../w.bin", join(dir, "sub", "inner-link.bin"));
symlinkSync(tree.secret, join(dir, "link.bin"));
symlinkSync("../model-evil/secret.bin", join(dir, "evil-link.bin"));
symlinkSync("/dev/zero", join(dir, "zero.bin"));
sparse(join(dir, "huge.bin"), FOUR_GIB);
afterAll(() => rmSync(tree.root, { recursive: true, force: true }));

const onnxError = (entries: Record<string, string>) => () => convertOnnx(externalModel(entries), { baseDir: dir, source: "model.onnx" });
const where = (location: string) => `model.onnx: initializer 'w': external_data location '${location}'`;

describe("ONNX external_data is confined to the model's folder", () => {
  it("rejects absolute paths, '..' components and symlinks that leave the folder", () => {
    // Before the fix, these 8 bytes of /etc/passwd became the weights.
    expect(onnxError({ location: "/etc/passwd", offset: "0", length: "8" })).toThrow(`${where("/etc/passwd")} is outside the model's folder (an absolute path)`);
    expect(onnxError({ location: "/dev/zero", length: "8" })).toThrow(`${where("/dev/zero")} is outside the model's folder (an absolute path)`);
    expect(onnxError({ location: "../outside/secret.bin" })).toThrow(`${where("../outside/secret.bin")} is outside the model's folder (a '..' component)`);
    expect(onnxError({ location: "sub/../../../../../../dev/zero", length: "8" })).toThrow("is outside the model's folder (a '..' component)");
    expect(onnxError({ location: "sub\\..\\..\\outside\\secret.bin" })).toThrow("(a '..' component)");
    expect(onnxError({ location: "link.bin" })).toThrow(`${where("link.bin")} is outside the model's folder (it resolves to ${tree.secret})`);
    expect(onnxError({ location: "evil-link.bin" })).toThrow(`is outside the model's folder (it resolves to ${tree.evil})`);
    expect(onnxError({ location: "zero.bin", length: "8" })).toThrow(`${where("zero.bin")} is outside the model's folder (it resolves to /dev/zero)`);
  });

  it("reads only regular files", () => {
    expect(onnxError({ location: "sub" })).toThrow(`${where("sub")} is not a regular file (a directory)`);
    execFileSync("mkfifo", [join(dir, "pipe")]);
    // Opening a FIFO would block until a writer came: it must be refused by stat first.
    expect(onnxError({ location: "pipe", length: "8" })).toThrow(`${where("pipe")} is not a regular file`);
  });

  it("requires the range to hold exactly the tensor's bytes, checked before reading", () => {
    expect(onnxError({ location: "w3.bin" })).toThrow(`${where("w3.bin")} holds 12 bytes from offset 0 to its end, the tensor needs 8`);
    expect(onnxError({ location: "w3.bin", length: "12" })).toThrow(`${where("w3.bin")} holds 12 bytes (length), the tensor needs 8`);
    expect(onnxError({ location: "w3.bin", offset: "8", length: "8" })).toThrow(`${where("w3.bin")} has 12 bytes: offset 8 + length 8 runs past its end`);
    expect(onnxError({ location: "w3.bin", offset: "16" })).toThrow(`${where("w3.bin")} has 12 bytes: offset 16 is outside it`);
    expect(onnxError({ location: "w3.bin", offset: "-4" })).toThrow("model.onnx: initializer 'w': external_data offset '-4' is not a byte count");
    const start = performance.now();
    expect(onnxError({ location: "huge.bin" })).toThrow(`${where("huge.bin")} holds ${FOUR_GIB} bytes from offset 0 to its end, the tensor needs 8`);
    expect(performance.now() - start).toBeLessThan(2000);
    // dims that no file can back are refused by size too, without allocating them.
    expect(() => convertOnnx(externalModel({ location: "w.bin" }, [100000, 100000]), { baseDir: dir })).toThrow(`holds 8 bytes from offset 0 to its end, the tensor needs ${4e10}`);
  });

  it("still reads a good range, also through a symlink that stays inside", () => {
    const cases: Record<string, string>[] = [{ location: "w3.bin", offset: "4", length: "8" }, { location: "sub/inner-link.bin" }, { location: "./w.bin", offset: "0" }];
    for (const entries of cases) {
      const { graph } = convertOnnx(externalModel(entries), { baseDir: dir });
      const y = run(graph, { x: Tensor.fromFloat([2, 2], [2], 16) }).outputs.get("y")!;
      expect(Array.from(y.toFloat())).toEqual(entries.location === "w3.bin" ? [-4, 14] : [1, -4]);
    }
  });
});

/** Write model.json with these shard paths into the model folder; returns its path. */
function tfjsFile(name: string, paths: string[], shard?: { path: string; bytes: Uint8Array }): string {
  const m = tfjsModel(paths);
  if (shard) writeFileSync(join(dir, shard.path), shard.bytes);
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify(m.json));
  return path;
}

const shardWhere = (json: string, path: string) => `${join(dir, json)}: weight shard '${path}' (group 1, shard 1 of 1, weights 'k')`;

describe("TF.js weight shards are confined to the model's folder", () => {
  const good = tfjsModel(["k.bin"]).shard;
  writeFileSync(join(dir, "k.bin"), good);

  it("rejects absolute paths, '..' components and symlinks that leave the folder", () => {
    for (const [path, why] of [
      ["/etc/passwd", "(an absolute path)"],
      ["/dev/zero", "(an absolute path)"],
      ["../outside/secret.bin", "(a '..' component)"],
      ["../../../../../../../dev/zero", "(a '..' component)"],
      ["link.bin", `(it resolves to ${tree.secret})`],
      ["evil-link.bin", `(it resolves to ${tree.evil})`],
    ]) {
      const file = tfjsFile("escape.json", [path]);
      expect(() => convertTfjsFile(file)).toThrow(`${shardWhere("escape.json", path)} is outside the model's folder ${why}`);
    }
  });

  it("refuses a shard larger than the manifest's weights need by its size, before reading it", () => {
    const start = performance.now();
    expect(() => convertTfjsFile(tfjsFile("huge.json", ["huge.bin"]))).toThrow(`${shardWhere("huge.json", "huge.bin")} has ${FOUR_GIB} bytes, more than the 8 the manifest's remaining weights need`);
    expect(performance.now() - start).toBeLessThan(2000);
    expect(() => convertTfjsFile(tfjsFile("long.json", ["long.bin"], { path: "long.bin", bytes: floatBytes([1, 2, 3]) }))).toThrow(`${shardWhere("long.json", "long.bin")} has 12 bytes, more than the 8 the manifest's remaining weights need`);
    expect(() => convertTfjsFile(tfjsFile("short.json", ["short.bin"], { path: "short.bin", bytes: floatBytes([1]) }))).toThrow(/short\.json: weight shards of group 1 are short: weight 'k' \(float32 \[2\]\) needs bytes 0\.\.8 but the group holds 4/);
    expect(() => convertTfjsFile(tfjsFile("dir.json", ["sub"]))).toThrow(`${shardWhere("dir.json", "sub")} is not a regular file (a directory)`);
  });

  it("holds a loader of its own (shards in memory) to the same size bound", () => {
    const { json } = tfjsModel(["mem.bin"]);
    expect(() => convertTfjs(json, () => floatBytes([1, 2, 3]), { source: "mem.json" })).toThrow("mem.json: weight shard 'mem.bin' (group 1, shard 1 of 1, weights 'k') has 12 bytes, more than the 8 the manifest's remaining weights need");
    expect(() => convertTfjs(json, (_, request) => readModelFile(dir, "k.bin", request, request.where))).not.toThrow();
  });

  it("the float oracle reads shards through the same checks", async () => {
    const file = tfjsFile("oracle.json", ["../outside/secret.bin"]);
    await expect(tfjsOracle(tfjsModel(["../outside/secret.bin"]).json, shardsBeside(file), file)).rejects.toThrow("is outside the model's folder (a '..' component)");
  });

  it("still reads good shards, also through a symlink that stays inside", () => {
    symlinkSync("k.bin", join(dir, "k-link.bin"));
    for (const path of ["k.bin", "k-link.bin"]) {
      const { graph } = convertTfjsFile(tfjsFile("good.json", [path]));
      const y = run(graph, { x: Tensor.fromFloat([2, 2], [2], 16) }).outputs.get(graph.outputs[0])!;
      expect(Array.from(y.toFloat())).toEqual([1, -4]);
    }
  });
});

describe("readModelFile", () => {
  it("names the caller's context and the problem in one line", () => {
    expect(() => readModelFile(dir, "", {}, "ctx ''")).toThrow("ctx '' is empty");
    expect(() => readModelFile(dir, "C:\\Windows\\win.ini", {}, "ctx")).toThrow("ctx is outside the model's folder (an absolute path)");
    expect(() => readModelFile(dir, ".", {}, "ctx")).toThrow("ctx is not a regular file (it is the model's folder)");
    expect(() => readModelFile(dir, "nope.bin", {}, "ctx")).toThrow(`ctx cannot be read: no such file (looked for ${join(dir, "nope.bin")})`);
    expect(Array.from(readModelFile(dir, "w3.bin", { offset: 4, expectedBytes: 8 }, "ctx"))).toEqual(Array.from(floatBytes([-2, 7])));
  });
});
