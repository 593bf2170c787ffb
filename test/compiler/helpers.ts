/**
 * Differential-test helpers: compile a graph (canonical, or FAST), run it in the JS engine (or
 * the rollup VM) and compare every output with the reference executor byte for byte. `expectCasesMatch` packs
 * many random one-node cases into ONE graph (independent inputs and outputs), so one compile
 * covers dozens of shapes and attribute sets.
 */
import { expect } from "vitest";
import { compile, type Build } from "../../compiler/compile.js";
import { run } from "../../lib/executor.js";
import { GraphBuilder } from "../../lib/graph/builder.js";
import type { Graph } from "../../lib/graph/ir.js";
import type { AttrValue } from "../../lib/ops/op.js";
import type { Tensor } from "../../lib/tensor/tensor.js";
import { loadWasm, WasmRunner } from "../../runtime-wasm/index.js";
import { VmRunner } from "../../runtime-wasm/vm-runner.js";
import { rawTensor } from "../ops/arith-random.js";
import { Rng } from "../helpers/random.js";

/**
 * Compile `graph`, run it on `inputs` and expect outputs bit-identical to the reference. With
 * build "fast", also compile the canonical build and expect the fast build's memory to equal the
 * canonical memory (up to the canonical end) at every segment boundary.
 */
export function expectWasmMatchesReference(graph: Graph, inputs: Record<string, Tensor>, build: Build = "canonical"): void {
  const expected = run(graph, inputs).outputs;
  const { wasm } = compile(graph, { build, strict: true });
  const boundaries: Uint8Array[] = [];
  const actual = new WasmRunner(loadWasm(wasm)).run(inputs, (_, memory) => boundaries.push(memory.slice()));
  for (const [name, want] of expected) expectSameTensor(actual.get(name)!, want, name);
  if (build === "fast") {
    const canonical = compile(graph);
    const end = canonical.manifest.memory.end;
    new WasmRunner(loadWasm(canonical.wasm)).run(inputs, (k, memory) => {
      const fast = boundaries[k].subarray(0, end);
      const firstDiff = memory.subarray(0, end).findIndex((b, i) => b !== fast[i]);
      expect(firstDiff, `memory differs at boundary ${k}, byte ${firstDiff}`).toBe(-1);
    });
  }
}

/** Run the canonical build of `graph` in the rollup VM and expect the reference's outputs. */
export function expectVmMatchesReference(graph: Graph, inputs: Record<string, Tensor>): void {
  const vm = new VmRunner(compile(graph).wasm).run(inputs);
  for (const [name, want] of run(graph, inputs).outputs) expectSameTensor(vm.get(name)!, want, `${name} in the VM`);
}

export function expectSameTensor(got: Tensor, want: Tensor, name: string): void {
  expect(got.shape, `${name} shape`).toEqual(want.shape);
  expect(got.frac, `${name} frac`).toBe(want.frac);
  const firstDiff = want.data.findIndex((v, i) => v !== got.data[i]);
  expect(firstDiff, `${name}: first differing element (want ${want.data[firstDiff]}, got ${got.data[firstDiff]})`).toBe(-1);
}

/** What one random case may do: declare inputs (random values) and constants, add one op. */
export class CaseBuilder {
  readonly values: Record<string, Tensor> = {};
  accepted = 0;
  private count = 0;
  constructor(readonly g: GraphBuilder, readonly rng: Rng) {}

  /** A graph input with random raw values (small to extreme) at `frac`. */
  input(shape: number[], frac = 16, values?: Tensor): string {
    const name = `in${this.count++}`;
    const t = values ?? rawTensor(this.rng, shape, frac, 0.05);
    this.g.input(name, t.shape, t.frac);
    this.values[name] = t;
    return name;
  }

  constant(t: Tensor): string {
    return this.g.constant(`c${this.count++}`, t);
  }

  /** A tensor operand that is a runtime input or a compile-time constant, at random. */
  operand(t: Tensor): string {
    return this.rng.next() < 0.5 ? this.constant(t) : this.input([...t.shape], t.frac, t);
  }

  /** Add the op and mark its outputs as graph outputs; a rejected random attribute set is skipped. */
  op(kind: string, inputs: string[], attrs: Record<string, AttrValue> = {}, outputs?: number): boolean {
    let names: string[];
    try {
      names = this.g.op(kind, inputs, attrs, { name: `n${this.count++}_${kind}` });
    } catch {
      return false;
    }
    this.g.output(...names.slice(0, outputs ?? names.length));
    this.accepted++;
    return true;
  }
}

/**
 * Build `cases` random cases with `add` into one graph (seeded, at graph frac `frac`), compile
 * it and expect every output bit-identical to the reference. Returns how many cases were accepted.
 */
export function expectCasesMatch(seed: number, cases: number, add: (c: CaseBuilder) => void, build: Build = "canonical", frac?: number): number {
  const rng = new Rng(seed);
  const g = new GraphBuilder({ frac });
  const c = new CaseBuilder(g, rng);
  for (let i = 0; i < cases; i++) add(c);
  expect(c.accepted, "no random case was accepted").toBeGreaterThan(0);
  expectWasmMatchesReference(g.build(), c.values, build);
  return c.accepted;
}
