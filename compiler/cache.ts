/**
 * The compile cache: a .detml model's compiled module, cached on disk by source hash, compiler
 * version, build and state pairs, so a model compiles once per machine. An entry is used only when it passes
 * the ABI's checks (abi/ loadWasm) and its manifest names the same source and build; entries are
 * written atomically. The engines that run the module live in verify/ (above the runtimes).
 */
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadWasm } from "../abi/manifest.js";
import type { LoadedModel } from "../lib/model-files.js";
import { type Build, compile, COMPILER_VERSION, type CompileResult } from "./compile.js";
import type { StatePair } from "./state.js";

export interface CacheOptions {
  /** Directory of cached modules; null disables the cache. Default: $DETML_CACHE_DIR or <tmpdir>/detml-cache. */
  cacheDir?: string | null;
  build?: Build;
  /** State pairs to compile with (compiler/state.ts); part of the cache key. */
  state?: readonly StatePair[];
}

export function defaultCacheDir(): string {
  return process.env.DETML_CACHE_DIR || join(tmpdir(), "detml-cache");
}

export interface CachedModule {
  wasm: Uint8Array;
  /** Present when this call compiled the module (not read from the cache). */
  compiled?: CompileResult;
  path?: string;
}

/**
 * The compiled module of a model, from the cache when a valid entry exists (its manifest must
 * name the same model id and build), else compiled now and stored (written atomically).
 */
export function compileCached(model: LoadedModel, options: CacheOptions = {}): CachedModule {
  const build = options.build ?? "canonical";
  const state = options.state ?? [];
  const dir = options.cacheDir === undefined ? defaultCacheDir() : options.cacheDir;
  // Value names may hold any character: the pairs enter the file name only through a hash.
  const stateKey = state.length === 0 ? "" : `-s${createHash("sha256").update(JSON.stringify(state)).digest("hex").slice(0, 16)}`;
  const path = dir === null ? undefined : join(dir, `${model.sourceHash}-c${COMPILER_VERSION}-${build}${stateKey}.wasm`);
  if (path) {
    try {
      const wasm = new Uint8Array(readFileSync(path));
      const { manifest } = loadWasm(wasm, path);
      const sameState = JSON.stringify((manifest.state ?? []).map((s) => ({ input: s.input, output: s.output }))) === JSON.stringify(state.map((s) => ({ input: s.input, output: s.output })));
      if (manifest.source_hash === model.sourceHash && manifest.build === build && sameState) return { wasm, path };
    } catch {
      // Missing or unusable cache entry: compile below.
    }
  }
  // The graph and hash loadModel made: decoding and hashing a large .detml again costs seconds.
  const compiled = compile(model.graph, { build, source: model.path, sourceHash: model.sourceHash, state });
  if (path && dir) {
    mkdirSync(dir, { recursive: true });
    const temp = `${path}.${process.pid}.tmp`;
    writeFileSync(temp, compiled.wasm);
    renameSync(temp, path);
  }
  return { wasm: compiled.wasm, compiled, path };
}
