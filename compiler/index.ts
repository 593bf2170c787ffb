/**
 * The compiler's public API: .detml to a detml WASM module, the provability lint, and the WASM
 * engine (compile on the fly with a cache, run on the fast path).
 */
export { compile, COMPILER_VERSION, type Build, type CompileOptions, type CompileResult, type CompileStats, type StageTime } from "./compile.js";
export { assertProvable, lintWasm, LintError, type LintViolation } from "./lint.js";
export {
  compileCached, defaultCacheDir, ENGINES, engineByName, openRunnable, signatureGraph, vmEngine, wasmEngine, wasmSampleRunner,
  type CacheOptions, type CachedModule, type EngineName, type RunnableModel,
} from "./engine.js";
