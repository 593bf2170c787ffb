/**
 * Benchmark of the memory Merkle tree (vm/merkle.ts) over 64 MiB, 256 MiB and 1 GiB of data.
 * One process per size builds a tree over zero memory, syncs it after a first "segment" wrote
 * 1/16 of the memory (random 64 KiB blocks), with no change, after a dense change (16 MiB
 * rewritten) and after a sparse one (one byte per 64 KiB), then times paths and setLeafs of
 * random leaves; another builds a tree over the memory after the first segment (its root must
 * equal the synced one). Each reports its peak RSS over the data's (process maxRSS minus the RSS
 * once the data is allocated and touched), so the tree's own. `--impl FILE` runs another build
 * of the tree with the same API next to this one, e.g. the old all-levels tree compiled from git
 * history: the roots must be equal. Prints a table.
 *
 * Run: npx tsc -p bench && node dist/bench/merkle.js [--impl /path/to/merkle.js] [--sizes 64,256,1024]
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { toHex } from "../vm/spec/hash.js";
import type { MerkleTree } from "../vm/merkle.js";

type TreeClass = new (leafPrefix: "memoryLeaf", nodePrefix: "memoryNode", data: Uint8Array) => MerkleTree;

interface SyncResult {
  root: string;
  buildZeroMs: number;
  firstSyncMs: number;
  syncSameMs: number;
  syncDenseMs: number;
  syncSparseMs: number;
  pathUs: number;
  setLeafUs: number;
  peakMiB: number;
}

interface BuildResult {
  root: string;
  buildMs: number;
  peakMiB: number;
}

const MiB = 1024 * 1024;

/** Deterministic pseudo-random words (xorshift32) into data[from, to). */
function scribble(data: Uint8Array, from: number, to: number, seed: number): void {
  const w = new Int32Array(data.buffer, data.byteOffset + from, (to - from) >> 2);
  let x = seed | 1;
  for (let i = 0; i < w.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    w[i] = x;
  }
}

/** The first segment's writes: every 16th 64 KiB block random. */
function firstSegment(data: Uint8Array): void {
  for (let at = 0, k = 0; at < data.length; at += 64 * 1024, k++) if (k % 16 === 0) scribble(data, at, at + 64 * 1024, k + 1);
}

function time(f: () => void): number {
  const t = performance.now();
  f();
  return performance.now() - t;
}

/** A touched data buffer (its RSS is the baseline; the tree's comes on top) and that baseline. */
function touchedData(mib: number): [Uint8Array, number] {
  const data = new Uint8Array(mib * MiB);
  data.fill(1);
  data.fill(0);
  return [data, process.memoryUsage().rss];
}

/** Peak RSS over the baseline, MiB. */
function peakOver(baseline: number): number {
  return (process.resourceUsage().maxRSS * 1024 - baseline) / MiB;
}

/** Build over zero memory, then the syncs, paths and setLeafs a session does. */
function syncRun(Tree: TreeClass, mib: number): SyncResult {
  const [data, baseline] = touchedData(mib);
  let tree: MerkleTree | undefined;
  const buildZeroMs = time(() => (tree = new Tree("memoryLeaf", "memoryNode", data)));
  const t = tree!;
  firstSegment(data);
  const firstSyncMs = time(() => t.sync(data));
  const root = toHex(t.root());
  const syncSameMs = time(() => t.sync(data));
  scribble(data, data.length / 4, data.length / 4 + 16 * MiB, 7);
  const syncDenseMs = time(() => t.sync(data));
  for (let at = 12345; at < data.length; at += 64 * 1024) data[at] ^= 0x5a;
  const syncSparseMs = time(() => t.sync(data));
  const leaves = data.length / 32, n = 2000;
  let x = 99;
  const next = () => (x = (x * 1103515245 + 12345) % 2147483648) % leaves;
  const pathUs = (time(() => { for (let i = 0; i < n; i++) t.path(next()); }) * 1000) / n;
  const setLeafUs = (time(() => {
    for (let i = 0; i < n; i++) {
      const leaf = next();
      (t as Partial<MerkleTree>).pin?.(leaf); // the prover's pattern (the old tree had no pin: it kept a copy)
      data[leaf * 32] ^= 1;
      t.setLeaf(leaf, data.subarray(leaf * 32, leaf * 32 + 32));
    }
  }) * 1000) / n;
  return { root, buildZeroMs, firstSyncMs, syncSameMs, syncDenseMs, syncSparseMs, pathUs, setLeafUs, peakMiB: peakOver(baseline) };
}

/** Build over the memory after the first segment (its root must equal the synced tree's). */
function buildRun(Tree: TreeClass, mib: number): BuildResult {
  const [data, baseline] = touchedData(mib);
  firstSegment(data);
  let tree: MerkleTree | undefined;
  const buildMs = time(() => (tree = new Tree("memoryLeaf", "memoryNode", data)));
  return { root: toHex(tree!.root()), buildMs, peakMiB: peakOver(baseline) };
}

function runChild(impl: string, mode: string, mib: number): unknown {
  const r = spawnSync(process.execPath, ["--max-old-space-size=8192", fileURLToPath(import.meta.url), "--child", impl, mode, String(mib)], { encoding: "utf8", maxBuffer: 1 << 20 });
  if (r.status !== 0) throw new Error(`${impl} (${mode}) at ${mib} MiB failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

function main(): void {
  const args = process.argv.slice(2);
  const opt = (name: string) => (args.indexOf(name) >= 0 ? args[args.indexOf(name) + 1] : undefined);
  const sizes = (opt("--sizes") ?? "64,256,1024").split(",").map(Number);
  const impls = [new URL("../vm/merkle.js", import.meta.url).href, ...(opt("--impl") ? [new URL(opt("--impl")!, `file://${process.cwd()}/`).href] : [])];
  const f = (v: number) => (v >= 100 ? v.toFixed(0) : v.toFixed(1));
  console.log("impl | MiB | peak RSS over data (build; syncs) MiB | build zero ms | 1st sync (1/16 written) ms | build (1/16 random) ms | sync same ms | sync dense 16 MiB ms | sync sparse ms | path us | setLeaf us");
  for (const mib of sizes) {
    const roots = new Set<string>();
    for (const impl of impls) {
      const s = runChild(impl, "sync", mib) as SyncResult, b = runChild(impl, "build", mib) as BuildResult;
      roots.add(s.root).add(b.root);
      console.log([impl === impls[0] ? "current" : impl, mib, `${f(b.peakMiB)}; ${f(s.peakMiB)}`, f(s.buildZeroMs), f(s.firstSyncMs), f(b.buildMs), f(s.syncSameMs),
        f(s.syncDenseMs), f(s.syncSparseMs), f(s.pathUs), f(s.setLeafUs)].join(" | "));
    }
    if (roots.size !== 1) throw new Error(`roots differ at ${mib} MiB (synced vs built, or between implementations)`);
  }
  console.log(`roots equal (synced and built${impls.length > 1 ? ", both implementations" : ""}) at ${sizes.join(", ")} MiB`);
}

if (process.argv[2] === "--child") {
  const [impl, mode, mib] = process.argv.slice(3);
  const { MerkleTree: Tree } = (await import(impl)) as { MerkleTree: TreeClass };
  console.log(JSON.stringify(mode === "sync" ? syncRun(Tree, Number(mib)) : buildRun(Tree, Number(mib))));
} else {
  main();
}
