/**
 * Building the module from a schedule and a memory plan (docs/abi.md): the two host-call
 * imports, `load_inputs`, one `op_k` per segment (written by the op's emitter), `store_outputs`
 * (output copies, then the state copies that end a run of a module with state tensors),
 * `run`, a fixed-size exported memory with the weights and the compiler's tables as active data
 * segments (the weights only when they do not go to a weights image), the step budget as an
 * exported constant, and the manifest (appended as the `detml` custom section once the module's
 * id is known, by compile.ts). Tables are deduplicated by content and
 * placed in request order after the arena, so the same graph always gives the same layout.
 */
import { type Graph, nodeContext } from "../lib/graph/ir.js";
import { ABI_VERSION, LOAD_INPUTS, type Manifest, opExport, RUN, STORE_OUTPUTS } from "../abi/manifest.js";
import { CHUNK_BYTES, HOST_MODULE, READ_INPUT, WRITE_OUTPUT } from "../vm/spec/io.js";
import { type DataSegment, type ModuleBuilder } from "./binaryen.js";
import { emitterFor } from "./emit/index.js";
import { copyElements } from "./emit/loops.js";
import type { EmitContext, Operand } from "./emit/types.js";
import type { MemoryPlan } from "./plan.js";
import { type Schedule, segmentOutputs } from "./schedule.js";
import { MAX_MEMORY_PAGES, PAGE_BYTES, STEP_BUDGET_EXPORT } from "../vm/spec/limits.js";
import { APPENDED_TABLE_BYTES, storedBytes } from "./weights-image.js";

const TABLE_ALIGN = 16;

/** Read-only data placed after the arena, deduplicated by content. */
export class TablePool {
  readonly segments: DataSegment[] = [];
  private readonly byContent = new Map<string, number>();
  constructor(private end: number) {}

  place(data: Int32Array | BigInt64Array): number {
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice();
    const key = Buffer.from(bytes).toString("base64") + (data instanceof BigInt64Array ? "/64" : "/32");
    const known = this.byContent.get(key);
    if (known !== undefined) return known;
    const address = Math.ceil(this.end / TABLE_ALIGN) * TABLE_ALIGN;
    this.segments.push({ address, data: bytes });
    this.byContent.set(key, address);
    this.end = address + bytes.length;
    return address;
  }

  get size(): number {
    return this.end;
  }
}

/** Emit every op segment into `mb`; returns nothing, tables go to `pool`. */
export function emitSegments(mb: ModuleBuilder, graph: Graph, s: Schedule, plan: MemoryPlan, pool: TablePool, fast: boolean): void {
  const narrow = new Map(plan.weights.flatMap((w) => (w.storage ? [[w.name, w.storage] as const] : [])));
  const operand = (name: string): Operand => {
    const t = s.types.get(name)!;
    const address = plan.address.get(name);
    if (address === undefined) throw new Error(`internal: value '${name}' has no address`);
    return { shape: [...t.shape], frac: t.frac, address, values: s.constants.get(name)?.data, storage: narrow.get(name) };
  };
  s.segments.forEach((seg, k) => {
    mb.addFunction(opExport(k), (f) => {
      const ctx: EmitContext = {
        f,
        attrs: seg.attrs,
        inputs: seg.node.inputs.map((v) => (v === "" ? undefined : operand(v))),
        outputs: segmentOutputs(seg).map(operand),
        frac: nodeContext(graph, seg.node).frac,
        fast,
        table: (data) => pool.place(data),
        activation: seg.activation?.fused,
      };
      try {
        return emitterFor(seg.node.op).emit(ctx);
      } catch (e) {
        throw new Error(`node '${seg.node.name}' (${seg.node.op}): ${(e as Error).message}`);
      }
    });
  });
}

/** load_inputs, store_outputs and run. */
export function emitInputOutput(mb: ModuleBuilder, s: Schedule, plan: MemoryPlan): void {
  mb.importFunction(READ_INPUT, HOST_MODULE, 2);
  mb.importFunction(WRITE_OUTPUT, HOST_MODULE, 1);
  const chunks = (region: { offset: number; bytes: number }[]) =>
    Math.ceil(region.reduce((n, r) => n + r.bytes, 0) / CHUNK_BYTES);
  const { input, output } = plan.regions;
  mb.addFunction(LOAD_INPUTS, (f) => [f.loop(chunks(plan.inputs), (i) => [
    f.call(READ_INPUT, [f.get(i), f.i32Add(f.i32Shl(f.get(i), f.i32Const(5)), f.i32Const(input))]),
  ])]);
  // Output copies first: an output that shows a state input shows it as this run read it.
  mb.addFunction(STORE_OUTPUTS, (f) => [
    ...[...plan.outputCopies, ...plan.stateCopies].flatMap((c) => copyElements(f, c.to, c.from, c.elements)),
    f.loop(chunks(plan.outputs), (i) => [f.call(WRITE_OUTPUT, [f.i32Add(f.i32Shl(f.get(i), f.i32Const(5)), f.i32Const(output))])]),
  ]);
  mb.addFunction(RUN, (f) => [LOAD_INPUTS, ...s.segments.map((_, k) => opExport(k)), STORE_OUTPUTS].map((name) => f.call(name, [])));
}

/** Memory, data segments and the manifest; returns the manifest and the tables to append after Binaryen. */
export function finishModule(mb: ModuleBuilder, graph: Graph, s: Schedule, plan: MemoryPlan, pool: TablePool,
  sourceHash: string, build: Manifest["build"], stepBudget: number): { manifest: Manifest; appended: DataSegment[] } {
  // With a weights image the weights are not data segments (compile.ts writes the image).
  const weights: DataSegment[] = plan.image ? [] : plan.weights.map((w) => ({ address: w.address, data: storedBytes(s.constants.get(w.name)!, w.storage) }));
  const end = pool.size;
  const pages = Math.max(1, Math.ceil(end / PAGE_BYTES));
  if (pages > MAX_MEMORY_PAGES) {
    throw new Error(`the model needs ${Math.ceil(end / 2 ** 20)} MiB of linear memory, more than the VM's ${MAX_MEMORY_PAGES * PAGE_BYTES / 2 ** 20} MiB`);
  }
  // With an image, Binaryen gets only the small tables; the large ones are appended to its binary (compile.ts).
  const appended = plan.image ? pool.segments.filter((t) => t.data.length >= APPENDED_TABLE_BYTES) : [];
  mb.setMemory(pages, [...weights, ...pool.segments.filter((t) => !appended.includes(t))]);
  mb.addConstantGlobal(STEP_BUDGET_EXPORT, BigInt(stepBudget));
  const manifest: Manifest = {
    abi: ABI_VERSION,
    model_id: null, // the module's own hash, set once its bytes exist (compile.ts)
    source_hash: sourceHash,
    step_budget: stepBudget,
    build,
    frac: graph.frac,
    inputs: plan.inputs,
    outputs: plan.outputs,
    ...(plan.state.length > 0 && { state: plan.state }),
    ops: s.segments.map((seg, k) => ({
      segment: k + 1,
      export: opExport(k),
      nodes: seg.covers.map((n) => n.name),
      kinds: seg.covers.map((n) => n.op),
    })),
    memory: {
      pages,
      input: plan.regions.input,
      output: plan.regions.output,
      weights: plan.regions.weights,
      arena: plan.regions.arena,
      tables: plan.regions.tables,
      peak: plan.regions.arenaPeak,
      end,
    },
  };
  return { manifest, appended };
}
