/**
 * `compile()`: a .detml graph to a detml WASM module, as a list of named stages run in order,
 * each timed: validate (shape inference), schedule (fold constants, drop dead nodes, fuse,
 * form segments), plan (memory; the state pairs, checked, get buffers of their own), emit (one
 * function per segment), assemble (I/O functions, memory, data, step budget, manifest), check (Binaryen's validator), optimize (Binaryen, fixed
 * levels), binary, lint (the provable subset, canonical build only), image (the weights image's
 * bytes and subtree, hashed once, when the weights go outside the code: `weightsImage`), identify
 * (the manifest, naming the module's own id, appended as a custom section). Same graph bytes,
 * same module bytes (and image bytes).
 * The FAST build shares the plan and lays out the canonical build's tables first, so its memory
 * is the canonical memory plus fast-only tables after it, then the scratch memory of its kernels.
 */
import { decodeGraph, encodeGraph, sourceHash } from "../lib/graph/codec.js";
import type { Graph } from "../lib/graph/ir.js";
import { inferTypes } from "../lib/graph/validate.js";
import type { TensorType } from "../lib/ops/op.js";
import { graphStats } from "../lib/graph/stats.js";
import { withManifest, type Manifest } from "../abi/manifest.js";
import { decodeModule } from "../vm/decode.js";
import { toHex } from "../vm/spec/hash.js";
import { moduleId, rememberModuleId } from "../vm/identity.js";
import { DEFAULT_STEP_BUDGET, MAX_STEP_BUDGET, stepBudgetRefusal } from "../vm/spec/limits.js";
import { emitInputOutput, emitSegments, finishModule, TablePool } from "./assemble.js";
import { ModuleBuilder, type DataSegment } from "./binaryen.js";
import { assertProvable } from "./lint.js";
import { type MemoryPlan, planMemory } from "./plan.js";
import { schedule, type Schedule } from "./schedule.js";
import { StateError, type StatePair } from "./state.js";
import { appendDataSegments, compileWeightsImage, imageBytes, wantsImage, type CompiledWeightsImage, type WeightsImageMode } from "./weights-image.js";

export type Build = Manifest["build"];

/** Bumped whenever the generated code may change, so cached modules (cache.ts) are recompiled. */
export const COMPILER_VERSION = 6;

export interface CompileOptions {
  /** "canonical" (default): the provable scalar module; "fast": SIMD allowed, for the JS engine only. */
  build?: Build;
  /** Run Binaryen's optimizer (default true). */
  optimize?: boolean;
  /** Name used in error messages. */
  source?: string;
  /** Also check that no expression node is shared between two parents (slow; for tests). */
  strict?: boolean;
  /** Also return the optimized module as WebAssembly text. */
  text?: boolean;
  /** Steps a segment may execute in the VM (default: stepBudgetFor(graph)). */
  stepBudget?: number;
  /** Weights outside the code (docs/abi.md, "Weights image"): "never" (default), "always", or "auto" (above 16 MiB). */
  weightsImage?: WeightsImageMode;
  /** The image's file name in the manifest (beside the module; default "model.weights"). */
  weightsFile?: string;
  /**
   * The keccak256 of the .detml bytes, when the caller already has it (lib/model-files.ts
   * loadModel does): a Graph is otherwise encoded, and bytes hashed, again (12 s for 330 MiB).
   */
  sourceHash?: string;
  /**
   * State tensors (docs/abi.md, "State"): each pair's input is kept in module memory and
   * replaced by its output at the end of every run, outside the I/O streams (a key/value cache:
   * `[{ input: "past", output: "present" }]`).
   */
  state?: readonly StatePair[];
  /** Called as each stage starts (progress lines). */
  onStage?: (stage: string) => void;
}

export interface StageTime {
  stage: string;
  ms: number;
}

export interface CompileStats {
  wasmBytes: number;
  /** Bytes of the arena in use at once (the activation memory plan's peak). */
  peakBytes: number;
  /** Total linear memory in use (input, output, weights, arena, tables). */
  memoryBytes: number;
  /** Bytes of the weights image (0 without one). */
  weightsBytes: number;
  segments: number;
  nodes: number;
  folded: number;
  stages: StageTime[];
  totalMs: number;
}

export interface CompileResult {
  wasm: Uint8Array;
  /** The module as WebAssembly text, when asked for. */
  text?: string;
  manifest: Manifest;
  /** The weights image, to be written beside the module under `manifest.weights.file`. */
  weights?: CompiledWeightsImage;
  stats: CompileStats;
}

interface State {
  graph: Graph;
  sourceHash: string;
  build: Build;
  stepBudget: number;
  types?: Map<string, TensorType>;
  schedule?: Schedule;
  plan?: MemoryPlan;
  module?: ModuleBuilder;
  pool?: TablePool;
  manifest?: Manifest;
  wasm?: Uint8Array;
  text?: string;
  image?: CompiledWeightsImage;
  /** Large tables appended to the binary after Binaryen (with a weights image). */
  appended?: DataSegment[];
}

interface Stage {
  name: string;
  run(st: State, options: CompileOptions): void;
}

const STAGES: readonly Stage[] = [
  { name: "validate", run: (st) => { st.types = inferTypes(st.graph); } },
  { name: "schedule", run: (st) => { st.schedule = schedule(st.graph, st.types!); } },
  {
    name: "plan",
    run: (st, o) => {
      const state = o.state ?? [];
      try {
        st.plan = planMemory(st.graph, st.schedule!, false, state);
      } catch (e) {
        if (e instanceof StateError) throw new StateError(`${o.source ?? "model"}: ${e.message}`);
        throw e;
      }
      const weightBytes = st.plan.regions.arena - st.plan.regions.weights;
      if (wantsImage(o.weightsImage ?? "never", weightBytes)) st.plan = planMemory(st.graph, st.schedule!, true, state);
    },
  },
  {
    name: "emit",
    run: (st) => {
      const pool = new ScratchAfterTables(st.plan!.regions.tables);
      st.pool = pool;
      if (st.build === "fast") reserveCanonicalTables(st);
      st.module = new ModuleBuilder({ simd: st.build === "fast" });
      emitSegments(st.module, st.graph, st.schedule!, st.plan!, st.pool, st.build === "fast");
      if (st.module.scratchBytes > 0) st.module.placeScratch(pool.reserveScratch(st.module.scratchBytes));
    },
  },
  {
    name: "assemble",
    run: (st) => {
      emitInputOutput(st.module!, st.schedule!, st.plan!);
      ({ manifest: st.manifest, appended: st.appended } = finishModule(st.module!, st.graph, st.schedule!, st.plan!, st.pool!, st.sourceHash, st.build, st.stepBudget));
    },
  },
  { name: "check", run: (st, o) => st.module!.validate(o.strict ?? false) },
  // Level 2: the generated code runs as fast as at level 3 (measured on the fixtures), and
  // Binaryen spends a third less time.
  { name: "optimize", run: (st, o) => { if (o.optimize !== false) st.module!.optimize(2, 0); } },
  {
    name: "binary",
    run: (st, o) => {
      st.wasm = appendDataSegments(st.module!.emitBinary(), st.appended ?? []);
      if (o.text) st.text = st.module!.text();
    },
  },
  { name: "lint", run: (st, o) => { if (st.build === "canonical") assertProvable(st.wasm!, o.source ?? "the compiled module"); } },
  {
    name: "image",
    run: (st, o) => {
      const image = st.plan!.image;
      if (!image) return;
      const weights = st.plan!.weights.map((w) => ({ ...w, tensor: st.schedule!.constants.get(w.name)! }));
      st.image = compileWeightsImage(o.weightsFile ?? "model.weights", image.offset, imageBytes(weights, image.offset, image.bytes));
    },
  },
  {
    // The manifest names the module's own id, which covers everything but custom sections.
    name: "identify",
    run: (st) => {
      const image = st.image;
      const mod = st.build === "canonical" ? decodeModule(st.wasm!, { weights: image }) : undefined;
      const id = mod ? moduleId(mod) : undefined;
      const weights = image && { file: image.file, offset: image.offset, bytes: image.bytes.length, root: toHex(image.tree.root) };
      const manifest: Manifest = { ...st.manifest!, model_id: id ? toHex(id) : null, ...(weights && { weights }) };
      st.manifest = manifest;
      st.wasm = withManifest(st.wasm!, manifest);
      if (id) rememberModuleId(st.wasm, st.stepBudget, id, mod!.weights); // its loaders need not hash the memory tree again
    },
  },
];

/**
 * The default step budget: at least DEFAULT_STEP_BUDGET, and 64 steps per multiply-accumulate or
 * element of the largest op (an estimate: the canonical kernels take about 5-15 steps per MAC),
 * rounded up to a power of two. A run that exceeds it traps STEP_LIMIT in the VM, never
 * unsoundly; `--step-budget` sets another.
 */
export function stepBudgetFor(graph: Graph): number {
  const stats = graphStats(graph);
  const work = Math.max(0, ...stats.nodes.map((n) => n.macs + n.outputs.reduce((a, o) => a + o.shape.reduce((p, d) => p * d, 1), 0)));
  let budget = DEFAULT_STEP_BUDGET;
  while (budget < 64 * work && budget * 2 <= MAX_STEP_BUDGET) budget *= 2;
  return budget;
}

/**
 * The table pool, plus the FAST build's scratch memory (FunctionBuilder.scratch; emit/dot16.ts)
 * after every table: zero-initialised bytes that no data segment holds, so the memory up to the
 * canonical end, which the fast build shares with the canonical one, never includes them.
 */
class ScratchAfterTables extends TablePool {
  /** Bytes after the tables' end: the alignment, then the scratch. */
  private reserved = 0;

  /** Reserve `bytes` after the tables (once, when every table is placed); returns their 16-byte aligned address. */
  reserveScratch(bytes: number): number {
    const address = Math.ceil(super.size / 16) * 16;
    this.reserved = address + bytes - super.size;
    return address;
  }

  override get size(): number {
    return super.size + this.reserved;
  }
}

/**
 * The canonical build's tables, placed first: emit the canonical segments into a scratch module
 * only to make the same table requests in the same order.
 */
function reserveCanonicalTables(st: State): void {
  const scratch = new ModuleBuilder({ simd: false });
  try {
    emitSegments(scratch, st.graph, st.schedule!, st.plan!, st.pool!, false);
  } finally {
    scratch.dispose();
  }
}

/** Compile .detml bytes (or a Graph) to a WASM module. */
export function compile(input: Uint8Array | Graph, options: CompileOptions = {}): CompileResult {
  const started = performance.now();
  const source = options.source ?? "model";
  const graph = input instanceof Uint8Array ? decodeGraph(input, source) : input;
  const hash = options.sourceHash ?? sourceHash(input instanceof Uint8Array ? input : encodeGraph(input));
  const budget = options.stepBudget ?? stepBudgetFor(graph);
  const refused = stepBudgetRefusal(budget);
  if (refused) throw new Error(`${source}: ${refused}`);
  const st: State = { graph, sourceHash: hash, build: options.build ?? "canonical", stepBudget: budget };
  const stages: StageTime[] = [];
  try {
    for (const stage of STAGES) {
      const t0 = performance.now();
      options.onStage?.(stage.name);
      stage.run(st, options);
      stages.push({ stage: stage.name, ms: performance.now() - t0 });
    }
  } finally {
    st.module?.dispose();
  }
  const s = st.schedule!;
  return {
    wasm: st.wasm!,
    text: st.text,
    manifest: st.manifest!,
    weights: st.image,
    stats: {
      wasmBytes: st.wasm!.length,
      peakBytes: st.plan!.regions.arenaPeak,
      memoryBytes: st.manifest!.memory.end,
      weightsBytes: st.image?.bytes.length ?? 0,
      segments: s.segments.length,
      nodes: graph.nodes.length,
      folded: s.folded,
      stages,
      totalMs: performance.now() - started,
    },
  };
}
