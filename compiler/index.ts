/**
 * The compiler's public API: .detml to a detml WASM module, the provability lint, statistics and
 * the compile cache. Compiling only: running a compiled module is runtime-wasm/'s and vm/'s, and
 * the list of engines is verify/'s.
 */
export { compile, COMPILER_VERSION, type Build, type CompileOptions, type CompileResult, type CompileStats, type StageTime } from "./compile.js";
export { assertProvable, lintWasm, LintError, type LintViolation } from "./lint.js";
export { parseStatePairs, StateError, type StatePair } from "./state.js";
export { compileCached, defaultCacheDir, type CacheOptions, type CachedModule } from "./cache.js";
