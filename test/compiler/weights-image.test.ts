/**
 * A model compiled with its weights outside the code (`weightsImage: "always"`, docs/abi.md
 * "Weights image"): the image is placed at a multiple of its padded size with no data segment in
 * its subtree, the manifest names its length and root, the module runs bit-identically to the
 * data-segment build on the reference executor, the JS engine and the VM, its model id is the one
 * the VM computes from the loaded image, a dispute over it is won by the honest side, and every
 * bad image (a flipped byte, a wrong length, missing, a symlink out of the folder, not a regular
 * file, a manifest naming a path) is refused with one line naming the file. Also: the fast build
 * shares the image and appends its large tables after Binaryen, `detml compile` writes the image
 * beside the module (and `detml lint` finds it there), an image's checked tree is cached under
 * the SHA-256 of its bytes, and a large image's tree hashed in two threads equals one thread's.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { execFileSync } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { compile } from "../../compiler/compile.js";
import { imagePaddedBytes, wantsImage, WEIGHTS_IMAGE_AUTO_BYTES } from "../../compiler/weights-image.js";
import { loadWasm, withManifest, type Manifest } from "../../abi/manifest.js";
import { packInputs } from "../../abi/tensors.js";
import { run } from "../../lib/executor.js";
import { Tensor } from "../../lib/tensor/tensor.js";
import { VmRunner, WasmRunner } from "../../runtime-wasm/index.js";
import { decodeModule, moduleId, proofBytes, Session, toHex, verifyProof } from "../../vm/index.js";
import { HonestView, modelId, modelRecordOf, runDispute } from "../../dispute/index.js";
import { buildMlp } from "../helpers/models.js";
import { runHandler } from "../helpers/cli.js";
import { compileCommand, lintCommand } from "../../bin/commands/compile.js";
import { encodeGraph } from "../../lib/graph/codec.js";
import { Rng } from "../helpers/random.js";

// This machine's cache of checked image trees, private to this test file.
process.env.DETML_CACHE_DIR = mkdtempSync(join(tmpdir(), "detml-weights-cache-"));

const model = buildMlp(11, [64, 512, 16]);
const image = compile(model.graph, { weightsImage: "always", weightsFile: "mlp.weights" });
const plain = compile(model.graph);
// The fast build repacks w1 (128 KiB) into a table: with an image it is appended after Binaryen.
const fast = compile(model.graph, { build: "fast", weightsImage: "always", weightsFile: "mlp.weights" });
const rng = new Rng(3);
const x = Tensor.fromFloat(Array.from({ length: 64 }, () => rng.normal()), [1, 64], model.graph.inputs[0].frac);

/** A folder holding the module as mlp.wasm and its image (or `imageBytes`) as the manifest names it. */
function moduleFolder(wasm = image.wasm, imageBytes: Uint8Array | null = image.weights!.bytes): string {
  const dir = mkdtempSync(join(tmpdir(), "detml-weights-"));
  writeFileSync(join(dir, "mlp.wasm"), wasm);
  if (imageBytes) writeFileSync(join(dir, "mlp.weights"), imageBytes);
  return dir;
}

/** The module with another manifest (the bytes before its detml section, then the new one). */
function withOtherManifest(manifest: Manifest): Uint8Array {
  const section = withManifest(new Uint8Array(0), image.manifest).length;
  return withManifest(image.wasm.slice(0, image.wasm.length - section), manifest);
}

/** Loading the folder's module must fail with one line naming `file`. */
function expectRefused(dir: string, file: string, why: RegExp): void {
  const path = join(dir, "mlp.wasm");
  let message = "";
  try {
    loadWasm(new Uint8Array(readFileSync(path)), path);
  } catch (e) {
    message = (e as Error).message;
  }
  expect(message).toMatch(why);
  expect(message).toContain(file);
  expect(message).not.toContain("\n");
}

describe("a module with a weights image", () => {
  it("places the image at a multiple of its padded size, outside every data segment, and names it in the manifest", () => {
    const w = image.manifest.weights!;
    const padded = imagePaddedBytes(w.bytes);
    expect(w).toMatchObject({ file: "mlp.weights", bytes: image.weights!.bytes.length, root: toHex(image.weights!.tree.root) });
    expect(w.offset % padded).toBe(0);
    expect(w.offset).toBeGreaterThanOrEqual(image.manifest.memory.arena + image.manifest.memory.peak);
    expect(image.manifest.memory.tables).toBe(w.offset + padded);
    const mod = decodeModule(image.wasm);
    for (const d of mod.data) expect(d.offset >= w.offset + padded || d.offset + d.bytes.length <= w.offset).toBe(true);
    // The weights are in the image, not in the code: the module shrinks by about their size.
    expect(plain.wasm.length - image.wasm.length).toBeGreaterThan(w.bytes * 0.9);
    expect(plain.manifest.weights).toBeUndefined();
  });

  it("gives the fast build the same image and appends its large tables after Binaryen", () => {
    expect(fast.manifest.weights).toEqual(image.manifest.weights);
    const tables = new WebAssembly.Module(fast.wasm as Uint8Array<ArrayBuffer>);
    expect(WebAssembly.Module.exports(tables).map((e) => e.name)).toContain("memory");
    // The repacked w1 is in the module (appended), the canonical w1 is not (in the image).
    const fastSegments = compile(model.graph, { build: "fast" });
    expect(fastSegments.wasm.length - fast.wasm.length).toBeGreaterThan(image.manifest.weights!.bytes * 0.9);
    expect(fast.wasm.length).toBeGreaterThan(64 * 512 * 4);
  });

  it("chooses an image by the mode and the weights' size", () => {
    expect([wantsImage("auto", WEIGHTS_IMAGE_AUTO_BYTES), wantsImage("auto", WEIGHTS_IMAGE_AUTO_BYTES + 1), wantsImage("always", 1), wantsImage("never", 2 ** 30), wantsImage("always", 0)])
      .toEqual([false, true, true, false, false]);
    expect(compile(model.graph, { weightsImage: "auto" }).manifest.weights).toBeUndefined();
  });

  it("runs bit-identically to the data-segment build on the reference, the JS engine and the VM", () => {
    const dir = moduleFolder();
    const path = join(dir, "mlp.wasm");
    const want = run(model.graph, { x }).outputs.get("y")!;
    const outputs = [
      new WasmRunner(loadWasm(image.wasm, path)).run({ x }).get("y")!,
      new VmRunner(image.wasm, path).run({ x }).get("y")!,
      new WasmRunner(loadWasm(plain.wasm)).run({ x }).get("y")!,
      new WasmRunner(loadWasm(image.wasm, "in memory", { weights: image.weights!.bytes })).run({ x }).get("y")!,
      new WasmRunner(loadWasm(fast.wasm, "in memory", { weights: fast.weights!.bytes })).run({ x }).get("y")!,
    ];
    for (const got of outputs) expect(Array.from(got.data)).toEqual(Array.from(want.data));
  });

  it("has the model id the VM computes from the loaded image, and disputes", () => {
    const w = image.manifest.weights!;
    const weights = { offset: w.offset, bytes: image.weights!.bytes }; // no tree: the VM hashes the image itself
    expect(toHex(moduleId(decodeModule(image.wasm, { weights })))).toBe(image.manifest.model_id);
    expect(image.manifest.model_id).not.toBe(plain.manifest.model_id);
    const input = packInputs(image.manifest.inputs, { x });
    const session = new Session(image.wasm, input, { weights, snapshotEvery: 1 << 12 });
    expect(toHex(modelId(modelRecordOf(session)))).toBe(image.manifest.model_id);
    // Proofs of steps that read weights check against the initial memory built from the image root.
    const op = 1; // op_0: the first MatMul, reading w1 from the image
    const steps = session.segmentSteps()[op];
    let imageReads = 0;
    for (let i = 0; i < 40; i++) {
      const step = Math.floor((i * steps) / 40);
      const proof = session.prove(op, step);
      expect(toHex(verifyProof(session.stateAt(op, step).hash, proofBytes(proof)))).toBe(toHex(session.stateAt(op, step + 1).hash));
      const leaves = proof.words.filter((p) => /^memory leaf \d+$/.test(p.label)).map((p) => Number(p.label.split(" ")[2]) * 32);
      if (leaves.some((a) => a >= w.offset && a < w.offset + w.bytes)) imageReads++;
    }
    expect(imageReads).toBeGreaterThan(0);
    const view = new HonestView(session);
    for (const cheat of [{ kind: "op" as const, op: 1 }, { kind: "output" as const }]) {
      expect(runDispute(view, { cheat })).toMatchObject({ challenged: true, winner: "challenger", conserved: true });
    }
  });

  it("refuses a bad image with one line naming the file", () => {
    const flipped = image.weights!.bytes.slice();
    flipped[Math.floor(flipped.length / 2)] ^= 1;
    expectRefused(moduleFolder(image.wasm, flipped), "mlp.weights", /root .* but the manifest names/);
    expectRefused(moduleFolder(image.wasm, image.weights!.bytes.slice(0, -1)), "mlp.weights", /has \d+ bytes, but mlp.wasm's manifest says \d+/);
    expectRefused(moduleFolder(image.wasm, null), "mlp.weights", /is missing/);

    const outside = moduleFolder(image.wasm, null);
    const elsewhere = mkdtempSync(join(tmpdir(), "detml-elsewhere-"));
    writeFileSync(join(elsewhere, "mlp.weights"), image.weights!.bytes);
    symlinkSync(join(elsewhere, "mlp.weights"), join(outside, "mlp.weights"));
    expectRefused(outside, "mlp.weights", /symlink out of the module's folder/);

    const folder = moduleFolder(image.wasm, null);
    mkdirSync(join(folder, "mlp.weights"));
    expectRefused(folder, "mlp.weights", /not a regular file/);
    const fifo = moduleFolder(image.wasm, null);
    execFileSync("mkfifo", [join(fifo, "mlp.weights")]);
    expectRefused(fifo, "mlp.weights", /not a regular file/);

    for (const file of ["../mlp.weights", "/etc/passwd", "sub/mlp.weights", "..\\mlp.weights", ".."]) {
      const pathed = withOtherManifest({ ...image.manifest, weights: { ...image.manifest.weights!, file } });
      expectRefused(moduleFolder(pathed), file, /not a plain file name/);
    }
  });

  it("checks an image's root once per machine: its tree is cached under the SHA-256 of its bytes", () => {
    const bytes = image.weights!.bytes;
    const record = join(process.env.DETML_CACHE_DIR!, "weights", `${createHash("sha256").update(bytes).digest("hex")}-${bytes.length}.tree`);
    loadWasm(image.wasm, join(moduleFolder(), "mlp.wasm"));
    expect(existsSync(record)).toBe(true);
    const stored = new Uint8Array(readFileSync(record));
    expect(toHex(stored.subarray(0, 32))).toBe(image.manifest.weights!.root);
    expect(toHex(stored.subarray(32))).toBe(toHex(image.weights!.tree.chunkRoots));
  });

  it("hashes a large image's tree in two threads (the built abi/image-tree.js and its worker), with one thread's result", () => {
    // The worker runs compiled JavaScript: run the built module in a child process, with the size threshold lowered.
    const script = `
      import { weightsImageTree } from "./dist/abi/image-tree.js";
      import { imageTree } from "./dist/vm/merkle.js";
      const bytes = new Uint8Array(2_000_003).map((_, i) => (i * 2654435761) >>> 24);
      const report = {};
      const two = weightsImageTree(bytes, 0, report);
      const one = imageTree("memoryLeaf", "memoryNode", bytes);
      const hex = (b) => Buffer.from(b).toString("hex");
      console.log(JSON.stringify({ threads: report.threads, same: hex(two.root) === hex(one.root) && hex(two.chunkRoots) === hex(one.chunkRoots) && two.depth === one.depth }));`;
    const out = JSON.parse(execFileSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8" }));
    expect(out).toEqual({ threads: 2, same: true });
  });

  it("is written by detml compile --weights-image beside the module, and lints clean there", async () => {
    const dir = mkdtempSync(join(tmpdir(), "detml-weights-cli-"));
    writeFileSync(join(dir, "m.detml"), encodeGraph(model.graph));
    const out = JSON.parse(await runHandler(compileCommand, { model: join(dir, "m.detml"), output: join(dir, "m.wasm"), fast: false, json: true, "weights-image": "always", target: "wasm" }));
    expect(out.weights).toMatchObject({ file: "m.weights", root: image.manifest.weights!.root });
    expect(new Uint8Array(readFileSync(join(dir, "m.weights")))).toEqual(image.weights!.bytes);
    expect(JSON.parse(await runHandler(lintCommand, { wasm: join(dir, "m.wasm"), json: true }))).toMatchObject({ provable: true });
  });

  it("accepts a symlink to an image inside the module's folder", () => {
    const dir = moduleFolder(image.wasm, null);
    writeFileSync(join(dir, "real.weights"), image.weights!.bytes);
    symlinkSync(join(dir, "real.weights"), join(dir, "mlp.weights"));
    expect(loadWasm(image.wasm, join(dir, "mlp.wasm")).weights?.offset).toBe(image.manifest.weights!.offset);
  });
});
