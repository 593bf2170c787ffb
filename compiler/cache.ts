/**
 * The compile cache: a .detml model's compiled module, cached on disk by source hash, compiler
 * version and build, so a model compiles once per machine. An entry is used only when it passes
 * the ABI's checks (abi/ loadWasm) and its manifest names the same source and build; entries are
 * written atomically. The engines that run the module live in verify/ (above the runtimes).
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadWasm } from "../abi/manifest.js";
import type { LoadedModel } from "../lib/model-files.js";
import { type Build, compile, COMPILER_VERSION, type CompileResult } from "./compile.js";

export interface CacheOptions {
  /** Directory of cached modules; null disables the cache. Default: $DETML_CACHE_DIR or <tmpdir>/detml-cache. */
  cacheDir?: string | null;
  build?: Build;
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
  const dir = options.cacheDir === undefined ? defaultCacheDir() : options.cacheDir;
  const path = dir === null ? undefined : join(dir, `${model.sourceHash}-c${COMPILER_VERSION}-${build}.wasm`);
  if (path) {
    try {
      const wasm = new Uint8Array(readFileSync(path));
      const { manifest } = loadWasm(wasm, path);
      if (manifest.source_hash === model.sourceHash && manifest.build === build) return { wasm, path };
    } catch {
      // Missing or unusable cache entry: compile below.
    }
  }
  // The graph and hash loadModel made: decoding and hashing a large .detml again costs seconds.
  const compiled = compile(model.graph, { build, source: model.path, sourceHash: model.sourceHash });
  if (path && dir) {
    mkdirSync(dir, { recursive: true });
    const temp = `${path}.${process.pid}.tmp`;
    writeFileSync(temp, compiled.wasm);
    renameSync(temp, path);
  }
  return { wasm: compiled.wasm, compiled, path };
}
